import { eq } from "drizzle-orm";
import { notificationDeliveries } from "../../shared/db/schema";
import type { Database } from "./client";

/** The keys of notifications already delivered to Discord (NOTIFY_QUEUE idempotency). */
export function notificationDeliveryLog(db: Database) {
  return {
    async wasSent(key: string): Promise<boolean> {
      const row = await db
        .select({ key: notificationDeliveries.key })
        .from(notificationDeliveries)
        .where(eq(notificationDeliveries.key, key))
        .get();
      return Boolean(row);
    },

    async recordSent(key: string, kind: string, sentAt = Date.now()): Promise<void> {
      await db.insert(notificationDeliveries).values({ key, kind, sentAt }).onConflictDoNothing();
    },
  };
}
