import { randomBytes, webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import { DEMO_COMMUNITY, DEMO_PROVIDER } from "./seed-data.ts";

/**
 * Sends a signal to a local Worker exactly as Discord would: a `/signal text:`
 * interaction from the demo provider, signed with the local Ed25519 key that
 * `npm start` generated (.dev.keys.json), then follows the orders it produced
 * through the operator API.
 */

const DISCORD_EPOCH = 1420070400000n;

function snowflake(at = Date.now()): string {
  return String(((BigInt(at) - DISCORD_EPOCH) << 22n) | BigInt(randomBytes(2).readUInt16BE() & 0x3fffff));
}

export interface DevKeys {
  discord: { privateKeyJwk: webcrypto.JsonWebKey };
}

export function readDevKeys(file: string): DevKeys {
  return JSON.parse(readFileSync(file, "utf8")) as DevKeys;
}

export interface DemoOrder {
  id: string;
  userId: string;
  leg: string;
  side: string;
  symbol: string;
  quantity: number;
  status: string;
  filledQuantity: number;
  averageFillPrice: number | null;
  statusReason: string | null;
}

export async function sendDemoSignal(options: {
  baseUrl: string;
  text: string;
  /** The Ed25519 private key (JWK) matching the Worker's DISCORD_PUBLIC_KEY. */
  privateKeyJwk: webcrypto.JsonWebKey;
  applicationId: string;
}): Promise<{ status: number; body: unknown; interactionId: string }> {
  return sendInteraction({
    ...options,
    user: DEMO_PROVIDER,
    command: { name: "signal", options: [{ name: "text", type: 3, value: options.text }] },
  });
}

/** `/close symbol:<symbol>` run by `user` in the demo community (`all` closes every position). */
export async function sendDemoClose(options: {
  baseUrl: string;
  privateKeyJwk: webcrypto.JsonWebKey;
  applicationId: string;
  user: { discordId: string; username: string };
  symbol: string;
}): Promise<{ status: number; body: unknown; interactionId: string }> {
  return sendInteraction({
    ...options,
    command: { name: "close", options: [{ name: "symbol", type: 3, value: options.symbol }] },
  });
}

/**
 * A slash command in the demo community's server, sent to a local Worker exactly as Discord sends it: signed with
 * the Ed25519 key matching its DISCORD_PUBLIC_KEY, from `user` (a member holding no role).
 */
async function sendInteraction(options: {
  baseUrl: string;
  privateKeyJwk: webcrypto.JsonWebKey;
  applicationId: string;
  user: { discordId: string; username: string };
  command: { name: string; options?: readonly { name: string; type: number; value: string | number | boolean }[] };
}): Promise<{ status: number; body: unknown; interactionId: string }> {
  const key = await webcrypto.subtle.importKey("jwk", options.privateKeyJwk, { name: "Ed25519" }, false, ["sign"]);
  const id = snowflake();
  const channelId = snowflake();
  const payload = {
    id,
    application_id: options.applicationId,
    type: 2,
    token: `demo-${randomBytes(24).toString("hex")}`,
    version: 1,
    guild_id: DEMO_COMMUNITY.guildId,
    channel_id: channelId,
    member: {
      user: { id: options.user.discordId, username: options.user.username, global_name: null },
      roles: [],
      permissions: "2147483648",
    },
    data: {
      id: snowflake(Date.UTC(2026, 0, 1)),
      name: options.command.name,
      type: 1,
      guild_id: DEMO_COMMUNITY.guildId,
      ...(options.command.options ? { options: options.command.options } : {}),
    },
    locale: "en-US",
  };
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = Buffer.from(
    await webcrypto.subtle.sign("Ed25519", key, new TextEncoder().encode(timestamp + body)),
  ).toString("hex");
  const res = await fetch(`${options.baseUrl}/interactions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-signature-ed25519": signature,
      "x-signature-timestamp": timestamp,
    },
    body,
  });
  return { status: res.status, body: await res.json().catch(() => null), interactionId: id };
}

/**
 * `/dashboard` run by `user` in the demo community: the single-use sign-in link it answers with, or why there is
 * none (the status and body).
 */
export async function requestDashboardLink(options: {
  baseUrl: string;
  privateKeyJwk: webcrypto.JsonWebKey;
  applicationId: string;
  user: { discordId: string; username: string };
}): Promise<{ url: string } | { refused: string }> {
  const sent = await sendInteraction({ ...options, command: { name: "dashboard" } });
  const body = sent.body as { data?: { components?: { components?: { url?: string }[] }[] } } | null;
  const url = body?.data?.components?.[0]?.components?.[0]?.url;
  if (sent.status === 200 && typeof url === "string") return { url };
  return { refused: `/dashboard answered ${sent.status}: ${JSON.stringify(sent.body)}` };
}

/** The demo community's orders, newest first, through the operator API. */
async function demoOrders(baseUrl: string, opsToken: string): Promise<DemoOrder[]> {
  const res = await fetch(`${baseUrl}/api/v1/communities/${DEMO_COMMUNITY.id}/orders?limit=500`, {
    headers: { authorization: `Bearer ${opsToken}` },
  });
  if (!res.ok) throw new Error(`GET orders answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { orders: DemoOrder[] }).orders;
}

/** Polls until `done(orders)` holds or the time is up; returns the last orders seen. */
export async function waitForOrders(
  baseUrl: string,
  opsToken: string,
  done: (orders: DemoOrder[]) => boolean,
  timeoutMs = 20_000,
): Promise<DemoOrder[]> {
  const started = Date.now();
  for (;;) {
    const orders = await demoOrders(baseUrl, opsToken);
    if (done(orders) || Date.now() - started > timeoutMs) return orders;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function readDevVar(file: string, name: string): string | undefined {
  const line = readFileSync(file, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1).replace(/^"(.*)"$/, "$1");
}
