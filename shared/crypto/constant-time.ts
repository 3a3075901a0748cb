import { toHex } from "./encoding";

const encoder = new TextEncoder();

/**
 * Compares two secrets without leaking where they differ or how long they are:
 * both sides are hashed first, so the XOR loop always runs over 32 bytes.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [left, right] = await Promise.all([digest(a), digest(b)]);
  let difference = 0;
  for (let i = 0; i < left.length; i++) difference |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return difference === 0;
}

/**
 * The secret among `secrets` that `candidate` equals, or null. Every secret is
 * compared, whichever matches, so the time taken does not say which one did
 * (operator tokens during a rotation).
 */
export async function matchingSecret(candidate: string, secrets: readonly string[]): Promise<string | null> {
  const results = await Promise.all(secrets.map((secret) => constantTimeEqual(candidate, secret)));
  const index = results.indexOf(true);
  return index === -1 ? null : (secrets[index] ?? null);
}

/**
 * Names a secret in logs and audit records without revealing it: the first 12
 * hex digits (48 bits) of its SHA-256, enough to tell a handful of tokens apart.
 */
export async function secretFingerprint(secret: string): Promise<string> {
  return (await sha256Hex(secret)).slice(0, 12);
}

async function digest(value: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value)));
}

export async function sha256Hex(value: string): Promise<string> {
  return toHex(await digest(value));
}
