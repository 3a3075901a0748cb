import { inArray } from "drizzle-orm";
import { notificationDeliveries } from "../../shared/db/schema";
import type { Database } from "./client";

/** The keys of notifications already delivered to Discord (NOTIFY_QUEUE idempotency). */
export function notificationDeliveryLog(db: Database) {
  return {
    /** Which of these keys were already delivered (one query per 90 keys, under D1's bound-parameter limit). */
    async sentKeys(keys: readonly string[]): Promise<Set<string>> {
      const found = new Set<string>();
      for (let i = 0; i < keys.length; i += 90) {
        const rows = await db
          .select({ key: notificationDeliveries.key })
          .from(notificationDeliveries)
          .where(inArray(notificationDeliveries.key, keys.slice(i, i + 90)))
          .all();
        for (const row of rows) found.add(row.key);
      }
      return found;
    },

    async recordSent(key: string, kind: string, sentAt = Date.now()): Promise<void> {
      await db.insert(notificationDeliveries).values({ key, kind, sentAt }).onConflictDoNothing();
    },
  };
}
