import { fromBase64Url, randomToken, toBase64Url } from "./encoding";
import {
  type MasterKey,
  type MasterKeyring,
  openSecret,
  SealedSecretError,
  type SealingKey,
  sealSecret,
} from "./sealed-secret";

/**
 * The credential vault's data keys, without storage: envelope encryption where the master key wraps a random
 * 256-bit data key per scope (a community, or the platform for a user's own secrets), and the data keys seal the
 * secrets. The age rules: a data key is rotated once it is 90 days old (the daily cron, 100 scopes a run), and one
 * past 120 days seals nothing more (the vault refuses and raises an alert) while it still opens what it sealed.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
/** A data key this old is due for rotation. */
export const DATA_KEY_ROTATE_AFTER_MS = 90 * DAY_MS;
/** A data key this old seals nothing more. */
export const DATA_KEY_SEAL_LIMIT_MS = 120 * DAY_MS;
/** Scopes the rotation cron rotates in one run. */
export const DATA_KEY_ROTATIONS_PER_RUN = 100;

/** The scope of the platform's own data key: secrets that belong to a user, whatever community (a TOTP secret). */
export const PLATFORM_SCOPE = "platform";

/** The scope of a community's data key. */
export function communityScope(communityId: string): string {
  return `community:${communityId}`;
}

/** The community a scope belongs to; null for the platform scope. */
export function communityOfScope(scope: string): string | null {
  return scope.startsWith("community:") ? scope.slice("community:".length) : null;
}

export function isPastSealLimit(createdAt: number, now: number): boolean {
  return now - createdAt >= DATA_KEY_SEAL_LIMIT_MS;
}

/** A new data key: a random id (no dots, so it can name itself in a sealed text) and 32 random bytes. */
export function newDataKey(): SealingKey {
  return { id: `dk_${randomToken(12)}`, bytes: crypto.getRandomValues(new Uint8Array(32)) };
}

/** The data key sealed under the master key, bound to its scope and id (a wrapped key moved to another row fails). */
export function wrapDataKey(key: SealingKey, scope: string, masterKey: MasterKey): string {
  return sealSecret(toBase64Url(key.bytes), masterKey, wrapBinding(scope, key.id));
}

/** The data key a wrapped text holds, or SealedSecretError (unknown master key, altered, or moved). */
export function unwrapDataKey(wrapped: string, scope: string, keyId: string, keyring: MasterKeyring): SealingKey {
  const bytes = fromBase64Url(openSecret(wrapped, keyring, wrapBinding(scope, keyId)));
  if (bytes?.length !== 32) throw new SealedSecretError(`Data key "${keyId}" is not 32 bytes.`);
  return { id: keyId, bytes };
}

function wrapBinding(scope: string, keyId: string): string {
  return `data-key:${scope}:${keyId}`;
}
