import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import type { GatewayStatus } from "../../durable-objects/discord-gateway";
import { gatewayShardFor } from "../../platform/objects";
import type { ShardIdentity } from "../../shared/gateway/shards";
import { messageObject, snowflake } from "./discord";

import { FAKE_BOT_USER_ID } from "./fake-discord/payloads";
import type { FakeConfig, FakeConnection } from "./fake-discord/worker";
import { TEST_VARS } from "./test-vars";

export { FAKE_BOT_USER_ID };

/**
 * The fake Discord for Gateway tests. The DiscordGateway object runs in the
 * test's isolate, so a spy on `fetch` sees its requests: `GET
 * <DISCORD_API_BASE>/gateway/bot` and the WebSocket upgrades to the
 * `*.discord.test` URLs the fake hands out go to the fake-discord auxiliary
 * worker through its service binding, and come back as a real workerd
 * WebSocket. Anything else is fetched as usual.
 */

/** DISCORD_API_BASE's default (the test vars do not set it). */
export const GATEWAY_BOT_URL = "https://discord.com/api/v10/gateway/bot";

export const OP = { Dispatch: 0, Heartbeat: 1, Identify: 2, Resume: 6, Reconnect: 7, InvalidSession: 9 } as const;

/** A frame the DiscordGateway object sent, in the order the fake received it. */
export interface Received {
  connection: number;
  at: number;
  op: number;
  d: unknown;
}

/** A call to Discord's REST API other than GET /gateway/bot (reactions, replies, DMs), as the notifications consumer made it. */
export interface RestCall {
  method: string;
  /** The path after `/api/v10`, e.g. `/channels/1/messages`. */
  path: string;
  body: Record<string, unknown> | null;
}

export interface FakeDiscord {
  id: string;
  /** URLs the DiscordGateway object fetched (the REST call and the WebSocket upgrades), in order. */
  requests: { url: string; authorization: string | null }[];
  /** Reactions, channel messages and DMs sent to Discord, in order. */
  rest: RestCall[];
  configure(patch: Partial<FakeConfig>): Promise<void>;
  dispatch(t: string, d: unknown, options?: { deliver: boolean }): Promise<number>;
  send(payload: unknown): Promise<void>;
  sendRaw(text: string): Promise<void>;
  close(code: number, reason: string): Promise<void>;
  drop(): Promise<void>;
  expireSession(): Promise<void>;
  received(): Promise<Received[]>;
  connections(): Promise<FakeConnection[]>;
  /** Waits for the next frame with this opcode received after the `after`-th frame. */
  next(op: number, after?: number, timeout?: number): Promise<Received & { index: number }>;
}

export async function fakeDiscord(config: Partial<FakeConfig> = {}): Promise<FakeDiscord> {
  const id = crypto.randomUUID();
  const binding = env.FAKE_DISCORD;
  await binding.configure(id, { token: TEST_VARS.DISCORD_BOT_TOKEN, ...config });
  const requests: FakeDiscord["requests"] = [];
  const rest: RestCall[] = [];
  const received = async (): Promise<Received[]> =>
    (await binding.received(id)).map(({ json, ...frame }) => ({ ...frame, d: JSON.parse(json) as unknown }));
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (request.url === GATEWAY_BOT_URL || url.hostname.endsWith(".discord.test")) {
      requests.push({ url: request.url, authorization: request.headers.get("authorization") });
      const target =
        request.url === GATEWAY_BOT_URL ? `https://api.discord.test/${id}/api/v10/gateway/bot` : request.url;
      return binding.fetch(new Request(target, request));
    }
    if (request.url.startsWith(API_BASE)) return answerRest(request, rest);
    return realFetch(input, init);
  });
  return {
    id,
    requests,
    rest,
    configure: (patch) => binding.configure(id, patch),
    dispatch: (t, d, options) => binding.dispatch(id, t, d, options?.deliver ?? true),
    send: (payload) => binding.send(id, payload),
    sendRaw: (text) => binding.sendRaw(id, text),
    close: (code, reason) => binding.close(id, code, reason),
    drop: () => binding.drop(id),
    expireSession: () => binding.expireSession(id),
    received,
    connections: () => binding.connections(id),
    async next(op, after = -1, timeout = 5_000) {
      let found: (Received & { index: number }) | undefined;
      await vi.waitFor(
        async () => {
          const frames = await received();
          const index = frames.findIndex((frame, i) => i > after && frame.op === op);
          const frame = frames[index];
          expect(frame, `a frame with op ${op} after #${after}`).toBeDefined();
          if (frame) found = { ...frame, index };
        },
        { timeout, interval: 20 },
      );
      if (!found) throw new Error("unreachable");
      return found;
    },
  };
}

const API_BASE = "https://discord.com/api/v10";

/** Discord's answers to the calls the notifications consumer makes ("Message" and "User" resources). */
async function answerRest(request: Request, rest: RestCall[]): Promise<Response> {
  const path = request.url.slice(API_BASE.length);
  const text = await request.text();
  const body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
  rest.push({ method: request.method, path, body });
  if (request.headers.get("authorization") !== `Bot ${TEST_VARS.DISCORD_BOT_TOKEN}`) {
    return Response.json({ message: "401: Unauthorized", code: 0 }, { status: 401 });
  }
  if (path.includes("/reactions/")) return new Response(null, { status: 204 });
  if (path === "/users/@me/channels") {
    return Response.json({ id: snowflake(), type: 1, recipients: [{ id: body?.recipient_id }] });
  }
  const channelId = /^\/channels\/(\d+)\/messages$/.exec(path)?.[1];
  if (channelId && request.method === "POST") {
    return Response.json({
      ...messageObject({
        id: snowflake(),
        channelId,
        content: String(body?.content ?? ""),
        author: { id: FAKE_BOT_USER_ID, username: "executor" },
      }),
      author: { id: FAKE_BOT_USER_ID, username: "executor", bot: true },
    });
  }
  return Response.json({ message: "404: Not Found", code: 0 }, { status: 404 });
}

/** A shard of its own fleet, so each test's object and IDENTIFY bucket are its own. */
export function testShard(): ShardIdentity {
  return { fleet: `t-${crypto.randomUUID()}`, shardId: 0, shardCount: 1 };
}

export function gatewayOf(shard: ShardIdentity) {
  return gatewayShardFor(env, shard);
}

export async function waitForStatus(
  shard: ShardIdentity,
  check: (status: GatewayStatus) => void,
  timeout = 5_000,
): Promise<GatewayStatus> {
  let last: GatewayStatus | undefined;
  await vi.waitFor(
    async () => {
      last = await gatewayOf(shard).status();
      check(last);
    },
    { timeout, interval: 20 },
  );
  if (!last) throw new Error("unreachable");
  return last;
}

/** A MESSAGE_CREATE payload as Discord documents it: a message object plus `guild_id`, `member` and `mentions`. */
export function messageCreate(overrides: Record<string, unknown> = {}) {
  return {
    ...messageObject({
      id: "1300000000000000001",
      channelId: "1200000000000000001",
      content: "BUY AAPL @ 150",
      author: { id: "1000000000000000009", username: "provider", global_name: "Provider" },
      timestamp: "2026-10-01T12:00:00.000000+00:00",
    }),
    guild_id: "1100000000000000001",
    member: { roles: ["1400000000000000001"], joined_at: "2026-01-01T00:00:00.000000+00:00", deaf: false, mute: false },
    ...overrides,
  };
}

const MEMBER_USER = {
  id: "1000000000000000010",
  username: "follower",
  discriminator: "0",
  global_name: "Follower",
  avatar: null,
};

/** A role object as Discord documents it ("Role Object"), with its permission bit set. */
export function roleObject(id: string, permissions: bigint, name = "role") {
  return {
    id,
    name,
    color: 0,
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: 1,
    permissions: permissions.toString(),
    managed: false,
    mentionable: false,
    flags: 0,
  };
}

/** GUILD_CREATE as Discord documents it: the guild object (owner, roles) plus the extra fields of the event. */
export function guildCreate(guild: { id: string; ownerId: string; roles: ReturnType<typeof roleObject>[] }) {
  return {
    id: guild.id,
    name: "Signals server",
    icon: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 1,
    default_message_notifications: 1,
    explicit_content_filter: 0,
    roles: guild.roles,
    emojis: [],
    features: [],
    mfa_level: 0,
    system_channel_id: null,
    premium_tier: 0,
    preferred_locale: "en-US",
    nsfw_level: 0,
    joined_at: "2026-01-01T00:00:00.000000+00:00",
    large: false,
    unavailable: false,
    member_count: 3,
    members: [],
    channels: [],
    threads: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
  };
}

/** GUILD_MEMBER_REMOVE as Discord documents it: the guild and the user who left (or was kicked or banned). */
export function memberRemove(overrides: Record<string, unknown> = {}) {
  return { guild_id: "1100000000000000001", user: MEMBER_USER, ...overrides };
}

/** GUILD_MEMBER_UPDATE as Discord documents it: the member's roles and user after the change. */
export function memberUpdate(overrides: Record<string, unknown> = {}) {
  return {
    guild_id: "1100000000000000001",
    roles: ["1400000000000000002"],
    user: MEMBER_USER,
    nick: null,
    avatar: null,
    banner: null,
    joined_at: "2026-01-01T00:00:00.000000+00:00",
    premium_since: null,
    deaf: false,
    mute: false,
    pending: false,
    communication_disabled_until: null,
    flags: 0,
    ...overrides,
  };
}
