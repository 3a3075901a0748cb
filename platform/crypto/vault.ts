import { isPastSealLimit, newDataKey, unwrapDataKey, wrapDataKey } from "../../shared/crypto/data-keys";
import {
  type MasterKeyring,
  masterKeyring,
  openSecret,
  openUnderDataKey,
  SealedSecretError,
  type SealingKey,
  sealedKeyOf,
  sealUnderDataKey,
} from "../../shared/crypto/sealed-secret";
import { ServiceUnavailableError } from "../../shared/errors";
import type { Logger } from "../../shared/logging";
import type { Database } from "../db/client";
import { dataKeyStore } from "../db/data-keys";

/**
 * The credential vault: seals and opens the secrets the platform must read back, under the data key of their scope
 * (a community, or the platform for a user's own secrets), each data key wrapped by the master key. A scope's first
 * seal creates its key; the daily cron rotates keys at 90 days; a key past 120 days seals nothing more (503
 * `DATA_KEY_EXPIRED` and an alert) until the cron has rotated it. Texts sealed directly under the master key before
 * the vault (`v1`) still open.
 */

export interface VaultConfig {
  MASTER_KEY?: string;
  MASTER_KEY_ID?: string;
  MASTER_KEYS_RETIRED?: Record<string, string>;
}

export interface CredentialVault {
  /** `plaintext` sealed under the scope's active data key, bound to `binding` (the row it is stored in). */
  seal(scope: string, plaintext: string, binding: string): Promise<string>;
  /** The plaintext, or SealedSecretError when it cannot be opened (unknown key, another scope, altered, moved). */
  open(scope: string, sealedText: string, binding: string): Promise<string>;
}

/** Unwrapped data keys by id, kept by the isolate so that opening a secret costs no D1 read after the first. */
const unwrapped = new Map<string, { scope: string; key: SealingKey }>();
const MAX_CACHED_KEYS = 512;
const ANOTHER_SCOPE = "The sealed secret belongs to another scope.";

export function credentialVault(db: Database, config: VaultConfig, logger: Logger, now = Date.now): CredentialVault {
  const store = dataKeyStore(db);
  const keyring = masterKeyring(config);

  async function activeKey(scope: string): Promise<SealingKey> {
    const master = keyring.current;
    if (!master) {
      throw new ServiceUnavailableError(
        "The credential vault needs MASTER_KEY and MASTER_KEY_ID to seal secrets.",
        "FEATURE_NOT_CONFIGURED",
      );
    }
    let row = await store.active(scope);
    if (!row) {
      const key = newDataKey();
      const created = await store.createFirst({
        id: key.id,
        scope,
        wrappedKey: wrapDataKey(key, scope, master),
        masterKeyId: master.id,
        createdAt: now(),
      });
      if (created) {
        logger.info("vault.data_key_created", { scope: scope, keyId: key.id });
        remember(scope, key);
        return key;
      }
      row = await store.active(scope);
      if (!row) throw new Error(`The data key of ${scope} vanished while it was created.`);
    }
    if (isPastSealLimit(row.createdAt, now())) {
      logger.error("vault.data_key_expired", {
        alert: true,
        scope: scope,
        keyId: row.id,
        ageDays: Math.floor((now() - row.createdAt) / 86_400_000),
      });
      throw new ServiceUnavailableError(
        "This secret cannot be sealed: its data key is past 120 days and has not been rotated yet. Operators are alerted; try again after the rotation.",
        "DATA_KEY_EXPIRED",
      );
    }
    return cachedKey(row.id, scope) ?? unwrapAndRemember(row.id, scope, row.wrappedKey, keyring);
  }

  async function storedKey(id: string, scope: string): Promise<SealingKey> {
    const row = await store.byId(id);
    if (!row) throw new SealedSecretError(`The data key "${id}" does not exist.`);
    if (row.scope !== scope) throw new SealedSecretError(ANOTHER_SCOPE);
    return unwrapAndRemember(row.id, scope, row.wrappedKey, keyring);
  }

  return {
    async seal(scope, plaintext, binding) {
      return sealUnderDataKey(plaintext, await activeKey(scope), binding);
    },

    async open(scope, sealedText, binding) {
      const named = sealedKeyOf(sealedText);
      if (!named) throw new SealedSecretError("Unknown sealed secret format.");
      if (named.kind === "master") return openSecret(sealedText, keyring, binding);
      const key = cachedKey(named.keyId, scope) ?? (await storedKey(named.keyId, scope));
      return openUnderDataKey(sealedText, key, binding);
    },
  };
}

/** Forgets a scope's unwrapped keys in this isolate (its keys were deleted with its community). */
export function forgetScopeKeys(scope: string): void {
  for (const [id, entry] of unwrapped) if (entry.scope === scope) unwrapped.delete(id);
}

/** The kept unwrapped key `id`, if any; SealedSecretError when it belongs to another scope than `scope`. */
function cachedKey(id: string, scope: string): SealingKey | undefined {
  const cached = unwrapped.get(id);
  if (cached && cached.scope !== scope) throw new SealedSecretError(ANOTHER_SCOPE);
  return cached?.key;
}

function unwrapAndRemember(id: string, scope: string, wrappedKey: string, keyring: MasterKeyring): SealingKey {
  const key = unwrapDataKey(wrappedKey, scope, id, keyring);
  remember(scope, key);
  return key;
}

function remember(scope: string, key: SealingKey): void {
  if (unwrapped.size >= MAX_CACHED_KEYS) {
    const oldest = unwrapped.keys().next().value;
    if (oldest !== undefined) unwrapped.delete(oldest);
  }
  unwrapped.set(key.id, { scope, key });
}
