import { describe, expect, it } from "vitest";
import {
  communityOfScope,
  communityScope,
  DATA_KEY_SEAL_LIMIT_MS,
  isPastSealLimit,
  newDataKey,
  PLATFORM_SCOPE,
  unwrapDataKey,
  wrapDataKey,
} from "../../shared/crypto/data-keys";
import {
  masterKeyring,
  openUnderDataKey,
  SealedSecretError,
  sealedKeyOf,
  sealUnderDataKey,
} from "../../shared/crypto/sealed-secret";

const KEY_A = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

describe("data keys", () => {
  it("Scenario: A data key wraps under the master key for its scope and seals under its own id", () => {
    const keyring = masterKeyring({ MASTER_KEY: KEY_A, MASTER_KEY_ID: "k1" });
    const master = keyring.current;
    if (!master) throw new Error("the keyring has a current key");
    const key = newDataKey();
    expect(key.id).toMatch(/^dk_[A-Za-z0-9_-]{16}$/);
    expect(key.bytes).toHaveLength(32);
    expect(newDataKey().id).not.toBe(key.id);

    const scope = communityScope("c-1");
    const wrapped = wrapDataKey(key, scope, master);
    expect(sealedKeyOf(wrapped)).toEqual({ kind: "master", keyId: "k1" });
    expect(unwrapDataKey(wrapped, scope, key.id, keyring).bytes).toEqual(key.bytes);
    // Bound to its scope and id: moved to another scope or row, it does not unwrap.
    expect(() => unwrapDataKey(wrapped, PLATFORM_SCOPE, key.id, keyring)).toThrow(SealedSecretError);
    expect(() => unwrapDataKey(wrapped, scope, "dk_other", keyring)).toThrow(SealedSecretError);

    const sealed = sealUnderDataKey("a-secret", key, "row:1");
    expect(sealedKeyOf(sealed)).toEqual({ kind: "data-key", keyId: key.id });
    expect(openUnderDataKey(sealed, key, "row:1")).toBe("a-secret");
    expect(() => openUnderDataKey(sealed, newDataKey(), "row:1")).toThrow(/Sealed under data key/);
    expect(() => openUnderDataKey(sealed, key, "row:2")).toThrow(SealedSecretError);
    expect(sealedKeyOf("v3.x.y.z")).toBeNull();
    expect(sealedKeyOf("not sealed")).toBeNull();

    expect(communityOfScope(scope)).toBe("c-1");
    expect(communityOfScope(PLATFORM_SCOPE)).toBeNull();
    expect(isPastSealLimit(0, DATA_KEY_SEAL_LIMIT_MS - 1)).toBe(false);
    expect(isPastSealLimit(0, DATA_KEY_SEAL_LIMIT_MS)).toBe(true);
  });
});
