import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMINISTRATOR, guild, member, ping, postInteraction, signedRequest, slash } from "../support/discord";
import { BASE, errorOf } from "../support/http";

const post = (init: RequestInit) => exports.default.fetch(new Request(`${BASE}/interactions`, init));

describe("interaction verification", () => {
  it("Scenario: A signed PING is answered with PONG", async () => {
    const res = await postInteraction(ping());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ type: 1 });
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
    const body = JSON.stringify({ ...ping(), padding: "x".repeat(70 * 1024) });
    const res = await postInteraction(body);
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("PAYLOAD_TOO_LARGE");
  });
});
