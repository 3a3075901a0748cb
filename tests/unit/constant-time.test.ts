import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { constantTimeEqual, matchingSecret, sha256Hex } from "../../shared/crypto/constant-time";

/** Pairs of different strings whose SHA-256 digests agree on the bytes `key` picks out. */
async function pairsSharing(pool: readonly string[], key: (hex: string) => string): Promise<[string, string][]> {
  const buckets = new Map<string, string[]>();
  for (const value of pool) {
    const bucket = key(await sha256Hex(value));
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), value]);
  }
  return [...buckets.values()].flatMap((values) =>
    values.slice(1).map((other) => [values[0], other] as [string, string]),
  );
}

describe("constant-time comparison", () => {
  it("Scenario: The constant-time comparison rejects any two different strings", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), async (a, b) => {
        expect(await constantTimeEqual(a, b)).toBe(a === b);
      }),
      { numRuns: 1_000 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary" }), async (a) => {
        expect(await constantTimeEqual(a, a.slice())).toBe(true);
      }),
      { numRuns: 200 },
    );
    // Near misses: one character changed, dropped or added, anywhere in a token-like string.
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 32, maxLength: 64 }), fc.nat(), async (token, at) => {
        const i = at % token.length;
        const changed = token.slice(0, i) + String.fromCharCode(token.charCodeAt(i) ^ 1) + token.slice(i + 1);
        for (const other of [changed, token.slice(0, i) + token.slice(i + 1), `${token}x`, token.slice(0, -1)]) {
          expect(await constantTimeEqual(token, other)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("Scenario: Strings whose digests share bytes are still told apart", async () => {
    const salt = crypto.randomUUID();
    const pool = Array.from({ length: 3_000 }, (_, i) => `ops-token-${salt}-${i}`);
    const classes = {
      firstByte: await pairsSharing(pool, (hex) => hex.slice(0, 2)),
      lastByte: await pairsSharing(pool, (hex) => hex.slice(-2)),
      firstTwoBytes: await pairsSharing(pool, (hex) => hex.slice(0, 4)),
      lastTwoBytes: await pairsSharing(pool, (hex) => hex.slice(-4)),
      firstAndLastByte: await pairsSharing(pool, (hex) => hex.slice(0, 2) + hex.slice(-2)),
    };
    for (const [name, pairs] of Object.entries(classes)) {
      expect(pairs.length, name).toBeGreaterThan(10);
      for (const [a, b] of pairs) expect(await constantTimeEqual(a, b), `${name}: ${a} vs ${b}`).toBe(false);
    }
  });

  it("Scenario: Any of several secrets is matched, and nothing else", async () => {
    const secrets = ["current-token-0123456789abcdef012345", "previous-token-0123456789abcdef0123"];
    expect(await matchingSecret(secrets[1] as string, secrets)).toBe(secrets[1]);
    expect(await matchingSecret(secrets[0] as string, secrets)).toBe(secrets[0]);
    for (const wrong of ["", "current-token", `${secrets[0]} `, (secrets[1] as string).slice(0, -1)]) {
      expect(await matchingSecret(wrong, secrets)).toBeNull();
    }
    expect(await matchingSecret(secrets[0] as string, [])).toBeNull();
  });
});
