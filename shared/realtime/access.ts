import type { MembershipRole } from "../db/schema";
import { type Audience, REALTIME_CHANNELS, type RealtimeChannel } from "./protocol";

/**
 * Who sees what on a community's realtime connection, in one place.
 *
 * - Channels by role: every member sees community signals and their own notifications; members who can trade
 *   (everyone but a viewer) also see their own orders and portfolio.
 * - Audiences: an event for one member reaches only that member's sockets; an event for admins (aggregates) only
 *   owners' and admins'; a community event every member subscribed to its channel.
 * - Which audiences a channel carries: orders and portfolio are personal (one member, or aggregates for admins),
 *   never broadcast to the community; signals are for the community (or admins); notifications may be any.
 */

const EVERY_CHANNEL = REALTIME_CHANNELS;
const WITHOUT_TRADING: readonly RealtimeChannel[] = ["signals", "notifications"];

export const CHANNELS_BY_ROLE: Readonly<Record<MembershipRole, readonly RealtimeChannel[]>> = {
  owner: EVERY_CHANNEL,
  admin: EVERY_CHANNEL,
  provider: EVERY_CHANNEL,
  trader: EVERY_CHANNEL,
  viewer: WITHOUT_TRADING,
};

const AGGREGATE_ROLES: ReadonlySet<MembershipRole> = new Set(["owner", "admin"]);

export function channelsFor(role: MembershipRole): readonly RealtimeChannel[] {
  return CHANNELS_BY_ROLE[role];
}

export function maySubscribe(role: MembershipRole, channel: RealtimeChannel): boolean {
  return CHANNELS_BY_ROLE[role].includes(channel);
}

/** Owners and admins receive events addressed to admins (community aggregates). */
export function seesAggregates(role: MembershipRole): boolean {
  return AGGREGATE_ROLES.has(role);
}

const AUDIENCES_BY_CHANNEL: Readonly<Record<RealtimeChannel, ReadonlySet<AudienceKind>>> = {
  orders: new Set(["member", "admins"]),
  portfolio: new Set(["member", "admins"]),
  signals: new Set(["community", "admins"]),
  notifications: new Set(["member", "admins", "community"]),
};

export type AudienceKind = "member" | "admins" | "community";

export function audienceKind(audience: Audience): AudienceKind {
  return typeof audience === "string" ? audience : "member";
}

/** Whether `channel` may carry an event for `audience` (a member's orders are never broadcast). */
export function channelCarries(channel: RealtimeChannel, audience: Audience): boolean {
  return AUDIENCES_BY_CHANNEL[channel].has(audienceKind(audience));
}

/** Whether a member (by id and role) is in an event's audience. Channel subscriptions are checked separately. */
export function inAudience(member: { userId: string; role: MembershipRole }, audience: Audience): boolean {
  if (audience === "community") return true;
  if (audience === "admins") return seesAggregates(member.role);
  return audience.userId === member.userId;
}
