import { constantTimeEqual } from "../crypto/constant-time";
import { toBase64 } from "../crypto/encoding";
import { WEBHOOK_TOLERANCE_SECONDS, WebhookSignatureError, WebhookTimestampError } from "./provider";

/**
 * Standard Webhooks verification (https://www.standardwebhooks.com), as Polar
 * sends them: headers `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature` (space-separated `v1,<base64 HMAC-SHA256>` entries, so
 * several signatures may be valid during a secret rotation), signed content
 * `<id>.<timestamp>.<raw body>`, five minutes of tolerance.
 *
 * The HMAC key is the UTF-8 bytes of the secret string exactly as configured:
 * Polar's SDK base64-encodes the string before the Standard Webhooks library
 * decodes it again, so the key is never the base64-decoded secret.
 */

export interface VerifiedStandardWebhook {
  id: string;
  /** Unix seconds, as signed. */
  timestamp: number;
}

const encoder = new TextEncoder();

export async function verifyStandardWebhook(input: {
  secret: string;
  rawBody: string;
  headers: Headers;
  nowMs?: number;
  toleranceSeconds?: number;
}): Promise<VerifiedStandardWebhook> {
  const id = input.headers.get("webhook-id");
  const timestampHeader = input.headers.get("webhook-timestamp");
  const signatureHeader = input.headers.get("webhook-signature");
  if (!id || !timestampHeader || !signatureHeader) {
    throw new WebhookSignatureError("The webhook-id, webhook-timestamp and webhook-signature headers are required.");
  }
  if (!/^\d{1,12}$/.test(timestampHeader)) throw new WebhookSignatureError("The webhook-timestamp is not a number.");
  const timestamp = Number(timestampHeader);
  const nowSeconds = Math.floor((input.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > (input.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS)) {
    throw new WebhookTimestampError();
  }

  const expected = await standardWebhookSignature(input.secret, id, timestamp, input.rawBody);
  const candidates = signatureHeader
    .split(" ")
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => entry.slice(3));
  let matched = false;
  // Compare every candidate (no early exit) so timing does not reveal which one matched.
  for (const candidate of candidates) {
    if (await constantTimeEqual(candidate, expected)) matched = true;
  }
  if (!matched) throw new WebhookSignatureError();
  return { id, timestamp };
}

/** base64(HMAC-SHA256(utf8(secret), "<id>.<timestamp>.<body>")). */
async function standardWebhookSignature(
  secret: string,
  id: string,
  timestamp: number,
  rawBody: string,
): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestamp}.${rawBody}`));
  return toBase64(new Uint8Array(mac));
}
