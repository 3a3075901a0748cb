import { describe, expect, it } from "vitest";
import { verifySha256Signature } from "../../shared/crypto/hmac";
import { masterKeyring, openSecret, SealedSecretError, sealSecret } from "../../shared/crypto/sealed-secret";

const KEY_A = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_B = "HxwdHhscGRoXGBYVExQSERAPDg0MCwoJCAcGBQQDAgE=";

describe("sealed secrets", () => {
  it("Scenario: A sealed secret opens only with its key and its binding", () => {
    const keyring = masterKeyring({ MASTER_KEY: KEY_A, MASTER_KEY_ID: "k1" });
    const current = keyring.current;
    if (!current) throw new Error("the keyring has a current key");
    const sealed = sealSecret("the-signing-secret", current, "signal-webhook:c1:w1");
    expect(sealed).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("the-signing-secret");
    // A fresh nonce each time: the same secret never seals to the same text.
    expect(sealSecret("the-signing-secret", current, "signal-webhook:c1:w1")).not.toBe(sealed);
    expect(openSecret(sealed, keyring, "signal-webhook:c1:w1")).toBe("the-signing-secret");

    // Moved to another row, altered, or under a key that is not configured: never opened.
    expect(() => openSecret(sealed, keyring, "signal-webhook:c2:w1")).toThrow(SealedSecretError);
    const [version, id, nonce, body = ""] = sealed.split(".");
    const flipped = `${body.slice(0, -2)}${body.at(-2) === "A" ? "B" : "A"}${body.at(-1)}`;
    expect(() => openSecret([version, id, nonce, flipped].join("."), keyring, "signal-webhook:c1:w1")).toThrow(
      SealedSecretError,
    );
    expect(() =>
      openSecret(sealed, masterKeyring({ MASTER_KEY: KEY_B, MASTER_KEY_ID: "k2" }), "signal-webhook:c1:w1"),
    ).toThrow(/master key "k1" is not configured/);
    expect(() => openSecret("v2.k1.x.y", keyring, "signal-webhook:c1:w1")).toThrow(SealedSecretError);

    // After a master key rotation the old key, listed as retired, still opens what it sealed.
    const rotated = masterKeyring({ MASTER_KEY: KEY_B, MASTER_KEY_ID: "k2", MASTER_KEYS_RETIRED: { k1: KEY_A } });
    expect(rotated.current?.id).toBe("k2");
    expect(openSecret(sealed, rotated, "signal-webhook:c1:w1")).toBe("the-signing-secret");
    expect(masterKeyring({}).current).toBeNull();
  });

  it("Scenario: A sha256 signature header verifies only the exact body under the secret", async () => {
    // The well-known HMAC-SHA256 test vector (key "key").
    const body = "The quick brown fox jumps over the lazy dog";
    const expected = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8";
    expect(await verifySha256Signature(`sha256=${expected}`, "key", body)).toBe(true);
    expect(await verifySha256Signature(` sha256=${expected.toUpperCase()} `, "key", body)).toBe(true);
    expect(await verifySha256Signature(`sha256=${expected}`, "other", body)).toBe(false);
    expect(await verifySha256Signature(`sha256=${expected}`, "key", `${body}.`)).toBe(false);
    for (const header of [expected, `sha1=${expected}`, "sha256=", `sha256=${expected}00`, ""]) {
      expect(await verifySha256Signature(header, "key", body)).toBe(false);
    }
  });
});
