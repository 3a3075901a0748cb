import type {
  GatewayCloseCodes as GatewayCloseCodes_,
  GatewayHeartbeat,
  GatewayIdentify,
  GatewayIntentBits as GatewayIntentBits_,
  GatewayOpcodes as GatewayOpcodes_,
  GatewayResume,
} from "discord-api-types/v10";
import { z } from "zod";

/**
 * The Discord Gateway's wire format (API v10, JSON encoding, no compression):
 * frames in, payloads out, with the numbers of Discord's "Opcodes and Status
 * Codes" and "Gateway" pages. discord-api-types checks them at compile time
 * (its enums are type-only here: its CommonJS build does not load in workerd's
 * test runner); zod checks every frame at the door.
 */

type Named<E extends Record<string, string | number>, K extends keyof E> = { readonly [Key in K]: E[Key] };

export const GatewayOpcodes = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  Resume: 6,
  Reconnect: 7,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const satisfies Named<
  typeof GatewayOpcodes_,
  "Dispatch" | "Heartbeat" | "Identify" | "Resume" | "Reconnect" | "InvalidSession" | "Hello" | "HeartbeatAck"
>;

export const GatewayCloseCodes = {
  UnknownError: 4000,
  UnknownOpcode: 4001,
  DecodeError: 4002,
  NotAuthenticated: 4003,
  AuthenticationFailed: 4004,
  AlreadyAuthenticated: 4005,
  InvalidSeq: 4007,
  RateLimited: 4008,
  SessionTimedOut: 4009,
  InvalidShard: 4010,
  ShardingRequired: 4011,
  InvalidAPIVersion: 4012,
  InvalidIntents: 4013,
  DisallowedIntents: 4014,
} as const satisfies Named<typeof GatewayCloseCodes_, keyof typeof GatewayCloseCodes_>;

const GatewayIntentBits = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildMessages: 1 << 9,
  MessageContent: 1 << 15,
} as const satisfies Named<typeof GatewayIntentBits_, "Guilds" | "GuildMembers" | "GuildMessages" | "MessageContent">;

/** GUILDS, GUILD_MEMBERS (privileged), GUILD_MESSAGES and MESSAGE_CONTENT (privileged): 33283. */
export const GATEWAY_INTENTS =
  GatewayIntentBits.Guilds |
  GatewayIntentBits.GuildMembers |
  GatewayIntentBits.GuildMessages |
  GatewayIntentBits.MessageContent;

/** The query every Gateway URL gets, the resume URL included ("same version and encoding"). */
export const GATEWAY_QUERY = { v: "10", encoding: "json" } as const;

/** Close codes after which Discord says not to reconnect: the token, the shard, the version or the intents are wrong. */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  GatewayCloseCodes.AuthenticationFailed,
  GatewayCloseCodes.InvalidShard,
  GatewayCloseCodes.ShardingRequired,
  GatewayCloseCodes.InvalidAPIVersion,
  GatewayCloseCodes.InvalidIntents,
  GatewayCloseCodes.DisallowedIntents,
]);

/** Close codes that allow reconnecting but end the session: "Reconnect and start a new session". */
export const SESSION_ENDING_CLOSE_CODES: ReadonlySet<number> = new Set([
  GatewayCloseCodes.InvalidSeq,
  GatewayCloseCodes.SessionTimedOut,
]);

const CLOSE_CODE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(GatewayCloseCodes).map(([name, code]) => [code, name]),
);

/** "AuthenticationFailed" for 4004; null for codes Discord does not define. */
export function closeCodeName(code: number): string | null {
  return CLOSE_CODE_NAMES.get(code) ?? null;
}

/**
 * The code we close with when we mean to resume (a zombie connection, RECONNECT,
 * a resumable INVALID_SESSION): anything but 1000 and 1001, which end the
 * session and show the bot offline.
 */
export const CLOSE_TO_RESUME = 4900;
/** The code we close with when we stop for good (disabled, operator stop): the session ends. */
export const CLOSE_NORMAL = 1000;

const snowflake = z.string().regex(/^\d{1,20}$/, "must be a snowflake");

/** The envelope of every frame: `s` and `t` are null unless `op` is 0 (Dispatch). */
export const FrameSchema = z.object({
  op: z.number().int(),
  d: z.unknown().optional(),
  s: z.number().int().nonnegative().nullable().optional(),
  t: z.string().nullable().optional(),
});
export type Frame = z.infer<typeof FrameSchema>;

export const HelloSchema = z.object({ heartbeat_interval: z.number().int().positive() });

export const ReadySchema = z.object({
  session_id: z.string().min(1),
  resume_gateway_url: z.url({ protocol: /^wss?$/ }),
  user: z.object({ id: snowflake }),
});

export const InvalidSessionSchema = z.boolean();

/** `GET /gateway/bot` (Discord's "Get Gateway Bot" response). */
export const GatewayBotSchema = z.object({
  url: z.url({ protocol: /^wss?$/ }),
  shards: z.number().int().positive(),
  session_start_limit: z.object({
    total: z.number().int().nonnegative(),
    remaining: z.number().int().nonnegative(),
    reset_after: z.number().int().nonnegative(),
    max_concurrency: z.number().int().positive(),
  }),
});
export type GatewayBot = z.infer<typeof GatewayBotSchema>;

export type ParsedFrame = { ok: true; frame: Frame } | { ok: false; problem: string };

/** A text frame as JSON; binary frames and anything else are refused with the reason. */
export function parseFrame(data: string | ArrayBuffer): ParsedFrame {
  if (typeof data !== "string") return { ok: false, problem: "binary frame (compression is not requested)" };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, problem: "not JSON" };
  }
  const parsed = FrameSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: parsed.error.issues[0]?.message ?? "not a Gateway payload" };
  return { ok: true, frame: parsed.data };
}

/** `wss://gateway.discord.gg` → `wss://gateway.discord.gg/?v=10&encoding=json` (an existing query is replaced). */
export function gatewayUrl(base: string): string {
  const url = new URL(base);
  url.search = new URLSearchParams({ v: GATEWAY_QUERY.v, encoding: GATEWAY_QUERY.encoding }).toString();
  return url.toString();
}

export interface ConnectionProperties {
  os: string;
  browser: string;
  device: string;
}

export const CONNECTION_PROPERTIES: ConnectionProperties = {
  os: "cloudflare-workers",
  browser: "discord-trade-executor",
  device: "discord-trade-executor",
};

export function identifyPayload(token: string, shard: readonly [number, number]): GatewayIdentify {
  return {
    op: GatewayOpcodes.Identify,
    d: { token, intents: GATEWAY_INTENTS, properties: CONNECTION_PROPERTIES, shard: [shard[0], shard[1]] },
  };
}

export function resumePayload(token: string, sessionId: string, seq: number): GatewayResume {
  return { op: GatewayOpcodes.Resume, d: { token, session_id: sessionId, seq } };
}

export function heartbeatPayload(seq: number | null): GatewayHeartbeat {
  return { op: GatewayOpcodes.Heartbeat, d: seq };
}

export type OutboundPayload = GatewayIdentify | GatewayResume | GatewayHeartbeat;
