import { count, desc, gte, isNull } from "drizzle-orm";
import { deadLetters, orders, reconciliationRuns } from "../../../shared/db/schema";
import { ORDER_STATUSES, type OrderStatus } from "../../../shared/orders/state-machine";
import type { Database } from "../client";

/**
 * Cross-tenant figures for GET /api/v1/ops/metrics: operators look at the
 * whole platform, so these reads span communities. Only counts leave this
 * module, never a tenant's rows.
 */

type ReconciliationRunRow = typeof reconciliationRuns.$inferSelect;

export interface PlatformFigures {
  /** Orders created since `since`, by their current status (every status present, 0 when none). */
  ordersByStatus: Record<OrderStatus, number>;
  /** Dead letters an operator has not replayed yet, by source queue. */
  deadLettersNotReplayed: Record<string, number>;
  lastReconciliationRun: ReconciliationRunRow | null;
}

export async function platformFigures(db: Database, since: number): Promise<PlatformFigures> {
  const [byStatus, unreplayed, lastRun] = await db.batch([
    db
      .select({ status: orders.status, n: count() })
      .from(orders)
      .where(gte(orders.createdAt, since))
      .groupBy(orders.status),
    db
      .select({ queue: deadLetters.queue, n: count() })
      .from(deadLetters)
      .where(isNull(deadLetters.replayedAt))
      .groupBy(deadLetters.queue),
    db.select().from(reconciliationRuns).orderBy(desc(reconciliationRuns.startedAt)).limit(1),
  ]);
  const ordersByStatus = Object.fromEntries(ORDER_STATUSES.map((status) => [status, 0])) as Record<OrderStatus, number>;
  for (const row of byStatus) ordersByStatus[row.status] = row.n;
  return {
    ordersByStatus,
    deadLettersNotReplayed: Object.fromEntries(unreplayed.map((row) => [row.queue, row.n])),
    lastReconciliationRun: lastRun[0] ?? null,
  };
}
