import { eq } from "drizzle-orm";
import { orders } from "../../../shared/db/schema";
import type { Database } from "../client";

/**
 * Which community and member an order belongs to, by its globally unique id:
 * a confirm-mode button pressed in a DM carries only the order id. The caller
 * must still check that the presser owns the order.
 */
export async function orderOwner(
  db: Database,
  orderId: string,
): Promise<{ communityId: string; userId: string } | null> {
  return (
    (await db
      .select({ communityId: orders.communityId, userId: orders.userId })
      .from(orders)
      .where(eq(orders.id, orderId))
      .get()) ?? null
  );
}
