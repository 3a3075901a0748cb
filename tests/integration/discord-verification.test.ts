import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { verifyDiscordRequest } from "../../workers/discord/verify";
import { INTERACTION_BODY_LIMIT_BYTES } from "../../workers/http/routes/interactions";
import {
  ADMINISTRATOR,
  EPHEMERAL,
  guild,
  interactionResponse,
  member,
  ping,
  postInteraction,
  signedRequest,
  slash,
} from "../support/discord";
import { BASE, errorOf } from "../support/http";

/** The test-only service_binding_extra_handlers flag adds scheduled() to the entry's binding. */
interface ScheduledFetcher {
  scheduled(options: { cron: string; scheduledTime: number }): Promise<unknown>;
}

const post = (init: RequestInit) => exports.default.fetch(new Request(`${BASE}/interactions`, init));

describe("interaction verification", () => {
  it("Scenario: A signed PING is answered with PONG", async () => {
    const res = await postInteraction(ping());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ type: 1 });
  });

  it("Scenario: A replayed interaction id is answered without running again", async () => {
    const at = guild();
    const help = slash("help", [], { at, who: member() });
    const first = await interactionResponse(await postInteraction(help));
    expect(first.data?.content).toContain("/follow");
    // Same id, same body, a fresh valid signature: only a replay can look like this.
    const again = await interactionResponse(await postInteraction(help));
    expect(again).toMatchObject({
      type: 4,
      data: { flags: EPHEMERAL, content: "This interaction was already received, so nothing was done again." },
    });
    // PINGs are not remembered: Discord may check the endpoint with the same one again.
    const pingPayload = ping();
    for (let i = 0; i < 2; i++) expect(await (await postInteraction(pingPayload)).json()).toEqual({ type: 1 });
  });

  it("Scenario: Interaction ids are remembered for an hour", async () => {
    const now = Date.now();
    const [old, recent] = [crypto.randomUUID(), crypto.randomUUID()];
    await env.DB.batch([
      env.DB.prepare("INSERT INTO interaction_receipts (id, received_at) VALUES (?, ?)").bind(old, now - 61 * 60_000),
      env.DB.prepare("INSERT INTO interaction_receipts (id, received_at) VALUES (?, ?)").bind(
        recent,
        now - 59 * 60_000,
      ),
    ]);
    await (exports.default as unknown as ScheduledFetcher).scheduled({ cron: "0 2 * * *", scheduledTime: now });
    const left = await env.DB.prepare("SELECT id FROM interaction_receipts WHERE id IN (?, ?)").bind(old, recent).all();
    expect(left.results.map((r) => r.id)).toEqual([recent]);
  });

  it("Scenario: A request without signature headers is refused", async () => {
    const res = await post({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ping()),
    });
    expect(res.status).toBe(401);
    const error = await errorOf(res);
    expect(error.code).toBe("MISSING_SIGNATURE");
  });

  it("Scenario: The public key is imported once and reused", async () => {
    const keyPair = async () => {
      const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
      const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
      return { privateKey: pair.privateKey, hex: [...raw].map((b) => b.toString(16).padStart(2, "0")).join("") };
    };
    const signed = async (key: { privateKey: CryptoKey; hex: string }, rawBody: string) => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const bytes = new TextEncoder().encode(timestamp + rawBody);
      const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, bytes));
      const hex = [...signature].map((b) => b.toString(16).padStart(2, "0")).join("");
      return { rawBody, signature: hex, timestamp, publicKeyHex: key.hex };
    };
    const [first, second] = [await keyPair(), await keyPair()];
    const imports = vi.spyOn(crypto.subtle, "importKey");
    try {
      for (let i = 0; i < 5; i++) {
        expect(await verifyDiscordRequest(await signed(first, `{"n":${i}}`))).toEqual({ ok: true });
      }
      expect(imports).toHaveBeenCalledTimes(1);
      expect(await verifyDiscordRequest(await signed(second, "{}"))).toEqual({ ok: true });
      expect(await verifyDiscordRequest(await signed(first, "{}"))).toEqual({ ok: true });
      // One import per public key, however many requests it verifies.
      expect(imports).toHaveBeenCalledTimes(2);
      // A signature by the other key still fails against the cached one.
      const crossed = { ...(await signed(second, "{}")), publicKeyHex: first.hex };
      expect(await verifyDiscordRequest(crossed)).toMatchObject({ ok: false, code: "INVALID_SIGNATURE" });
    } finally {
      imports.mockRestore();
    }
  });

  it("Scenario: A wrong signature is refused", async () => {
    const body = JSON.stringify(ping());
    const init = await signedRequest(body);
    const headers = new Headers(init.headers);
    const signature = headers.get("x-signature-ed25519") ?? "";
    headers.set("x-signature-ed25519", `${signature.slice(0, -2)}${signature.endsWith("00") ? "11" : "00"}`);
    const res = await post({ ...init, headers });
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe("INVALID_SIGNATURE");
  });

  it("Scenario: A tampered body is refused", async () => {
    const original = JSON.stringify(ping());
    const tampered = original.replace('"type":1', '"type":2');
    const res = await postInteraction(tampered, { signedBody: original });
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe("INVALID_SIGNATURE");
  });

  it("Scenario: A timestamp far from now is refused", async () => {
    const stale = String(Math.floor(Date.now() / 1000) - 10 * 60);
    const future = String(Math.floor(Date.now() / 1000) + 10 * 60);
    for (const timestamp of [stale, future]) {
      const res = await postInteraction(ping(), { timestamp });
      expect(res.status).toBe(401);
      const error = await errorOf(res);
      expect(error.code).toBe("STALE_TIMESTAMP");
      expect(error.message).toMatch(/at most 300 s/);
    }
  });

  it("Scenario: Malformed JSON with a valid signature is a 400", async () => {
    const res = await postInteraction('{"type": 1,');
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe("INVALID_JSON");
  });

  it("Scenario: A payload that is not an interaction is a 400 naming the field", async () => {
    const at = guild();
    const payload = slash("help", [], { at, who: member({ permissions: ADMINISTRATOR }) });
    const res = await postInteraction({ ...payload, member: { ...payload.member, permissions: "lots" } });
    expect(res.status).toBe(400);
    const error = (await res.json()) as { error: { code: string; details: { path: string; message: string }[] } };
    expect(error.error.code).toBe("INVALID_INTERACTION");
    expect(error.error.details).toContainEqual(
      expect.objectContaining({ path: "member.permissions", message: "must be a decimal permission bit set" }),
    );
  });

  it("Scenario: An oversize body is refused before verification", async () => {
    const body = JSON.stringify({ ...ping(), padding: "x".repeat(INTERACTION_BODY_LIMIT_BYTES + 1) });
    const res = await postInteraction(body);
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("PAYLOAD_TOO_LARGE");
  });
});
