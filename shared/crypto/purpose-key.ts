const encoder = new TextEncoder();

/** WebCrypto's key type, named the same way under workerd and Node (where `CryptoKey` is not a global type). */
export type PurposeKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** Derived keys kept per isolate: a handful in practice (one per purpose, a second secret during a rotation). */
const MAX_CACHED = 32;
const cache = new Map<string, Promise<PurposeKey>>();

/**
 * A key for one purpose, derived from a shared secret as HMAC-SHA256(secret,
 * purpose), as an HMAC-SHA256 key for signing and verifying (what HS256
 * tokens need). Tokens signed for one purpose (a session, a billing link, the
 * Worker's hand-off to the realtime hub) never verify for another, though all
 * come from SESSION_SECRET. Derived once per isolate and kept: every
 * authenticated request verifies a token, and derivation is two imports and a
 * signature.
 */
export function purposeKey(secret: string, purpose: string): Promise<PurposeKey> {
  const id = `${purpose}\u0000${secret}`;
  let key = cache.get(id);
  if (!key) {
    if (cache.size >= MAX_CACHED) cache.clear();
    key = derive(secret, purpose);
    cache.set(id, key);
    key.catch(() => cache.delete(id));
  }
  return key;
}

/** The purpose key's raw bytes, HMAC-SHA256(secret, purpose). */
export async function purposeKeyBytes(secret: string, purpose: string): Promise<Uint8Array> {
  const master = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", master, encoder.encode(purpose)));
}

async function derive(secret: string, purpose: string): Promise<PurposeKey> {
  const derived = await purposeKeyBytes(secret, purpose);
  return crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}
