import { and, asc, eq } from "drizzle-orm";
import { featureFlagOverrides, featureFlags } from "../../../shared/db/schema";
import { NotFoundError } from "../../../shared/errors";
import { evaluateFlag, type FlagEvaluation } from "../../../shared/flags";
import type { TenantScope } from "./scope";

/** Feature flags as this community sees them: evaluation, and its own overrides (audited). */

export type FlagOverrideRow = typeof featureFlagOverrides.$inferSelect;

export function flagRepository(scope: TenantScope) {
  const { db, communityId, auditedWrite } = scope;
  const overrideOf = (flagKey: string) =>
    and(eq(featureFlagOverrides.communityId, communityId), eq(featureFlagOverrides.flagKey, flagKey));

  const flags = {
    async evaluate(flagKey: string): Promise<FlagEvaluation> {
      const [flag, override] = await db.batch([
        db.select().from(featureFlags).where(eq(featureFlags.key, flagKey)),
        db.select().from(featureFlagOverrides).where(overrideOf(flagKey)),
      ]);
      return evaluateFlag({ flag: flag[0], override: override[0], communityId });
    },

    async isEnabled(flagKey: string): Promise<boolean> {
      return (await flags.evaluate(flagKey)).enabled;
    },

    overrides(): Promise<FlagOverrideRow[]> {
      return db
        .select()
        .from(featureFlagOverrides)
        .where(eq(featureFlagOverrides.communityId, communityId))
        .orderBy(asc(featureFlagOverrides.flagKey))
        .all();
    },

    /** Forces a defined flag on or off for this community (audited as flags.override_set). */
    async setOverride(flagKey: string, enabled: boolean, actorId?: string | null): Promise<void> {
      const flag = await db
        .select({ key: featureFlags.key })
        .from(featureFlags)
        .where(eq(featureFlags.key, flagKey))
        .get();
      if (!flag) throw new NotFoundError(`Feature flag ${flagKey} is not defined.`, "FLAG_NOT_FOUND");
      await auditedWrite(async () => {
        const now = Date.now();
        return {
          entry: { event: "flags.override_set", actorId, target: flagKey, data: { flag: flagKey, enabled } },
          statements: [
            db
              .insert(featureFlagOverrides)
              .values({ communityId, flagKey, enabled, createdAt: now, updatedAt: now })
              .onConflictDoUpdate({
                target: [featureFlagOverrides.communityId, featureFlagOverrides.flagKey],
                set: { enabled, updatedAt: now },
              }),
          ],
          result: undefined,
        };
      });
    },

    /** Returns false when there was no override to clear. */
    async clearOverride(flagKey: string, actorId?: string | null): Promise<boolean> {
      const { result } = await auditedWrite<boolean>(async () => {
        const existing = await db.select().from(featureFlagOverrides).where(overrideOf(flagKey)).get();
        if (!existing) return { skip: false };
        return {
          entry: { event: "flags.override_cleared", actorId, target: flagKey, data: { flag: flagKey } },
          statements: [db.delete(featureFlagOverrides).where(overrideOf(flagKey))],
          result: true,
        };
      });
      return result;
    },
  };
  return flags;
}
