import { eq } from "drizzle-orm";
import { orders, signals } from "../../../shared/db/schema";
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

/**
 * Which community a [Close now] / [Keep] offer over a position belongs to: its id is the signal's id, a dash, and
 * a digest of the position (no order names it). The executor checks the presser is the member the offer is for.
 */
export async function positionOfferCommunity(db: Database, offerId: string): Promise<string | null> {
  const signalId = /^(.+)-[0-9a-z]{11}$/.exec(offerId)?.[1];
  if (!signalId) return null;
  const row = await db.select({ communityId: signals.communityId }).from(signals).where(eq(signals.id, signalId)).get();
  return row?.communityId ?? null;
}
