/**
 * The client order id every broker receives: derived from who, what and which
 * leg, so a retry or a redelivered message always reuses the same id and the
 * broker refuses a duplicate. 20 characters of [0-9a-z] (E*TRADE's limit is 20
 * alphanumerics; lower case survives brokers that fold case): about 103 bits of
 * SHA-256, so collisions are not a practical concern.
 */
export const CLIENT_ORDER_ID_LENGTH = 20;

export interface ClientOrderIdParts {
  communityId: string;
  signalId: string;
  followerId: string;
  /** "entry", "stop", "tp1", "exit"... */
  leg: string;
}

const ID_SPACE = 36n ** BigInt(CLIENT_ORDER_ID_LENGTH);
const encoder = new TextEncoder();

export async function clientOrderId(parts: ClientOrderIdParts): Promise<string> {
  // Length-prefixed so ("ab","c") and ("a","bc") cannot hash alike.
  const canonical = [parts.communityId, parts.signalId, parts.followerId, parts.leg]
    .map((part) => `${part.length}:${part}`)
    .join("|");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(canonical)));
  let value = 0n;
  for (const byte of digest.subarray(0, 16)) value = (value << 8n) | BigInt(byte);
  return (value % ID_SPACE).toString(36).padStart(CLIENT_ORDER_ID_LENGTH, "0");
}

export function isClientOrderId(value: string): boolean {
  return /^[0-9a-z]{20}$/.test(value);
}
