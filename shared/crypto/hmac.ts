import { constantTimeEqual } from "./constant-time";
import { toHex } from "./encoding";

const encoder = new TextEncoder();

/** Hex HMAC-SHA256 of `message` under the UTF-8 bytes of `secret`. */
export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message))));
}

/**
 * Checks a `sha256=<hex>` signature header (the form GitHub-style webhooks use) against the raw body, in constant
 * time. Hex digits are compared case-insensitively; anything that is not `sha256=` and 64 hex digits fails.
 */
export async function verifySha256Signature(header: string, secret: string, rawBody: string): Promise<boolean> {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  const expected = await hmacSha256Hex(secret, rawBody);
  // Compared even when the header is malformed, so the time taken says nothing about its shape.
  const equal = await constantTimeEqual(match?.[1]?.toLowerCase() ?? "", expected);
  return match !== null && equal;
}
