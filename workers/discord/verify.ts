import { verifyKey } from "discord-interactions";

/**
 * Discord's request signature (Ed25519 over `timestamp + rawBody`), checked
 * before anything reads the body as JSON. Discord sends bad signatures on
 * purpose and removes endpoints that accept them.
 */

/** A genuine request replayed much later (or stamped far ahead) is refused too. */
const MAX_TIMESTAMP_SKEW_SECONDS = 5 * 60;

type VerificationFailure = {
  ok: false;
  code: "MISSING_SIGNATURE" | "INVALID_SIGNATURE" | "STALE_TIMESTAMP";
  message: string;
};
export type VerificationResult = { ok: true } | VerificationFailure;

const SIGNATURE = /^[0-9a-fA-F]{128}$/;
const TIMESTAMP = /^\d{1,12}$/;

const publicKeys = new Map<string, Promise<CryptoKey>>();

/** Imported once per isolate: importing the key costs about as much as verifying. */
function publicKeyFor(hex: string): Promise<CryptoKey> {
  let key = publicKeys.get(hex);
  if (!key) {
    const bytes = new Uint8Array(hex.match(/../g)?.map((pair) => Number.parseInt(pair, 16)) ?? []);
    key = crypto.subtle.importKey("raw", bytes, { name: "Ed25519" }, false, ["verify"]);
    key.catch(() => publicKeys.delete(hex));
    publicKeys.set(hex, key);
  }
  return key;
}

export async function verifyDiscordRequest(input: {
  rawBody: string;
  signature: string | undefined;
  timestamp: string | undefined;
  publicKeyHex: string;
  nowMs?: number;
}): Promise<VerificationResult> {
  const { signature, timestamp } = input;
  if (!signature || !timestamp) {
    return {
      ok: false,
      code: "MISSING_SIGNATURE",
      message: "X-Signature-Ed25519 and X-Signature-Timestamp headers are required.",
    };
  }
  if (!SIGNATURE.test(signature) || !TIMESTAMP.test(timestamp)) {
    return { ok: false, code: "INVALID_SIGNATURE", message: "The request signature is not valid." };
  }
  const valid = await verifyKey(input.rawBody, signature, timestamp, await publicKeyFor(input.publicKeyHex));
  if (!valid) return { ok: false, code: "INVALID_SIGNATURE", message: "The request signature is not valid." };

  const skewSeconds = Math.abs((input.nowMs ?? Date.now()) / 1000 - Number(timestamp));
  if (skewSeconds > MAX_TIMESTAMP_SKEW_SECONDS) {
    return {
      ok: false,
      code: "STALE_TIMESTAMP",
      message: `The request timestamp is ${Math.round(skewSeconds)} s away from now (at most ${MAX_TIMESTAMP_SKEW_SECONDS} s is accepted).`,
    };
  }
  return { ok: true };
}
