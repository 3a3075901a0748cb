import { gcm } from "@noble/ciphers/aes.js";
import { fromBase64, fromBase64Url, toBase64Url } from "./encoding";

/**
 * Secrets the platform must read back (a webhook's signing secret), sealed with AES-256-GCM under the master key
 * (`MASTER_KEY`, named by `MASTER_KEY_ID`). The text is versioned and names its key:
 * `v1.<keyId>.<nonce>.<ciphertext+tag>` (base64url), so a master key rotation keeps old secrets readable through
 * `MASTER_KEYS_RETIRED`. The additional authenticated data binds each sealed secret to its row (community and
 * record), so a sealed value copied to another row does not open.
 */

const VERSION = "v1";
const NONCE_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface MasterKey {
  id: string;
  bytes: Uint8Array;
}

export interface MasterKeyring {
  /** The key new secrets are sealed under; null when MASTER_KEY is not configured. */
  current: MasterKey | null;
  /** Any configured key by id (current or retired), for opening. */
  byId(id: string): Uint8Array | null;
}

export class SealedSecretError extends Error {}

/** The keyring from the config's MASTER_KEY, MASTER_KEY_ID and MASTER_KEYS_RETIRED (base64 of 32 bytes each). */
export function masterKeyring(config: {
  MASTER_KEY?: string;
  MASTER_KEY_ID?: string;
  MASTER_KEYS_RETIRED?: Record<string, string>;
}): MasterKeyring {
  const keys = new Map<string, Uint8Array>();
  for (const [id, encoded] of Object.entries(config.MASTER_KEYS_RETIRED ?? {})) {
    const bytes = fromBase64(encoded);
    if (bytes?.length === 32) keys.set(id, bytes);
  }
  let current: MasterKey | null = null;
  const bytes = config.MASTER_KEY ? fromBase64(config.MASTER_KEY) : null;
  if (bytes?.length === 32 && config.MASTER_KEY_ID) {
    current = { id: config.MASTER_KEY_ID, bytes };
    keys.set(current.id, bytes);
  }
  return { current, byId: (id) => keys.get(id) ?? null };
}

export function sealSecret(plaintext: string, key: MasterKey, associatedData: string): string {
  if (key.id.includes(".")) throw new SealedSecretError("A master key id cannot contain a dot.");
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = gcm(key.bytes, nonce, encoder.encode(associatedData)).encrypt(encoder.encode(plaintext));
  return [VERSION, key.id, toBase64Url(nonce), toBase64Url(sealed)].join(".");
}

/** The plaintext, or SealedSecretError when the text is malformed, its key unknown, or it was altered or moved. */
export function openSecret(sealedText: string, keyring: MasterKeyring, associatedData: string): string {
  const [version, keyId = "", nonceText = "", sealedPart = "", ...rest] = sealedText.split(".");
  if (version !== VERSION || rest.length > 0) throw new SealedSecretError("Unknown sealed secret format.");
  const key = keyring.byId(keyId);
  if (!key) throw new SealedSecretError(`The master key "${keyId}" is not configured.`);
  const nonce = fromBase64Url(nonceText);
  const sealed = fromBase64Url(sealedPart);
  if (nonce?.length !== NONCE_BYTES || !sealed) throw new SealedSecretError("Malformed sealed secret.");
  try {
    return decoder.decode(gcm(key, nonce, encoder.encode(associatedData)).decrypt(sealed));
  } catch {
    throw new SealedSecretError("The sealed secret does not open with its key and binding.");
  }
}
