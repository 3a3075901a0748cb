import { and, eq, isNotNull, isNull } from "drizzle-orm";
import { communities } from "../../../shared/db/schema";
import { NotFoundError } from "../../../shared/errors";
import { once } from "../../../shared/once";
import type { Actor, TenantScope } from "./scope";

/** The community's own row: its settings, the kill switch, an operator's suspension and its deletion. */

export type Community = typeof communities.$inferSelect;

export function communityRepository(scope: TenantScope) {
  const { db, communityId, auditedWrite } = scope;
  const byCommunity = eq(communities.id, communityId);

  // Prepared once per repository: the executor reads the row (the kill switch) for every signal and order.
  const row = once(() => db.select().from(communities).where(byCommunity).prepare());

  const community = {
    async get(): Promise<Community | null> {
      return (await row().get()) ?? null;
    },

    /**
     * The kill switch. Returns false when nothing changed: already in that state, and (for a halt) no new reason. A
     * second halt with a new reason keeps the halt and records the new reason (audited as a halt again).
     */
    async setHalted(halted: boolean, options: Actor & { reason?: string | null } = {}): Promise<boolean> {
      const { result } = await auditedWrite<boolean>(async () => {
        const current = await community.get();
        if (!current) throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
        const reason = options.reason ?? null;
        const newReason = halted && reason !== null && reason !== current.haltedReason;
        if (current.halted === halted && !newReason) return { skip: false };
        return {
          entry: {
            event: halted ? "community.halted" : "community.resumed",
            actorId: options.actorId,
            data: current.halted && halted ? { reason, previousReason: current.haltedReason } : { reason },
          },
          statements: [
            db
              .update(communities)
              .set({ halted, haltedReason: halted ? reason : null, updatedAt: Date.now() })
              .where(byCommunity),
          ],
          result: true,
        };
      });
      return result;
    },

    /**
     * An operator's suspension of the whole community: nothing executes while it holds (audited as
     * community.suspended / community.unsuspended). Returns false when it was already in that state.
     */
    async setSuspended(suspended: boolean, options: Actor & { reason: string | null }): Promise<boolean> {
      const { result } = await auditedWrite<boolean>(async () => {
        const current = await community.get();
        if (!current) throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
        if ((current.suspendedAt !== null) === suspended) return { skip: false };
        const now = Date.now();
        return {
          entry: {
            event: suspended ? "community.suspended" : "community.unsuspended",
            actorId: options.actorId,
            data: { reason: options.reason },
          },
          statements: [
            db
              .update(communities)
              .set({
                suspendedAt: suspended ? now : null,
                suspendedReason: suspended ? options.reason : null,
                updatedAt: now,
              })
              .where(byCommunity),
          ],
          result: true,
        };
      });
      return result;
    },

    /**
     * Marks the community deleted (audited `community.deleted` with the step-up that allowed it and when its data is
     * purged). False when it already was. Nothing else is touched here: `platform/communities/deletion.ts` halts
     * trading first and revokes what must stop.
     */
    async markDeleted(options: Actor & { stepUp: string | null; at: number; purgeAfter: number }): Promise<boolean> {
      const { result } = await auditedWrite<boolean>(async () => {
        const current = await community.get();
        if (!current) throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
        if (current.deletedAt !== null) return { skip: false };
        const now = options.at;
        return {
          entry: {
            event: "community.deleted",
            actorId: options.actorId,
            data: { stepUp: options.stepUp, purgeAfter: options.purgeAfter, guildId: current.guildId },
          },
          statements: [
            db
              .update(communities)
              .set({ deletedAt: now, deletedBy: options.actorId ?? null, updatedAt: now })
              .where(and(byCommunity, isNull(communities.deletedAt))),
          ],
          result: true,
        };
      });
      return result;
    },

    /**
     * Undoes a deletion before the purge (`/setup` in the server again, as a re-invite finds settings as they
     * were), audited `community.restored`. Trading stays halted until someone resumes it. False when not deleted.
     */
    async restore(options: Actor): Promise<boolean> {
      const { result } = await auditedWrite<boolean>(async () => {
        const current = await community.get();
        if (!current) throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
        if (current.deletedAt === null) return { skip: false };
        return {
          entry: { event: "community.restored", actorId: options.actorId, data: { deletedAt: current.deletedAt } },
          statements: [
            db
              .update(communities)
              .set({ deletedAt: null, deletedBy: null, updatedAt: Date.now() })
              .where(and(byCommunity, isNotNull(communities.deletedAt))),
          ],
          result: true,
        };
      });
      return result;
    },
  };
  return community;
}
