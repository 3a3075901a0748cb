import { eq, inArray, sql } from "drizzle-orm";
import { orders, reconciliationRuns } from "../../../shared/db/schema";
import { WORKING_STATUSES } from "../../../shared/orders/state-machine";
import type { Database } from "../client";

/**
 * Cross-tenant reads for the reconciliation cron: which communities have
 * orders to look at. The work itself is done per community, by its executor:
 * open orders; canceled (with a broker id) and failed (dead-lettered) ones a
 * late fill could still reach; orders queued but untouched for a while,
 * whose message may have been lost; and recent entries that filled but have
 * no exit at all (a failure between the fill and the exits), whose community
 * may have nothing else pending.
 */
export async function communitiesToReconcile(
  db: Database,
  window: { lateFillSince: number; queuedBefore: number },
): Promise<string[]> {
  const rows = await db
    .selectDistinct({ communityId: orders.communityId })
    .from(orders)
    .where(
      sql`${inArray(orders.status, [...WORKING_STATUSES])}
        or (${orders.status} = 'canceled' and ${orders.brokerOrderId} is not null and ${orders.updatedAt} >= ${window.lateFillSince})
        or (${orders.status} = 'failed' and ${orders.updatedAt} >= ${window.lateFillSince})
        or (${orders.status} = 'queued' and ${orders.updatedAt} < ${window.queuedBefore})
        or (${orders.leg} = 'entry' and ${orders.status} in ('filled', 'canceled', 'expired')
          and ${orders.filledQuantity} > 0 and ${orders.updatedAt} >= ${window.lateFillSince}
          and json_extract(${orders.intent}, '$.orderClass') = 'engine'
          and not exists (select 1 from orders child
            where child.community_id = ${orders.communityId} and child.parent_order_id = ${orders.id}))`,
    )
    .all();
  return rows.map((r) => r.communityId);
}

export type ReconciliationRun = typeof reconciliationRuns.$inferSelect;

export async function startReconciliationRun(db: Database, now: number): Promise<string> {
  const id = crypto.randomUUID();
  await db.insert(reconciliationRuns).values({ id, startedAt: now });
  return id;
}

export async function finishReconciliationRun(
  db: Database,
  id: string,
  totals: Pick<ReconciliationRun, "checked" | "updated" | "stale" | "adopted" | "errors" | "details">,
): Promise<void> {
  await db
    .update(reconciliationRuns)
    .set({ ...totals, finishedAt: Date.now() })
    .where(eq(reconciliationRuns.id, id));
}
