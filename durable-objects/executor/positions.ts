import type { BrokerPosition } from "../../shared/brokers/adapter";
import { orderInstrumentKey, positionName } from "../../shared/execution/order-label";
import type { OrderRow } from "../../shared/execution/orders";
import { instrumentKey } from "../../shared/quotes/instrument";
import type { OrderFlowContext } from "./order-flow";

export interface RefreshedPosition {
  /** Signed units held after the fill: negative for a short, 0 when flat. */
  quantity: number;
  /** Publishes `position.updated` (a side effect, sent after the exits are in place). */
  publish(): Promise<void>;
}

/** The signed quantity of a broker position. */
export function signedQuantity(position: Pick<BrokerPosition, "direction" | "quantity"> | undefined): number {
  if (!position) return 0;
  return position.direction === "short" ? -position.quantity : position.quantity;
}

/** The broker's position in one instrument (matched by instrument key: an option is its contract). */
export async function heldAtBroker(ctx: OrderFlowContext, key: string): Promise<BrokerPosition | undefined> {
  const positions = await ctx.adapter.getPositions();
  return positions.find((position) => instrumentKey(position) === key);
}

/**
 * Records the member's position in the order's instrument as the broker now
 * holds it, keyed by instrument key (an option contract's OCC symbol, never
 * its underlying). Null when the broker could not be read.
 */
export async function refreshPosition(ctx: OrderFlowContext, order: OrderRow): Promise<RefreshedPosition | null> {
  const key = orderInstrumentKey(order);
  let held: BrokerPosition | undefined;
  try {
    held = await heldAtBroker(ctx, key);
  } catch (error) {
    ctx.logger.warn("position.refresh_failed", { orderId: order.id, error });
    return null;
  }
  const existing = (await ctx.tenant.execution.positionsOf(order.userId)).find(
    (p) => p.accountRef === order.accountRef && p.symbol === key,
  );
  const quantity = signedQuantity(held);
  await ctx.tenant.execution.upsertPosition({
    userId: order.userId,
    accountRef: order.accountRef,
    symbol: key,
    assetClass: order.assetClass,
    quantity,
    averagePrice: held?.averageCost ?? existing?.averagePrice ?? 0,
    realizedPnl: existing?.realizedPnl ?? 0,
    unrealizedPnl: held?.unrealizedPnl ?? 0,
  });
  return {
    quantity,
    publish: () =>
      ctx.sink.publish({
        type: "position.updated",
        communityId: ctx.communityId,
        audience: { userId: order.userId },
        data: { symbol: key, name: positionName(key), quantity, averagePrice: held?.averageCost ?? null },
        at: ctx.now(),
      }),
  };
}
