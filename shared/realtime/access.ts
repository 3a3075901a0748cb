import { can } from "../rbac/matrix";
import {
  type Audience,
  type AudienceKind,
  audienceKind,
  REALTIME_CHANNELS,
  type RealtimeChannel,
  type RealtimeRole,
  streamName,
} from "./protocol";

/**
 * Who sees what on a community's realtime connection, in one place.
 *
 * - Channels by role: every member sees community signals and their own notifications; members who can trade
 *   (everyone but a viewer) also see their own orders and portfolio. Operators may hold every channel, where they
 *   get what admins get.
 * - Audiences: an event for one member reaches only that member's sockets; an event for admins (aggregates) only
 *   the sockets of roles the role matrix lets see every member's orders (`orders.view_all`) and operators'; a community event every member subscribed to its channel.
 * - Which audiences a channel carries: orders and portfolio are personal (one member, or aggregates for admins),
 *   never broadcast to the community; signals are for the community (or admins); notifications may be any.
 */

const EVERY_CHANNEL = REALTIME_CHANNELS;
const WITHOUT_TRADING: readonly RealtimeChannel[] = ["signals", "notifications"];

export const CHANNELS_BY_ROLE: Readonly<Record<RealtimeRole, readonly RealtimeChannel[]>> = {
  owner: EVERY_CHANNEL,
  admin: EVERY_CHANNEL,
  moderator: EVERY_CHANNEL,
  provider: EVERY_CHANNEL,
  trader: EVERY_CHANNEL,
  viewer: WITHOUT_TRADING,
  operator: EVERY_CHANNEL,
};

export function channelsFor(role: RealtimeRole): readonly RealtimeChannel[] {
  return CHANNELS_BY_ROLE[role];
}

export function maySubscribe(role: RealtimeRole, channel: RealtimeChannel): boolean {
  return CHANNELS_BY_ROLE[role].includes(channel);
}

/** Operators, and the roles the role matrix lets see every member's orders, receive events addressed to admins. */
export function seesAggregates(role: RealtimeRole): boolean {
  return role === "operator" || can(role, "orders.view_all");
}

/** Operators are nobody's "member": a member's own events never reach them. */
const hasOwnEvents = (role: RealtimeRole) => role !== "operator";

const AUDIENCES_BY_CHANNEL: Readonly<Record<RealtimeChannel, ReadonlySet<AudienceKind>>> = {
  orders: new Set(["member", "admins"]),
  portfolio: new Set(["member", "admins"]),
  signals: new Set(["community", "admins"]),
  notifications: new Set(["member", "admins", "community"]),
};

/** Whether `channel` may carry an event for `audience` (a member's orders are never broadcast). */
export function channelCarries(channel: RealtimeChannel, audience: Audience): boolean {
  return AUDIENCES_BY_CHANNEL[channel].has(audienceKind(audience));
}

/** Whether a connection (by user id and role) is in an event's audience. Channel subscriptions are checked apart. */
export function inAudience(member: { userId: string; role: RealtimeRole }, audience: Audience): boolean {
  if (audience === "community") return true;
  if (audience === "admins") return seesAggregates(member.role);
  return hasOwnEvents(member.role) && audience.userId === member.userId;
}

/** The audience kinds a role reads on a channel. */
export function audienceKindsFor(role: RealtimeRole, channel: RealtimeChannel): AudienceKind[] {
  const kinds: AudienceKind[] = [];
  if (hasOwnEvents(role)) kinds.push("member");
  if (seesAggregates(role)) kinds.push("admins");
  kinds.push("community");
  return kinds.filter((kind) => AUDIENCES_BY_CHANNEL[channel].has(kind));
}

/** The names of the streams a connection with `channels` reads (see protocol.ts). */
export function streamsFor(role: RealtimeRole, channels: Iterable<RealtimeChannel>): string[] {
  return [...channels].flatMap((channel) => audienceKindsFor(role, channel).map((kind) => streamName(channel, kind)));
}
