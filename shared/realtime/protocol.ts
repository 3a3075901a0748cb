import { z } from "zod";
import { MEMBERSHIP_ROLES, type MembershipRole } from "../db/schema";

/**
 * The RealtimeHub's wire protocol: what a browser receives on
 * `GET /api/v1/communities/:communityId/realtime`, what it may send, and the
 * limits both sides live by. Pure: no bindings.
 *
 * Server to client, one JSON text frame each:
 * - an event `{"seq","type","channel","data","at","stream","prev"}`: `seq` grows by one per event the hub publishes
 *   (whoever it is for; a restarted hub skips the numbers it had reserved, never reusing one), so it orders every
 *   event and is what `?since=` resumes from. Each event also belongs to one
 *   stream, its channel and audience (`orders:member` is the receiving member's own orders, `signals:community`,
 *   `portfolio:admins`, ...), and `prev` is the `seq` of the stream's previous event (0 for its first). A client keeps
 *   the last `seq` it saw per stream: an event whose `prev` is not that number means it missed something meant for
 *   it, and it refetches. Events not meant for it never look like gaps.
 * - a batch `{"type":"batch","events":[event, ...]}`: several events for this socket in one frame, in `seq` order,
 *   each exactly as it would have come alone. A hub under load sends at most REALTIME_LIMITS.maxFramesPerSecond
 *   frames; events published meanwhile wait and go out together, so a busy hub sends fewer, larger frames instead
 *   of falling behind. A client handles each event of a batch in turn.
 * - control frames, which carry no `stream`: `welcome` (first frame: the hub's latest `seq`, the connection's role
 *   and channels, the head of each of its streams, and how a `?since=` replay went), `subscribed` (the channels
 *   and stream heads after a change) and `error`.
 *
 * Client to server: the text `ping` (answered `pong` without waking the hub), and JSON `subscribe`, `unsubscribe`
 * and `ack` messages (ClientMessageSchema).
 */

export const REALTIME_CHANNELS = ["portfolio", "orders", "signals", "notifications"] as const;
export type RealtimeChannel = (typeof REALTIME_CHANNELS)[number];

export const EVENT_TYPES = [
  "order.updated",
  "position.updated",
  "signal.accepted",
  "killswitch.changed",
  "notification",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The channel each event type is published on unless the publisher names another. */
export const CHANNEL_OF_EVENT: Readonly<Record<EventType, RealtimeChannel>> = {
  "order.updated": "orders",
  "position.updated": "portfolio",
  "signal.accepted": "signals",
  "killswitch.changed": "signals",
  notification: "notifications",
};

/** Who may receive an event: one member, the community's admins (aggregates), or every member. */
export type Audience = { userId: string } | "admins" | "community";

export type AudienceKind = "member" | "admins" | "community";

export function audienceKind(audience: Audience): AudienceKind {
  return typeof audience === "string" ? audience : "member";
}

/** A stream as a client names it: the channel and the audience kind (`orders:member` is always the reader's own). */
export function streamName(channel: RealtimeChannel, kind: AudienceKind): string {
  return `${channel}:${kind}`;
}

/**
 * Who holds a socket: a member in one of their community roles, or an operator (OPS_TOKEN), who sees what owners
 * and admins see (community events and aggregates) but never a member's own orders, portfolio or notices.
 */
export const REALTIME_ROLES = [...MEMBERSHIP_ROLES, "operator"] as const;
export type RealtimeRole = MembershipRole | "operator";

export const AudienceSchema = z.union([
  z.literal("community"),
  z.literal("admins"),
  z.strictObject({ userId: z.string().min(1).max(128) }),
]);

export const REALTIME_LIMITS = {
  /** A client frame larger than this closes the socket (1009). */
  maxInboundBytes: 4096,
  /** Client frames allowed per socket: a burst of 20, refilled at 2 per second; more closes the socket (1008). */
  inboundRate: { limit: 20, periodMs: 10_000 },
  /** Event bytes sent to a socket beyond its last `ack` before it counts as a slow consumer (1013). */
  maxUnackedBytes: 1024 * 1024,
  /** How much a client should let arrive between two acks. */
  ackEveryBytes: 256 * 1024,
  /** Events kept for `?since=` replay. */
  replayEvents: 1000,
  /** The largest event (its JSON frame) the hub accepts to publish. */
  maxEventBytes: 16 * 1024,
  /**
   * Frames one hub sends per second at most, over all its sockets. Writing to sockets is the hub's cost, on its one
   * thread (local workerd: 35-50 µs a frame), so after a flush of n frames the next waits n / this; events published
   * meanwhile go out together, in `batch` frames. An idle hub sends at once. bench/realtime.ts chose the figure, with
   * events published by RPC as the engine publishes them: at 1,000 sockets and 50 events a second, p99 184 ms at
   * 8,000, 149 ms at 16,000, 168 ms at 24,000 (frames come faster than the thread writes them, and wait in line).
   */
  maxFramesPerSecond: 16_000,
  /** The largest `batch` frame; more events for a socket go in several. */
  maxBatchBytes: 64 * 1024,
  /** Connection attempts per member and community: a burst of 30, refilled at one every 2 s (429 beyond). */
  connectRate: { limit: 30, periodMs: 60_000 },
  /** Sockets one member may hold open in one community (browser tabs). */
  maxSocketsPerUser: 10,
  /** Sockets one hub accepts (the platform allows 32,768). */
  maxSocketsPerHub: 20_000,
  /** How often a hub holding sockets rechecks their sessions and reports its figures. */
  sessionCheckMs: 60_000,
} as const;

/** Close codes the hub uses (1xxx from RFC 6455, 4xxx this application's). */
export const CLOSE_CODES = {
  /** A binary frame: the protocol is JSON text only. */
  unsupportedData: 1003,
  /** Too many client frames (rate limit). */
  policyViolation: 1008,
  /** A client frame over maxInboundBytes. */
  messageTooBig: 1009,
  /** The socket's stored identity could not be read. */
  internalError: 1011,
  /** A slow consumer: reconnect with `?since=<last seq processed>`. */
  tryAgainLater: 1013,
  /** The session was revoked or expired (or, for an operator, the token is no longer configured): sign in again. */
  sessionEnded: 4001,
  /** The community was deleted: its sockets are closed and cannot be opened again (404). */
  communityDeleted: 4004,
} as const;

const ChannelList = z.array(z.string().max(64)).min(1).max(REALTIME_CHANNELS.length);

export const ClientMessageSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("subscribe"), channels: ChannelList }),
  z.strictObject({ type: z.literal("unsubscribe"), channels: ChannelList }),
  z.strictObject({ type: z.literal("ack"), seq: z.number().int().nonnegative() }),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export interface EventFrame {
  seq: number;
  type: EventType;
  channel: RealtimeChannel;
  data: Record<string, unknown>;
  at: number;
  /** `streamName(channel, audience kind)`. */
  stream: string;
  /** The `seq` of the previous event in the same stream; 0 for its first. */
  prev: number;
}

/** The last `seq` of each stream a connection reads, by stream name (absent: no event yet, as 0). */
export type StreamHeads = Record<string, number>;

export const ERROR_CODES = {
  BAD_MESSAGE: "BAD_MESSAGE",
  UNKNOWN_CHANNEL: "UNKNOWN_CHANNEL",
  CHANNEL_FORBIDDEN: "CHANNEL_FORBIDDEN",
} as const;

export type ControlFrame =
  | {
      type: "welcome";
      seq: number;
      role: RealtimeRole;
      channels: RealtimeChannel[];
      /**
       * Each stream's head: the current one, or, with a complete `?since=` replay, the one as of `since`, so the
       * replayed events that follow chain onto it.
       */
      streams: StreamHeads;
      /** null without `?since=`; `complete: false` when the buffer no longer reaches back that far: refetch. */
      replay: { since: number; complete: boolean; events: number } | null;
    }
  | { type: "subscribed"; channels: RealtimeChannel[]; streams: StreamHeads }
  | { type: "error"; code: keyof typeof ERROR_CODES; message: string };

export const isChannel = (value: string): value is RealtimeChannel =>
  (REALTIME_CHANNELS as readonly string[]).includes(value);
