import { and, asc, desc, eq, gt, isNull, type SQL } from "drizzle-orm";
import { signalWebhooks, users } from "../../../shared/db/schema";
import type { TenantScope } from "./scope";

/**
 * One community's signal webhooks. Every change is audited in the same batch (`signal_webhook.created`,
 * `.rotated`, `.revoked`) with the key's fingerprint, never the key or the secret. A provider has at most one
 * active webhook here; the partial unique index holds that against concurrent creates.
 */

export type SignalWebhookRow = typeof signalWebhooks.$inferSelect;

/** What operators see of a webhook: never its key hash or sealed secret. */
export interface SignalWebhookView {
  id: string;
  providerUserId: string;
  providerDiscordId: string | null;
  createdAt: number;
  rotatedAt: number | null;
  revokedAt: number | null;
}

export interface WebhookCredentialRecord {
  keyHash: string;
  sealedSecret: string;
  /** Names the key in the audit log (secretFingerprint of the key). */
  keyFingerprint: string;
}

export function signalWebhookRepository(scope: TenantScope) {
  const { db, communityId, auditedWrite } = scope;
  const inCommunity = eq(signalWebhooks.communityId, communityId);
  const active = and(inCommunity, isNull(signalWebhooks.revokedAt));

  const viewColumns = {
    id: signalWebhooks.id,
    providerUserId: signalWebhooks.providerUserId,
    providerDiscordId: users.discordId,
    createdAt: signalWebhooks.createdAt,
    rotatedAt: signalWebhooks.rotatedAt,
    revokedAt: signalWebhooks.revokedAt,
  };
  const one = async (where: SQL | undefined): Promise<SignalWebhookRow | null> =>
    (await db.select().from(signalWebhooks).where(where).get()) ?? null;
  const views = () =>
    db.select(viewColumns).from(signalWebhooks).leftJoin(users, eq(users.id, signalWebhooks.providerUserId));

  /** One audited change of an active webhook; false when it is revoked or unknown. */
  async function changeActive(
    id: string,
    actorId: string | null,
    event: "signal_webhook.rotated" | "signal_webhook.revoked",
    details: Record<string, string>,
    changes: (now: number) => Partial<Pick<SignalWebhookRow, "keyHash" | "sealedSecret" | "rotatedAt" | "revokedAt">>,
  ): Promise<boolean> {
    const { result } = await auditedWrite<boolean>(async () => {
      const current = await repository.get(id);
      if (!current || current.revokedAt !== null) return { skip: false };
      const now = Date.now();
      return {
        entry: {
          event,
          actorId,
          target: current.providerUserId,
          data: { webhookId: id, providerUserId: current.providerUserId, ...details },
        },
        statements: [
          db
            .update(signalWebhooks)
            .set({ ...changes(now), updatedAt: now })
            .where(and(active, eq(signalWebhooks.id, id))),
        ],
        result: true,
      };
    });
    return result;
  }

  const repository = {
    async list(options: { includeRevoked: boolean }): Promise<SignalWebhookView[]> {
      return views()
        .where(options.includeRevoked ? inCommunity : active)
        .orderBy(desc(signalWebhooks.createdAt))
        .all();
    },

    async view(id: string): Promise<SignalWebhookView | null> {
      return (
        (await views()
          .where(and(inCommunity, eq(signalWebhooks.id, id)))
          .get()) ?? null
      );
    },

    get: (id: string) => one(and(inCommunity, eq(signalWebhooks.id, id))),

    /** Signing secrets as sealed, by id after `afterId` (revoked too): the vault re-seals them after a rotation. */
    sealedSecrets(afterId: string, limit: number): Promise<{ id: string; sealed: string }[]> {
      return db
        .select({ id: signalWebhooks.id, sealed: signalWebhooks.sealedSecret })
        .from(signalWebhooks)
        .where(and(inCommunity, gt(signalWebhooks.id, afterId)))
        .orderBy(asc(signalWebhooks.id))
        .limit(limit)
        .all();
    },

    /**
     * The same secret sealed again (under a new data key); false when the webhook's secret changed meanwhile. Not
     * audited per row: the rotation it follows is (`auth.key_rotated`), and the secret itself does not change.
     */
    async replaceSealedSecret(id: string, previous: string, next: string): Promise<boolean> {
      const updated = await db
        .update(signalWebhooks)
        .set({ sealedSecret: next })
        .where(and(inCommunity, eq(signalWebhooks.id, id), eq(signalWebhooks.sealedSecret, previous)))
        .returning({ id: signalWebhooks.id });
      return updated.length === 1;
    },

    activeFor: (providerUserId: string) => one(and(active, eq(signalWebhooks.providerUserId, providerUserId))),

    /** The new webhook, or the provider's active one (`created` false) when they already have one. */
    async create(
      input: { id: string; providerUserId: string } & WebhookCredentialRecord,
      actorId: string | null,
    ): Promise<{ webhook: SignalWebhookRow; created: boolean }> {
      try {
        const { result } = await auditedWrite<{ webhook: SignalWebhookRow; created: boolean }>(async () => {
          const existing = await repository.activeFor(input.providerUserId);
          if (existing) return { skip: { webhook: existing, created: false } };
          const now = Date.now();
          const webhook: SignalWebhookRow = {
            id: input.id,
            communityId,
            providerUserId: input.providerUserId,
            keyHash: input.keyHash,
            sealedSecret: input.sealedSecret,
            createdBy: actorId,
            rotatedAt: null,
            revokedAt: null,
            createdAt: now,
            updatedAt: now,
          };
          return {
            entry: {
              event: "signal_webhook.created",
              actorId,
              target: input.providerUserId,
              data: { webhookId: input.id, providerUserId: input.providerUserId, keyFingerprint: input.keyFingerprint },
            },
            statements: [db.insert(signalWebhooks).values(webhook)],
            result: { webhook, created: true },
          };
        });
        return result;
      } catch (error) {
        // A concurrent create won the partial unique index: answer with its webhook.
        const winner = isActiveProviderConflict(error) ? await repository.activeFor(input.providerUserId) : null;
        if (winner) return { webhook: winner, created: false };
        throw error;
      }
    },

    /** New key and secret for an active webhook; false when it is revoked or unknown. */
    rotate: (id: string, credentials: WebhookCredentialRecord, actorId: string | null) =>
      changeActive(id, actorId, "signal_webhook.rotated", { keyFingerprint: credentials.keyFingerprint }, (now) => ({
        keyHash: credentials.keyHash,
        sealedSecret: credentials.sealedSecret,
        rotatedAt: now,
      })),

    /** Revokes a webhook for good (its URL answers 404 from now on); false when it was not active. */
    revoke: (id: string, actorId: string | null, reason: string) =>
      changeActive(id, actorId, "signal_webhook.revoked", { reason }, (now) => ({ revokedAt: now })),
  };
  return repository;
}

function isActiveProviderConflict(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (/UNIQUE constraint failed: signal_webhooks\.community_id/i.test(current.message)) return true;
  }
  return false;
}
