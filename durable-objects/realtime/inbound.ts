import { gcra } from "../../shared/rate-limit";
import { maySubscribe } from "../../shared/realtime/access";
import {
  CLOSE_CODES,
  ClientMessageSchema,
  type ControlFrame,
  isChannel,
  REALTIME_LIMITS,
  type RealtimeChannel,
} from "../../shared/realtime/protocol";
import type { HubCounter } from "../../shared/realtime/stats";
import type { Connection } from "./connection";

/** What the hub does with one client frame. */
export type InboundOutcome =
  | { kind: "close"; code: number; reason: string; counter: HubCounter | null }
  | { kind: "reply"; frame: ControlFrame }
  | { kind: "channels"; channels: Set<RealtimeChannel> }
  | { kind: "ack"; seq: number };

const encoder = new TextEncoder();

/**
 * Judges one frame from a client, in this order: binary frames close the
 * socket (1003), frames over REALTIME_LIMITS.maxInboundBytes close it (1009),
 * frames beyond the rate limit close it (1008); then malformed JSON, unknown
 * messages, unknown channels and channels the member's role may not see get an
 * `error` frame and change nothing. A subscription change is all or nothing.
 * Updates the connection's rate-limit state.
 */
export function judgeClientFrame(connection: Connection, message: string | ArrayBuffer, now: number): InboundOutcome {
  if (typeof message !== "string") {
    return close(CLOSE_CODES.unsupportedData, "binary frames are not supported; send JSON text", null);
  }
  if (message.length > REALTIME_LIMITS.maxInboundBytes || byteLength(message) > REALTIME_LIMITS.maxInboundBytes) {
    return close(
      CLOSE_CODES.messageTooBig,
      `frames are limited to ${REALTIME_LIMITS.maxInboundBytes} bytes`,
      "closedOversize",
    );
  }
  const verdict = gcra(REALTIME_LIMITS.inboundRate, connection.inboundTat, now);
  if (!verdict.allowed) return close(CLOSE_CODES.policyViolation, "too many messages", "closedRateLimited");
  connection.inboundTat = verdict.tat;

  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return error(
      "BAD_MESSAGE",
      'Frames are JSON: {"type":"subscribe"|"unsubscribe","channels":[...]} or {"type":"ack","seq":n}.',
    );
  }
  const parsed = ClientMessageSchema.safeParse(json);
  if (!parsed.success) {
    return error("BAD_MESSAGE", `Not a message this hub understands: ${parsed.error.issues[0]?.message ?? "invalid"}.`);
  }
  const msg = parsed.data;
  if (msg.type === "ack") return { kind: "ack", seq: msg.seq };

  const unknown = msg.channels.filter((name) => !isChannel(name));
  if (unknown.length > 0) {
    return error("UNKNOWN_CHANNEL", `No such channel: ${unknown.map((name) => JSON.stringify(name)).join(", ")}.`);
  }
  const channels = msg.channels.filter(isChannel);
  const forbidden = channels.filter((channel) => !maySubscribe(connection.role, channel));
  if (forbidden.length > 0) {
    return error("CHANNEL_FORBIDDEN", `A ${connection.role} may not subscribe to ${forbidden.join(", ")}.`);
  }
  const next = new Set(connection.channels);
  for (const channel of channels) {
    if (msg.type === "subscribe") next.add(channel);
    else next.delete(channel);
  }
  return { kind: "channels", channels: next };
}

function byteLength(text: string): number {
  return encoder.encode(text).byteLength;
}

function close(code: number, reason: string, counter: HubCounter | null): InboundOutcome {
  return { kind: "close", code, reason, counter };
}

function error(code: "BAD_MESSAGE" | "UNKNOWN_CHANNEL" | "CHANNEL_FORBIDDEN", message: string): InboundOutcome {
  return { kind: "reply", frame: { type: "error", code, message } };
}
