import { gcm } from "@noble/ciphers/aes.js";
import { fromBase64, fromBase64Url, toBase64Url } from "./encoding";

/**
 * Secrets the platform must read back (a webhook's signing secret, a TOTP secret), sealed with AES-256-GCM. The text
 * is versioned and names its key: `v2.<dataKeyId>.<nonce>.<ciphertext+tag>` (base64url) under one of the credential
 * vault's data keys (`platform/crypto/vault.ts`: envelope encryption, each data key wrapped by the master key), and
 * `v1.<masterKeyId>.…` directly under the master key (`MASTER_KEY`, named by `MASTER_KEY_ID`): how a data key itself
 * is wrapped, and how secrets were sealed before the vault (still opened; re-sealed when their scope's key rotates).
 * A master key rotation keeps old texts readable through `MASTER_KEYS_RETIRED`. The additional authenticated data
 * binds each sealed secret to its row (community and record), so a sealed value copied to another row does not open.
 */

const MASTER_VERSION = "v1";
const DATA_KEY_VERSION = "v2";
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

/** A key that seals: a master key, or a data key of the credential vault (32 bytes and an id without dots). */
export interface SealingKey {
  id: string;
  bytes: Uint8Array;
}

/** Seals under the master key itself (`v1`): the vault's data keys are wrapped this way. */
export function sealSecret(plaintext: string, key: MasterKey, associatedData: string): string {
  return seal(MASTER_VERSION, plaintext, key, associatedData);
}

/** Seals under one of the credential vault's data keys (`v2`). */
export function sealUnderDataKey(plaintext: string, key: SealingKey, associatedData: string): string {
  return seal(DATA_KEY_VERSION, plaintext, key, associatedData);
}

/** Which key a sealed text needs: the master key (`v1`) or a data key (`v2`), by id; null when it is malformed. */
export function sealedKeyOf(sealedText: string): { kind: "master" | "data-key"; keyId: string } | null {
  const parts = splitSealed(sealedText);
  if (!parts) return null;
  return { kind: parts.version === MASTER_VERSION ? "master" : "data-key", keyId: parts.keyId };
}

/** The plaintext of a `v1` text, or SealedSecretError when it is malformed, its key unknown, or altered or moved. */
export function openSecret(sealedText: string, keyring: MasterKeyring, associatedData: string): string {
  const parts = splitSealed(sealedText);
  if (parts?.version !== MASTER_VERSION) throw new SealedSecretError("Unknown sealed secret format.");
  const key = keyring.byId(parts.keyId);
  if (!key) throw new SealedSecretError(`The master key "${parts.keyId}" is not configured.`);
  return open(parts, key, associatedData);
}

/** The plaintext of a `v2` text under `key` (the data key it names), or SealedSecretError. */
export function openUnderDataKey(sealedText: string, key: SealingKey, associatedData: string): string {
  const parts = splitSealed(sealedText);
  if (parts?.version !== DATA_KEY_VERSION) throw new SealedSecretError("Unknown sealed secret format.");
  if (parts.keyId !== key.id) throw new SealedSecretError(`Sealed under data key "${parts.keyId}", not "${key.id}".`);
  return open(parts, key.bytes, associatedData);
}

interface SealedParts {
  version: string;
  keyId: string;
  nonce: Uint8Array;
  sealed: Uint8Array;
}

function seal(version: string, plaintext: string, key: SealingKey, associatedData: string): string {
  if (key.id.includes(".")) throw new SealedSecretError("A key id cannot contain a dot.");
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = gcm(key.bytes, nonce, encoder.encode(associatedData)).encrypt(encoder.encode(plaintext));
  return [version, key.id, toBase64Url(nonce), toBase64Url(sealed)].join(".");
}

function splitSealed(sealedText: string): SealedParts | null {
  const [version = "", keyId = "", nonceText = "", sealedPart = "", ...rest] = sealedText.split(".");
  if ((version !== MASTER_VERSION && version !== DATA_KEY_VERSION) || rest.length > 0 || !keyId) return null;
  const nonce = fromBase64Url(nonceText);
  const sealed = fromBase64Url(sealedPart);
  if (nonce?.length !== NONCE_BYTES || !sealed) return null;
  return { version, keyId, nonce, sealed };
}

function open(parts: SealedParts, key: Uint8Array, associatedData: string): string {
  try {
    return decoder.decode(gcm(key, parts.nonce, encoder.encode(associatedData)).decrypt(parts.sealed));
  } catch {
    throw new SealedSecretError("The sealed secret does not open with its key and binding.");
  }
}
