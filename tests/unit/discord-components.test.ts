import { describe, expect, it } from "vitest";
import { BUTTON_LIFETIME_SECONDS, signComponentId, verifyComponentId } from "../../shared/discord/components";

const SECRET = "unit-test-session-secret-0123456789abcdef";
const REF = { kind: "trade", action: "confirm", id: crypto.randomUUID() };

describe("signed component ids", () => {
  it("Scenario: A signed button id round-trips within its lifetime", async () => {
    const now = Date.UTC(2026, 5, 1, 12);
    const customId = await signComponentId(SECRET, REF, { nowMs: now });
    expect(customId.length).toBeLessThanOrEqual(100);
    expect(customId).toMatch(/^trade:confirm:[0-9a-f-]{36}:[0-9a-z]+:[A-Za-z0-9_-]{22}$/);
    const verified = await verifyComponentId(SECRET, customId, { nowMs: now + (BUTTON_LIFETIME_SECONDS - 1) * 1000 });
    expect(verified).toEqual({
      ok: true,
      ...REF,
      expiresAt: Math.floor(now / 1000) * 1000 + BUTTON_LIFETIME_SECONDS * 1000,
    });
  });

  it("Scenario: A tampered, forged or expired button id is refused", async () => {
    const now = Date.now();
    const customId = await signComponentId(SECRET, REF, { nowMs: now });
    const [kind, , id, exp, tag] = customId.split(":");
    expect(await verifyComponentId(SECRET, [kind, "cancel", id, exp, tag].join(":"), { nowMs: now })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    const laterExp = (Number.parseInt(exp ?? "0", 36) + 3600).toString(36);
    expect(await verifyComponentId(SECRET, [kind, "confirm", id, laterExp, tag].join(":"), { nowMs: now })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(await verifyComponentId("another-secret-entirely-0123456789", customId, { nowMs: now })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(await verifyComponentId(SECRET, customId, { nowMs: now + (BUTTON_LIFETIME_SECONDS + 1) * 1000 })).toEqual({
      ok: false,
      reason: "expired",
      kind: "trade",
    });
    for (const junk of [
      "",
      "trade",
      "trade:confirm:x:y",
      "a:b:c:d:e:f",
      "TRADE:confirm:1:abc:xxxxxxxxxxxxxxxxxxxxxx",
    ]) {
      expect((await verifyComponentId(SECRET, junk, { nowMs: now })).ok).toBe(false);
    }
  });

  it("refuses references a custom_id cannot carry", async () => {
    await expect(signComponentId(SECRET, { kind: "trade", action: "confirm", id: "a:b" })).rejects.toThrow(TypeError);
  });
});
