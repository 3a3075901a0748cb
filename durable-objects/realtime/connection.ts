import { z } from "zod";
import type { RealtimeCredential } from "../../shared/realtime/handoff";
import {
  REALTIME_CHANNELS,
  REALTIME_LIMITS,
  REALTIME_ROLES,
  type RealtimeChannel,
  type RealtimeRole,
} from "../../shared/realtime/protocol";

/**
 * One open socket and what the hub knows of it. Identity and subscriptions
 * live in the socket's serialized attachment (at most 2,048 bytes), so a hub
 * woken from hibernation rebuilds every connection from the sockets alone.
 * Flow control and the inbound rate limit are memory only: a hub hibernates
 * only when nothing is moving, and both start afresh then.
 */
export interface Connection {
  readonly ws: WebSocket;
  /** The member, or `ops:<token fingerprint>` for an operator. */
  readonly userId: string;
  readonly role: RealtimeRole;
  /** What keeps the socket open: a member's session, or an operator's OPS_TOKEN (by fingerprint). */
  readonly credential: RealtimeCredential;
  readonly connectedAt: number;
  channels: Set<RealtimeChannel>;
  flow: FlowState;
  /** GCRA state of the inbound rate limit. */
  inboundTat: number | undefined;
}

export interface FlowState {
  /** Event bytes sent to this socket. */
  sent: number;
  /** Of those, the bytes the client has acknowledged (as of a checkpoint at or before its ack). */
  acked: number;
  /** [seq, bytes sent up to and including that event], about 32 KiB apart: turns an acknowledged seq into bytes. */
  checkpoints: [number, number][];
}

const CHECKPOINT_EVERY_BYTES = 32 * 1024;

const AttachmentSchema = z.object({
  v: z.literal(1),
  u: z.string().min(1).max(128),
  r: z.enum(REALTIME_ROLES),
  /** The session id, or the operator token's fingerprint, by `k`. */
  k: z.enum(["s", "o"]),
  s: z.string().min(1).max(128),
  c: z.array(z.enum(REALTIME_CHANNELS)).max(REALTIME_CHANNELS.length),
  t: z.number().int(),
});
type Attachment = z.infer<typeof AttachmentSchema>;

/** Tags for `ctx.getWebSockets(tag)`: by member, role and credential. */
export const tagOf = {
  user: (userId: string) => `user:${userId}`,
  role: (role: RealtimeRole) => `role:${role}`,
  credential: (credential: RealtimeCredential) =>
    credential.kind === "session" ? `session:${credential.sessionId}` : `ops:${credential.fingerprint}`,
};

export function newConnection(
  ws: WebSocket,
  identity: { userId: string; role: RealtimeRole; credential: RealtimeCredential },
  channels: Iterable<RealtimeChannel>,
  connectedAt: number,
): Connection {
  return {
    ws,
    ...identity,
    connectedAt,
    channels: new Set(channels),
    flow: { sent: 0, acked: 0, checkpoints: [] },
    inboundTat: undefined,
  };
}

/** Writes the connection's identity and channels onto its socket (again after every subscription change). */
export function saveAttachment(connection: Connection): void {
  const { credential } = connection;
  const attachment: Attachment = {
    v: 1,
    u: connection.userId,
    r: connection.role,
    k: credential.kind === "session" ? "s" : "o",
    s: credential.kind === "session" ? credential.sessionId : credential.fingerprint,
    c: [...connection.channels],
    t: connection.connectedAt,
  };
  connection.ws.serializeAttachment(attachment);
}

/** The connection a hibernated socket stood for, or null if its attachment is missing or unreadable. */
export function restoreConnection(ws: WebSocket): Connection | null {
  const parsed = AttachmentSchema.safeParse(ws.deserializeAttachment());
  if (!parsed.success) return null;
  const { u, r, k, s, c, t } = parsed.data;
  const credential: RealtimeCredential =
    k === "s" ? { kind: "session", sessionId: s } : { kind: "ops", fingerprint: s };
  return newConnection(ws, { userId: u, role: r, credential }, c, t);
}

/**
 * Counts `bytes` of event `seq` as sent. True while the socket's unacknowledged
 * bytes stay within REALTIME_LIMITS.maxUnackedBytes; false means a slow consumer.
 */
export function countSent(flow: FlowState, seq: number, bytes: number): boolean {
  flow.sent += bytes;
  const count = flow.checkpoints.length;
  const last = flow.checkpoints[count - 1];
  const start = count >= 2 ? (flow.checkpoints[count - 2]?.[1] ?? 0) : flow.acked;
  // The newest checkpoint follows each send until it spans CHECKPOINT_EVERY_BYTES; then a new one starts.
  if (last && last[1] - start < CHECKPOINT_EVERY_BYTES) {
    last[0] = seq;
    last[1] = flow.sent;
  } else {
    flow.checkpoints.push([seq, flow.sent]);
  }
  return flow.sent - flow.acked <= REALTIME_LIMITS.maxUnackedBytes;
}

/** The client has processed every event up to `seq`. */
export function countAcked(flow: FlowState, seq: number): void {
  let index = -1;
  for (let i = 0; i < flow.checkpoints.length; i++) {
    if ((flow.checkpoints[i]?.[0] ?? Infinity) <= seq) index = i;
    else break;
  }
  if (index === -1) return;
  flow.acked = Math.max(flow.acked, flow.checkpoints[index]?.[1] ?? 0);
  flow.checkpoints.splice(0, index + 1);
}
