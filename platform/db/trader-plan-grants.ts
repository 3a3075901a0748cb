import { and, eq, gt, inArray, lte } from "drizzle-orm";
import { traderPlanGrants } from "../../shared/db/schema";
import type { Database } from "./client";

/**
 * Operators' complimentary trader plans (global per user, like `trader_plans`). Whether a grant applies is decided
 * by `memberEntitlements()` at read time; this module only stores them.
 */

export type TraderPlanGrantRow = typeof traderPlanGrants.$inferSelect;

const MAX_PARAMS = 90;

export function traderPlanGrantStore(db: Database) {
  return {
    async get(userId: string): Promise<TraderPlanGrantRow | null> {
      return (await db.select().from(traderPlanGrants).where(eq(traderPlanGrants.userId, userId)).get()) ?? null;
    },

    /** Grants of many users at once (the executor's fan-out); users without one are absent. */
    async getMany(userIds: readonly string[]): Promise<Map<string, TraderPlanGrantRow>> {
      const result = new Map<string, TraderPlanGrantRow>();
      const unique = [...new Set(userIds)];
      for (let i = 0; i < unique.length; i += MAX_PARAMS) {
        const rows = await db
          .select()
          .from(traderPlanGrants)
          .where(inArray(traderPlanGrants.userId, unique.slice(i, i + MAX_PARAMS)))
          .all();
        for (const row of rows) result.set(row.userId, row);
      }
      return result;
    },

    /** Grants the plan, replacing any grant the user had (one per user). */
    async put(input: {
      userId: string;
      plan: string;
      until: number;
      reason: string;
      grantedBy: string;
      now: number;
    }): Promise<TraderPlanGrantRow> {
      const values = {
        plan: input.plan,
        until: input.until,
        reason: input.reason,
        grantedBy: input.grantedBy,
        updatedAt: input.now,
      };
      const row = await db
        .insert(traderPlanGrants)
        .values({ userId: input.userId, createdAt: input.now, ...values })
        .onConflictDoUpdate({ target: traderPlanGrants.userId, set: values })
        .returning()
        .get();
      if (!row) throw new Error(`Granting a trader plan to ${input.userId} returned no row.`);
      return row;
    },

    /** Ends the user's grant if one still runs at `now`, and returns it; null when none runs. */
    async endRunning(userId: string, now: number): Promise<TraderPlanGrantRow | null> {
      return (
        (await db
          .delete(traderPlanGrants)
          .where(and(eq(traderPlanGrants.userId, userId), gt(traderPlanGrants.until, now)))
          .returning()
          .get()) ?? null
      );
    },

    /** Removes grants that ended at or before `now` (they no longer apply anyway); the number removed. */
    async pruneEnded(now: number): Promise<number> {
      const result = await db.delete(traderPlanGrants).where(lte(traderPlanGrants.until, now));
      return result.meta.changes;
    },
  };
}

export type TraderPlanGrantStore = ReturnType<typeof traderPlanGrantStore>;
