import { inArray } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { notificationDeliveries } from "../../shared/db/schema";
import type { Database } from "./client";

/** Three columns a row: 30 rows stay under D1's 100 bound parameters. */
const ROWS_PER_INSERT = 30;

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

    /** Notifications delivered: one call for all of them (30 rows a statement, under the bound-parameter limit). */
    async recordSent(sent: readonly { key: string; kind: string }[], sentAt = Date.now()): Promise<void> {
      if (sent.length === 0) return;
      const statements: BatchItem<"sqlite">[] = [];
      for (let i = 0; i < sent.length; i += ROWS_PER_INSERT) {
        const rows = sent.slice(i, i + ROWS_PER_INSERT).map(({ key, kind }) => ({ key, kind, sentAt }));
        statements.push(db.insert(notificationDeliveries).values(rows).onConflictDoNothing());
      }
      await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    },
  };
}
