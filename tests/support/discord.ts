import { env, exports } from "cloudflare:workers";
import { vi } from "vitest";
import { BASE } from "./http";
import { AROUND_THE_CLOCK, setCommunityRiskDefaults } from "./risk-defaults";
import { TEST_DISCORD_PRIVATE_KEY_HEX, TEST_VARS } from "./test-vars";

/**
 * Discord as the tests' client: interactions signed with the real Ed25519
 * test key (the one DISCORD_PUBLIC_KEY matches), and payloads built as
 * Discord's "Receiving and Responding" docs describe them.
 */

const DISCORD_EPOCH = 1420070400000n;
const APPLICATION_ID = TEST_VARS.DISCORD_APPLICATION_ID;
export const ADMINISTRATOR = "8";
/** VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS: an ordinary member. */
export const MEMBER_PERMISSIONS = String(0x400n | 0x800n | 0x10000n | 0x80000000n);

let sequence = 0n;
/**
 * A fresh snowflake whose timestamp is `atMs` (default now, so a signal stamped with it is fresh): the low 22 bits
 * count up, so ids stay unique within a test file even when thousands are made in one millisecond.
 */
export function snowflake(atMs = Date.now()): string {
  sequence = (sequence + 1n) & 0x3fffffn;
  return String(((BigInt(atMs) - DISCORD_EPOCH) << 22n) | sequence);
}

const hexToBytes = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
const bytesToHex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410): the fixed DER prefix, then the seed. */
const PKCS8_ED25519_PREFIX = "302e020100300506032b657004220420";
let signingKey: Promise<CryptoKey> | null = null;

function privateKey(): Promise<CryptoKey> {
  signingKey ??= crypto.subtle.importKey(
    "pkcs8",
    hexToBytes(PKCS8_ED25519_PREFIX + TEST_DISCORD_PRIVATE_KEY_HEX),
    { name: "Ed25519" },
    false,
    ["sign"],
  );
  return signingKey;
}

async function sign(timestamp: string, body: string): Promise<string> {
  const signature = await crypto.subtle.sign("Ed25519", await privateKey(), new TextEncoder().encode(timestamp + body));
  return bytesToHex(new Uint8Array(signature));
}

const nowSeconds = () => String(Math.floor(Date.now() / 1000));

export interface SignedOptions {
  timestamp?: string;
  /** Sign this text but send `body` (a tampered request). */
  signedBody?: string;
  headers?: Record<string, string>;
}

/** Headers and body as Discord sends them. */
export async function signedRequest(body: string, options: SignedOptions = {}): Promise<RequestInit> {
  const timestamp = options.timestamp ?? nowSeconds();
  return {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "Discord-Interactions/1.0 (+https://discord.com)",
      "x-signature-ed25519": await sign(timestamp, options.signedBody ?? body),
      "x-signature-timestamp": timestamp,
      ...options.headers,
    },
    body,
  };
}

export async function postInteraction(payload: unknown, options: SignedOptions = {}): Promise<Response> {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  return exports.default.fetch(new Request(`${BASE}/interactions`, await signedRequest(body, options)));
}

/** The JSON of a 200 interaction response. */
export async function interactionResponse(res: Response): Promise<InteractionReply> {
  if (res.status !== 200) throw new Error(`expected 200, got ${res.status}: ${await res.text()}`);
  return (await res.json()) as InteractionReply;
}

export interface InteractionReply {
  type: number;
  data?: {
    content?: string;
    flags?: number;
    components?: { type: number; components?: { type: number; custom_id?: string; label?: string; url?: string }[] }[];
    choices?: { name: string; value: string | number }[];
    custom_id?: string;
    title?: string;
    embeds?: Record<string, unknown>[];
  };
}

// ---- payload builders ----

export interface TestMember {
  id: string;
  username: string;
  roles: string[];
  permissions: string;
}

export function member(overrides: Partial<TestMember> = {}): TestMember {
  const id = overrides.id ?? snowflake();
  return { id, username: `member_${id.slice(-6)}`, roles: [], permissions: MEMBER_PERMISSIONS, ...overrides };
}

export const admin = (overrides: Partial<TestMember> = {}) => member({ permissions: ADMINISTRATOR, ...overrides });

export interface Guild {
  guildId: string;
  channelId: string;
}

export function guild(): Guild {
  return { guildId: snowflake(), channelId: snowflake() };
}

function memberObject(who: TestMember) {
  return {
    user: {
      id: who.id,
      username: who.username,
      global_name: who.username,
      avatar: null,
      discriminator: "0",
      public_flags: 0,
    },
    roles: who.roles,
    permissions: who.permissions,
    joined_at: "2026-01-01T00:00:00.000000+00:00",
    nick: null,
    avatar: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    premium_since: null,
  };
}

function envelope(type: number, at: Guild, who: TestMember, id = snowflake()) {
  return {
    id,
    application_id: APPLICATION_ID,
    type,
    token: `aW50ZXJhY3Rpb246${id}OnRva2Vu${crypto.randomUUID().replaceAll("-", "")}`,
    version: 1,
    guild_id: at.guildId,
    guild: { id: at.guildId, locale: "en-US", features: [] },
    channel_id: at.channelId,
    channel: { id: at.channelId, type: 0, guild_id: at.guildId, name: "signals" },
    member: memberObject(who),
    app_permissions: "562949953421311",
    locale: "en-US",
    guild_locale: "en-US",
    entitlements: [],
    authorizing_integration_owners: { "0": at.guildId },
    context: 0,
  };
}

export function ping() {
  return {
    id: snowflake(),
    application_id: APPLICATION_ID,
    type: 1,
    token: "ping-token",
    version: 1,
    user: { id: snowflake(), username: "discord", discriminator: "0" },
  };
}

type OptionValue = string | number | boolean;
export type Option = { name: string; type: number; value?: OptionValue; focused?: boolean; options?: Option[] };

export const OPTION = {
  SUB_COMMAND: 1,
  STRING: 3,
  INTEGER: 4,
  BOOLEAN: 5,
  USER: 6,
  CHANNEL: 7,
  ROLE: 8,
  NUMBER: 10,
} as const;

/** A slash command (type 2, data.type 1). */
export function slash(
  name: string,
  options: Option[],
  context: { at: Guild; who: TestMember; resolved?: Record<string, unknown>; id?: string },
) {
  return {
    ...envelope(2, context.at, context.who, context.id),
    data: {
      id: snowflake(Date.UTC(2026, 0, 1)),
      name,
      type: 1,
      guild_id: context.at.guildId,
      ...(options.length > 0 ? { options } : {}),
      ...(context.resolved ? { resolved: context.resolved } : {}),
    },
  };
}

/** `resolved` for a USER option: the user and their guild member (roles). */
export function resolvedUser(who: TestMember) {
  const { user, ...rest } = memberObject(who);
  return { users: { [who.id]: user }, members: { [who.id]: { ...rest, permissions: undefined } } };
}

/** Discord's message object (the fields every message carries), as a message command resolves it or a Gateway dispatch sends it. */
export function messageObject(message: {
  id: string;
  channelId: string;
  content: string;
  author: { id: string; username: string; global_name?: string | null };
  timestamp?: string;
}) {
  return {
    id: message.id,
    channel_id: message.channelId,
    content: message.content,
    author: { global_name: null, discriminator: "0", avatar: null, ...message.author },
    timestamp: message.timestamp ?? new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: 0,
    flags: 0,
    components: [],
  };
}

/** The message command "Execute as signal" run on a message. */
export function messageCommand(
  message: { id?: string; content: string; channelId?: string; author?: TestMember },
  context: { at: Guild; who: TestMember; id?: string },
) {
  const messageId = message.id ?? snowflake();
  const author = message.author ?? context.who;
  const channelId = message.channelId ?? context.at.channelId;
  return {
    ...envelope(2, { ...context.at, channelId }, context.who, context.id),
    data: {
      id: snowflake(Date.UTC(2026, 0, 1)),
      name: "Execute as signal",
      type: 3,
      guild_id: context.at.guildId,
      target_id: messageId,
      resolved: {
        messages: {
          [messageId]: messageObject({
            id: messageId,
            channelId,
            content: message.content,
            author: { id: author.id, username: author.username },
          }),
        },
      },
    },
  };
}

export function autocomplete(name: string, options: Option[], context: { at: Guild; who: TestMember }) {
  return {
    ...envelope(4, context.at, context.who),
    data: { id: snowflake(Date.UTC(2026, 0, 1)), name, type: 1, guild_id: context.at.guildId, options },
  };
}

export function buttonPress(customId: string, context: { at: Guild; who: TestMember; messageId?: string }) {
  return {
    ...envelope(3, context.at, context.who),
    message: {
      id: context.messageId ?? snowflake(),
      channel_id: context.at.channelId,
      content: "",
      flags: 64,
      components: [],
    },
    data: { custom_id: customId, component_type: 2 },
  };
}

/** Presses a button of an ephemeral reply by its label, as Discord sends it: the message it is on, embeds included. */
export async function pressButton(
  community: { at: Guild },
  who: TestMember,
  reply: InteractionReply,
  label: string,
): Promise<InteractionReply> {
  const button = reply.data?.components?.flatMap((row) => row.components ?? []).find((b) => b.label === label);
  if (!button?.custom_id) throw new Error(`no ${label} button`);
  const payload = buttonPress(button.custom_id, { at: community.at, who });
  Object.assign(payload.message, { embeds: reply.data?.embeds ?? [] });
  return interactionResponse(await postInteraction(payload));
}

/** A button pressed in a member's direct message (no guild, `context: 1`), as Discord sends it; returns the reply. */
export async function pressInDm(customId: string, who: { discordId: string; username: string }) {
  const {
    guild_id: _g,
    guild: _guild,
    member: _m,
    channel: _c,
    ...rest
  } = buttonPress(customId, { at: { guildId: snowflake(), channelId: snowflake() } as never, who: member() });
  const payload = { ...rest, context: 1, user: { id: who.discordId, username: who.username, global_name: null } };
  return interactionResponse(await postInteraction(payload));
}

/** A modal submit in the current layout: each text input inside a Label (type 18). */
export function modalSubmit(customId: string, values: Record<string, string>, context: { at: Guild; who: TestMember }) {
  return {
    ...envelope(5, context.at, context.who),
    data: {
      custom_id: customId,
      components: Object.entries(values).map(([key, value], index) => ({
        type: 18,
        id: index * 2 + 1,
        component: { type: 4, id: index * 2 + 2, custom_id: key, value },
      })),
    },
  };
}

export const EPHEMERAL = 64;

// ---- a registered community, and Discord's API faked at the HTTP boundary ----

/** A community registered through a real `/setup` (distinct from execution.ts's `TestCommunity`, built directly in D1). */
export interface RegisteredCommunity {
  at: Guild;
  communityId: string;
  owner: TestMember;
  providerRoleId: string;
  signalChannelId: string;
  /** A member holding the provider role. */
  provider(): TestMember;
}

/**
 * Runs a real /setup as a server admin (provider role + signal channel) and returns the community.
 * `aroundTheClock`: the community lets its members trade outside regular hours, for tests that place equity orders.
 */
export async function setUpCommunity(options: { aroundTheClock?: boolean } = {}): Promise<RegisteredCommunity> {
  const at = guild();
  const owner = admin();
  const providerRoleId = snowflake();
  const signalChannelId = at.channelId;
  const res = await postInteraction(
    slash(
      "setup",
      [
        { name: "provider_role", type: OPTION.ROLE, value: providerRoleId },
        { name: "signal_channel", type: OPTION.CHANNEL, value: signalChannelId },
      ],
      {
        at,
        who: owner,
        resolved: {
          roles: {
            [providerRoleId]: {
              id: providerRoleId,
              name: "Signal Provider",
              permissions: "0",
              position: 1,
              color: 0,
              hoist: false,
              managed: false,
              mentionable: true,
            },
          },
          channels: { [signalChannelId]: { id: signalChannelId, name: "signals", type: 0, permissions: "0" } },
        },
      },
    ),
  );
  if (res.status !== 200) throw new Error(`/setup answered ${res.status}: ${await res.text()}`);
  await res.json();
  const row = await env.DB.prepare("SELECT id FROM communities WHERE guild_id = ?")
    .bind(at.guildId)
    .first<{ id: string }>();
  if (!row) throw new Error("/setup did not register the community");
  if (options.aroundTheClock) await setCommunityRiskDefaults(row.id, AROUND_THE_CLOCK);
  return {
    at,
    communityId: row.id,
    owner,
    providerRoleId,
    signalChannelId,
    provider: () => member({ roles: [providerRoleId] }),
  };
}

export interface DiscordCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  /** The files of a `multipart/form-data` call (`files[n]`), as Discord receives them; the message is `body`. */
  files: { field: string; filename: string; contentType: string; text: string }[];
}

/** A call's message and files: JSON, or Discord's multipart form (`payload_json` and `files[n]`). */
async function readDiscordBody(request: Request): Promise<Pick<DiscordCall, "body" | "files">> {
  if (!request.headers.get("content-type")?.startsWith("multipart/form-data")) {
    const text = await request.text();
    return { body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, files: [] };
  }
  const form = await request.formData();
  const files: DiscordCall["files"] = [];
  for (const [field, value] of form.entries()) {
    if (typeof value === "string") continue;
    files.push({ field, filename: value.name, contentType: value.type, text: await value.text() });
  }
  const payload = form.get("payload_json");
  return { body: typeof payload === "string" ? (JSON.parse(payload) as Record<string, unknown>) : {}, files };
}

/** Where the Worker reaches Discord's HTTP API in tests (DISCORD_API_BASE is left at its default). */
const DISCORD_API = "https://discord.com/api/";

/**
 * Fakes Discord's HTTP API at the fetch boundary for the notifications consumer and the executor's DMs: every call
 * to Discord is recorded and answered as Discord does (a DM channel for `POST /users/@me/channels`, else 200 with a
 * message object); any other fetch goes through untouched. `restore()` puts the real fetch back.
 */
export function fakeDiscordApi() {
  const calls: DiscordCall[] = [];
  /** Direct messages as their recipients get them: the DM channel opened, then the message posted to it. */
  const dms: { recipient: string; content: string }[] = [];
  const recipients = new Map<string, string>();
  const original = globalThis.fetch;
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    if (!request.url.startsWith(DISCORD_API)) return original(input, init);
    const { body, files } = await readDiscordBody(request);
    calls.push({
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers.entries()),
      body,
      files,
    });
    if (request.method === "POST" && request.url.endsWith("/users/@me/channels")) {
      const channelId = snowflake();
      recipients.set(channelId, String(body.recipient_id));
      return Response.json({ id: channelId, type: 1, recipients: [{ id: body.recipient_id, username: "member" }] });
    }
    const channel = /\/channels\/(\d+)\/messages$/.exec(new URL(request.url).pathname)?.[1];
    const recipient = channel ? recipients.get(channel) : undefined;
    if (recipient) dms.push({ recipient, content: typeof body.content === "string" ? body.content : "" });
    return Response.json({
      id: snowflake(),
      type: 0,
      content: typeof body.content === "string" ? body.content : "",
      channel_id: snowflake(),
      author: { id: APPLICATION_ID, username: "Trade Executor", bot: true },
      timestamp: new Date().toISOString(),
      flags: 0,
      components: [],
    });
  });
  return {
    calls,
    dms,
    restore: () => spy.mockRestore(),
    /** Waits for the deferred reply's edit (PATCH @original) of one interaction. */
    async editOf(interaction: { token: string }, timeout = 5_000): Promise<DiscordCall> {
      const url = `${DISCORD_API}v10/webhooks/${APPLICATION_ID}/${encodeURIComponent(interaction.token)}/messages/@original`;
      return vi.waitFor(
        () => {
          const call = calls.find((c) => c.url === url && c.method === "PATCH");
          if (!call) throw new Error(`no edit of @original yet (${calls.length} Discord calls so far)`);
          return call;
        },
        { timeout, interval: 25 },
      );
    },
  };
}

/** The texts of the direct messages a member (by internal user id) was sent through a `fakeDiscordApi()`. */
export async function directMessagesTo(discord: ReturnType<typeof fakeDiscordApi>, userId: string): Promise<string[]> {
  const user = await env.DB.prepare("select discord_id from users where id = ?")
    .bind(userId)
    .first<{ discord_id: string }>();
  return discord.dms.filter((dm) => dm.recipient === user?.discord_id).map((dm) => dm.content);
}

/** The Discord identity of a member (by internal user id), as a button press from their DMs carries it. */
export async function discordIdentity(userId: string): Promise<{ discordId: string; username: string }> {
  const row = await env.DB.prepare("select discord_id, username from users where id = ?")
    .bind(userId)
    .first<{ discord_id: string; username: string }>();
  return { discordId: row?.discord_id ?? "", username: row?.username ?? "" };
}

/** "Label=custom_id" of each button under the message (through a `fakeDiscordApi()`) that says `text`. */
export function buttonsUnder(discord: ReturnType<typeof fakeDiscordApi>, text: string): string[] {
  const call = discord.calls.find((c) => typeof c.body?.content === "string" && c.body.content.includes(text));
  const rows = (call?.body?.components ?? []) as { components: { custom_id: string; label: string }[] }[];
  return rows.flatMap((row) => row.components.map((button) => `${button.label}=${button.custom_id}`));
}

/**
 * A command's private answer as the member finally reads it: the reply itself, or for a deferral (type 5) the edit
 * of @original that follows it, as queued for Discord (no fake Discord needed). /signal is acknowledged first, so
 * even its refusals come this way.
 */
export async function privateAnswer(payload: { token: string }): Promise<InteractionReply> {
  const spied = vi.isMockFunction(env.NOTIFY_QUEUE.send);
  const sent = vi.spyOn(env.NOTIFY_QUEUE, "send");
  try {
    const reply = await interactionResponse(await postInteraction(payload));
    if (reply.type !== 5) return reply;
    const edit = await vi.waitFor(
      () => {
        const queued = sent.mock.calls.map(([body]) => body as { kind?: string; token?: string; message?: object });
        const found = queued.find((body) => body.kind === "interaction.edit" && body.token === payload.token);
        if (!found?.message) throw new Error("no edit of the deferred reply queued yet");
        return found.message as NonNullable<InteractionReply["data"]>;
      },
      { timeout: 10_000, interval: 25 },
    );
    return { type: reply.type, data: { ...edit, flags: reply.data?.flags } };
  } finally {
    if (!spied) sent.mockRestore();
  }
}
