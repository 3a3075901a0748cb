import { asc, eq } from "drizzle-orm";
import { featureFlags } from "../../shared/db/schema";
import { ValidationError } from "../../shared/errors";
import type { Database } from "./client";

/** Global flag definitions (not tenant data). Per-community overrides live in forCommunity().flags. */

export type FeatureFlag = typeof featureFlags.$inferSelect;

export interface FlagDefinitionInput {
  key: string;
  description?: string;
  enabledByDefault?: boolean;
  /** Integer 0–100, or null for no rollout. */
  rolloutPercent?: number | null;
}

export const FLAG_KEY = /^[a-z][a-z0-9_.-]{0,63}$/;

export function featureFlagDefinitions(db: Database) {
  return {
    /** Creates or replaces a flag definition. */
    async define(input: FlagDefinitionInput): Promise<FeatureFlag> {
      const { key, description = "", enabledByDefault = false, rolloutPercent = null } = input;
      if (!FLAG_KEY.test(key)) throw new ValidationError(`Flag key "${key}" must match ${FLAG_KEY}.`);
      if (
        rolloutPercent !== null &&
        !(Number.isInteger(rolloutPercent) && rolloutPercent >= 0 && rolloutPercent <= 100)
      ) {
        throw new ValidationError("rolloutPercent must be an integer from 0 to 100, or null.");
      }
      const now = Date.now();
      const values = { description, enabledByDefault, rolloutPercent, updatedAt: now };
      const stored = await db
        .insert(featureFlags)
        .values({ key, ...values, createdAt: now })
        .onConflictDoUpdate({ target: featureFlags.key, set: values })
        .returning()
        .get();
      if (!stored) throw new Error(`Defining flag ${key} returned no row.`);
      return stored;
    },

    async get(key: string): Promise<FeatureFlag | null> {
      return (await db.select().from(featureFlags).where(eq(featureFlags.key, key)).get()) ?? null;
    },

    list(): Promise<FeatureFlag[]> {
      return db.select().from(featureFlags).orderBy(asc(featureFlags.key)).all();
    },
  };
}
