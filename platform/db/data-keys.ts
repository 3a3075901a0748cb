import { and, asc, eq, lte, ne, sql } from "drizzle-orm";
import { dataKeys } from "../../shared/db/schema";
import type { Database } from "./client";

/**
 * The credential vault's wrapped data keys (global: a scope is a community or the platform). Only
 * `platform/crypto/vault.ts` and the rotation cron use it; neither ever stores a data key unwrapped.
 */

export type DataKeyRow = typeof dataKeys.$inferSelect;

export interface NewDataKey {
  id: string;
  scope: string;
  wrappedKey: string;
  masterKeyId: string;
  createdAt: number;
}

/** What the operators' metrics show of the vault. */
export interface DataKeyFigures {
  activeKeys: number;
  retiredKeys: number;
  oldestActiveCreatedAt: number | null;
  /** Active keys at or past the rotation age, and at or past the age after which they seal nothing. */
  dueForRotation: number;
  pastSealLimit: number;
  wrappedUnderOtherMasterKeys: number;
}

export function dataKeyStore(db: Database) {
  return {
    /** Counts over every scope; `rotateBefore` and `sealLimitBefore` are creation times, `masterKeyId` the current one. */
    async figures(rotateBefore: number, sealLimitBefore: number, masterKeyId: string | null): Promise<DataKeyFigures> {
      const isActive = sql`${dataKeys.state} = 'active'`;
      const [row] = await db
        .select({
          activeKeys: sql<number>`count(*) filter (where ${isActive})`,
          retiredKeys: sql<number>`count(*) filter (where ${dataKeys.state} = 'retired')`,
          oldestActiveCreatedAt: sql<number | null>`min(${dataKeys.createdAt}) filter (where ${isActive})`,
          dueForRotation: sql<number>`count(*) filter (where ${isActive} and ${dataKeys.createdAt} <= ${rotateBefore})`,
          pastSealLimit: sql<number>`count(*) filter (where ${isActive} and ${dataKeys.createdAt} <= ${sealLimitBefore})`,
          wrappedUnderOtherMasterKeys: sql<number>`count(*) filter (where ${dataKeys.masterKeyId} is not ${masterKeyId})`,
        })
        .from(dataKeys)
        .all();
      return {
        activeKeys: row?.activeKeys ?? 0,
        retiredKeys: row?.retiredKeys ?? 0,
        oldestActiveCreatedAt: row?.oldestActiveCreatedAt ?? null,
        dueForRotation: row?.dueForRotation ?? 0,
        pastSealLimit: row?.pastSealLimit ?? 0,
        wrappedUnderOtherMasterKeys: row?.wrappedUnderOtherMasterKeys ?? 0,
      };
    },

    async active(scope: string): Promise<DataKeyRow | null> {
      return (
        (await db
          .select()
          .from(dataKeys)
          .where(and(eq(dataKeys.scope, scope), eq(dataKeys.state, "active")))
          .get()) ?? null
      );
    },

    async byId(id: string): Promise<DataKeyRow | null> {
      return (await db.select().from(dataKeys).where(eq(dataKeys.id, id)).get()) ?? null;
    },

    /** The scope's first key; false when another writer created one first (one active key per scope). */
    async createFirst(key: NewDataKey): Promise<boolean> {
      const inserted = await db
        .insert(dataKeys)
        .values({ ...key, state: "active", updatedAt: key.createdAt })
        .onConflictDoNothing()
        .returning({ id: dataKeys.id });
      return inserted.length === 1;
    },

    /**
     * Retires `previousId` and makes `next` the scope's active key, in one batch; false when `previousId` was no
     * longer active (another run rotated it first: the unique active index then refuses the insert and D1 rolls
     * the batch back).
     */
    async rotate(previousId: string, next: NewDataKey): Promise<boolean> {
      try {
        await db.batch([
          db
            .update(dataKeys)
            .set({ state: "retired", retiredAt: next.createdAt, updatedAt: next.createdAt })
            .where(and(eq(dataKeys.id, previousId), eq(dataKeys.state, "active"))),
          db.insert(dataKeys).values({ ...next, state: "active", updatedAt: next.createdAt }),
        ]);
        return true;
      } catch (error) {
        if (String((error as Error)?.message ?? error).includes("UNIQUE")) return false;
        throw error;
      }
    },

    /** Active keys created at or before `createdBefore`, oldest first. */
    activeCreatedBefore(createdBefore: number, limit: number): Promise<DataKeyRow[]> {
      return db
        .select()
        .from(dataKeys)
        .where(and(eq(dataKeys.state, "active"), lte(dataKeys.createdAt, createdBefore)))
        .orderBy(asc(dataKeys.createdAt))
        .limit(limit)
        .all();
    },

    /** Keys (active or retired) still wrapped under a master key other than `masterKeyId`. */
    wrappedUnderOtherMasterKey(masterKeyId: string, limit: number): Promise<DataKeyRow[]> {
      return db.select().from(dataKeys).where(ne(dataKeys.masterKeyId, masterKeyId)).limit(limit).all();
    },

    /** Replaces a key's wrapping (a master key rotation); false when it changed meanwhile. */
    async rewrap(id: string, previousWrapped: string, wrappedKey: string, masterKeyId: string): Promise<boolean> {
      const updated = await db
        .update(dataKeys)
        .set({ wrappedKey, masterKeyId, updatedAt: Date.now() })
        .where(and(eq(dataKeys.id, id), eq(dataKeys.wrappedKey, previousWrapped)))
        .returning({ id: dataKeys.id });
      return updated.length === 1;
    },

    /** Deletes a scope's keys (a deleted community): whatever they sealed can never be opened again. */
    async deleteScope(scope: string): Promise<number> {
      const deleted = await db.delete(dataKeys).where(eq(dataKeys.scope, scope)).returning({ id: dataKeys.id });
      return deleted.length;
    },
  };
}
