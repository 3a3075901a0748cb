import { totpSecretBinding } from "../../shared/auth/totp";
import {
  communityOfScope,
  communityScope,
  DATA_KEY_ROTATE_AFTER_MS,
  DATA_KEY_ROTATIONS_PER_RUN,
  DATA_KEY_SEAL_LIMIT_MS,
  newDataKey,
  PLATFORM_SCOPE,
  unwrapDataKey,
  wrapDataKey,
} from "../../shared/crypto/data-keys";
import {
  type MasterKey,
  masterKeyring,
  SealedSecretError,
  sealedKeyOf,
  sealUnderDataKey,
} from "../../shared/crypto/sealed-secret";
import { NotFoundError } from "../../shared/errors";
import type { Logger } from "../../shared/logging";
import { secretBinding } from "../../shared/signal-webhooks/credentials";
import type { Database } from "../db/client";
import { communitiesWithMasterSealedSecrets } from "../db/cross-community/master-sealed-secrets";
import { type DataKeyRow, dataKeyStore } from "../db/data-keys";
import { mfaStore } from "../db/mfa";
import { forCommunity } from "../db/tenant/for-community";
import { type CredentialVault, credentialVault, type VaultConfig } from "./vault";

/**
 * Data key rotation (the daily cron): each scope whose active key is 90 days old gets a new key, and every secret
 * stored in that scope is re-sealed under it, so the old key ends up sealing nothing live. Secrets sealed before the
 * vault, directly under the master key, move to their scope's data key. Keys still wrapped under a retired master key
 * are re-wrapped under the current one. A key past 120 days after the run is an alert.
 */

export interface RotationSummary {
  configured: boolean;
  rotated: number;
  resealed: number;
  /** Secrets sealed before the vault, directly under the master key, moved to their scope's data key. */
  migrated: number;
  unreadable: number;
  rewrapped: number;
  overdue: number;
  failed: number;
}

const RESEAL_PAGE = 100;

/** Where each scope stores sealed secrets, and what each is bound to: the one list the re-sealing walks. */
interface SealedRows {
  page(afterId: string, limit: number): Promise<{ id: string; sealed: string }[]>;
  replace(id: string, previous: string, next: string): Promise<boolean>;
  bindingOf(id: string): string;
}

function sealedRowsOf(db: Database, scope: string): SealedRows[] {
  const communityId = communityOfScope(scope);
  if (communityId === null) {
    const mfa = mfaStore(db);
    return [
      {
        page: (after, limit) => mfa.sealedSecrets(after, limit),
        replace: (id, previous, next) => mfa.replaceSealedSecret(id, previous, next),
        bindingOf: totpSecretBinding,
      },
    ];
  }
  const webhooks = forCommunity(db, communityId).signalWebhooks;
  return [
    {
      page: (after, limit) => webhooks.sealedSecrets(after, limit),
      replace: (id, previous, next) => webhooks.replaceSealedSecret(id, previous, next),
      bindingOf: (id) => secretBinding(communityId, id),
    },
  ];
}

export async function rotateDataKeys(
  db: Database,
  config: VaultConfig,
  logger: Logger,
  now: number,
): Promise<RotationSummary> {
  const summary: RotationSummary = {
    configured: true,
    rotated: 0,
    resealed: 0,
    migrated: 0,
    unreadable: 0,
    rewrapped: 0,
    overdue: 0,
    failed: 0,
  };
  const keyring = masterKeyring(config);
  const master = keyring.current;
  if (!master) {
    logger.warn("vault.rotation_skipped", { reason: "MASTER_KEY is not configured" });
    return { ...summary, configured: false };
  }
  const store = dataKeyStore(db);
  const vault = credentialVault(db, config, logger, () => now);

  for (const row of await store.activeCreatedBefore(now - DATA_KEY_ROTATE_AFTER_MS, DATA_KEY_ROTATIONS_PER_RUN)) {
    try {
      await rotateScope(db, vault, master, logger, row, now, summary);
    } catch (error) {
      summary.failed += 1;
      logger.error("vault.rotation_failed", { alert: true, scope: row.scope, keyId: row.id, error });
    }
  }

  for (const scope of await scopesWithMasterSealedSecrets(db)) {
    try {
      const moved = await resealScope(db, vault, logger, scope, {
        needed: (sealed) => sealedKeyOf(sealed)?.kind === "master",
        seal: (plaintext, binding) => vault.seal(scope, plaintext, binding),
      });
      summary.migrated += moved.resealed;
      summary.unreadable += moved.unreadable;
    } catch (error) {
      summary.failed += 1;
      logger.error("vault.migration_failed", { alert: true, scope, error });
    }
  }

  for (const row of await store.wrappedUnderOtherMasterKey(master.id, DATA_KEY_ROTATIONS_PER_RUN)) {
    try {
      const key = unwrapDataKey(row.wrappedKey, row.scope, row.id, keyring);
      if (await store.rewrap(row.id, row.wrappedKey, wrapDataKey(key, row.scope, master), master.id)) {
        summary.rewrapped += 1;
      }
    } catch (error) {
      summary.failed += 1;
      const reason = error instanceof SealedSecretError ? error.message : undefined;
      logger.error("vault.rewrap_failed", { alert: true, scope: row.scope, keyId: row.id, reason, error });
    }
  }

  const overdue = await store.activeCreatedBefore(now - DATA_KEY_SEAL_LIMIT_MS, DATA_KEY_ROTATIONS_PER_RUN);
  summary.overdue = overdue.length;
  if (overdue.length > 0) {
    logger.error("vault.data_keys_overdue", {
      alert: true,
      count: overdue.length,
      scopes: overdue.slice(0, 10).map((row) => row.scope),
    });
  }
  return summary;
}

async function rotateScope(
  db: Database,
  vault: CredentialVault,
  master: MasterKey,
  logger: Logger,
  previous: DataKeyRow,
  now: number,
  summary: RotationSummary,
): Promise<void> {
  const next = newDataKey();
  const rotated = await dataKeyStore(db).rotate(previous.id, {
    id: next.id,
    scope: previous.scope,
    wrappedKey: wrapDataKey(next, previous.scope, master),
    masterKeyId: master.id,
    createdAt: now,
  });
  if (!rotated) return; // another run rotated it first
  summary.rotated += 1;
  const { resealed, unreadable } = await resealScope(db, vault, logger, previous.scope, {
    needed: (sealed) => sealedKeyOf(sealed)?.keyId !== next.id,
    seal: async (plaintext, binding) => sealUnderDataKey(plaintext, next, binding),
  });
  summary.resealed += resealed;
  summary.unreadable += unreadable;
  logger.info("vault.data_key_rotated", {
    scope: previous.scope,
    previousKeyId: previous.id,
    keyId: next.id,
    resealed,
    unreadable,
  });
  const communityId = communityOfScope(previous.scope);
  if (communityId === null) return;
  try {
    await forCommunity(db, communityId).audit.append({
      event: "auth.key_rotated",
      actorId: null,
      target: next.id,
      data: {
        previousKeyId: previous.id,
        keyId: next.id,
        ageDays: ageDays(previous.createdAt, now),
        resealed,
        unreadable,
      },
    });
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    logger.warn("vault.rotated_for_missing_community", { communityId });
  }
}

/** Scopes still holding secrets sealed directly under the master key (before the vault), at most 100 a run. */
async function scopesWithMasterSealedSecrets(db: Database): Promise<string[]> {
  const scopes = (await communitiesWithMasterSealedSecrets(db, DATA_KEY_ROTATIONS_PER_RUN)).map(communityScope);
  if (await mfaStore(db).anyMasterSealed()) scopes.push(PLATFORM_SCOPE);
  return scopes;
}

/** Which of a scope's secrets to seal again, and how. */
interface Reseal {
  needed(sealed: string): boolean;
  seal(plaintext: string, binding: string): Promise<string>;
}

/** Seals again every secret of `scope` that needs it; a secret that does not open is counted, kept and alerted. */
async function resealScope(
  db: Database,
  vault: CredentialVault,
  logger: Logger,
  scope: string,
  reseal: Reseal,
): Promise<{ resealed: number; unreadable: number }> {
  let resealed = 0;
  let unreadable = 0;
  for (const rows of sealedRowsOf(db, scope)) {
    let after = "";
    for (;;) {
      const page = await rows.page(after, RESEAL_PAGE);
      for (const row of page) {
        if (!reseal.needed(row.sealed)) continue;
        const binding = rows.bindingOf(row.id);
        try {
          const plaintext = await vault.open(scope, row.sealed, binding);
          if (await rows.replace(row.id, row.sealed, await reseal.seal(plaintext, binding))) resealed += 1;
        } catch (error) {
          if (!(error instanceof SealedSecretError)) throw error;
          unreadable += 1;
          logger.error("vault.secret_unreadable", { alert: true, scope, rowId: row.id, reason: error.message });
        }
      }
      const last = page.at(-1);
      if (!last || page.length < RESEAL_PAGE) break;
      after = last.id;
    }
  }
  return { resealed, unreadable };
}

function ageDays(createdAt: number, now: number): number {
  return Math.floor((now - createdAt) / 86_400_000);
}
