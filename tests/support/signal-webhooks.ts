import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call, opsHeaders } from "./http";

/**
 * Signal webhooks as their senders use them: created over the operator API, then posted to like TradingView
 * (the key in the URL, any content type) or like a signing sender (`x-signature: sha256=<hex HMAC-SHA256 of the
 * raw body>`, computed here with WebCrypto, independently of the code under test).
 */

export interface TestWebhook {
  id: string;
  url: string;
  secret: string;
  key: string;
  /** The URL's path (tests call the Worker at its own base). */
  path: string;
}

export async function providerDiscordId(userId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT discord_id FROM users WHERE id = ?")
    .bind(userId)
    .first<{ discord_id: string }>();
  if (!row) throw new Error(`no user ${userId}`);
  return row.discord_id;
}

export async function createWebhook(communityId: string, providerUserId: string): Promise<TestWebhook> {
  const res = await call(`/api/v1/communities/${communityId}/signal-webhooks`, {
    method: "POST",
    headers: opsHeaders({ "content-type": "application/json" }),
    body: JSON.stringify({ provider: await providerDiscordId(providerUserId) }),
  });
  expect(res.status).toBe(201);
  const created = (await res.json()) as { id: string; url: string; secret: string };
  return fromUrl(created);
}

export function fromUrl(created: { id: string; url: string; secret: string }): TestWebhook {
  const url = new URL(created.url);
  const key = url.pathname.split("/").at(-1) ?? "";
  return { ...created, key, path: url.pathname };
}

export async function hmacHex(secret: string, body: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export interface PostOptions {
  /** Sign the body with this secret (x-signature: sha256=...). */
  signWith?: string;
  headers?: Record<string, string>;
}

/** POSTs a signal as a webhook sender would: JSON as given, or a raw text body. */
export async function postSignal(path: string, body: unknown, options: PostOptions = {}): Promise<Response> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (options.signWith) headers["x-signature"] = `sha256=${await hmacHex(options.signWith, text)}`;
  return call(path, { method: "POST", headers, body: text });
}

export async function signalCount(communityId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM signals WHERE community_id = ?")
    .bind(communityId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
