const encoder = new TextEncoder();

/**
 * A key for one purpose, derived from a shared secret as HMAC-SHA256(secret,
 * purpose). Tokens signed for one purpose (a session, a billing link, the
 * Worker's hand-off to the realtime hub) never verify for another, though all
 * come from SESSION_SECRET.
 */
export async function purposeKey(secret: string, purpose: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(purpose)));
}
