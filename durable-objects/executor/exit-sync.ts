import { isOpenStatus } from "../../shared/brokers/adapter";
import { orderInstrumentKey } from "../../shared/execution/order-label";
import type { NewOrder, OrderRow } from "../../shared/execution/orders";
import { clientOrderId } from "../../shared/orders/client-order-id";
import { UNSETTLED_STATUSES } from "../../shared/orders/state-machine";
import { fitExitsToPosition, heldPosition, type WorkingExit } from "../../shared/risk/exits-to-position";
import { lotStep } from "../../shared/risk/instruments";
import type { AssetClass, OrderSide } from "../../shared/risk/types";
import { applyBrokerOrder, type OrderFlowContext, publishOrder, sendQueuedOrder } from "./order-flow";
import { heldAtBroker, signedQuantity } from "./positions";

/** Rounds of fitting when an exit fills while it is being withdrawn (each round reads the position again). */
const MAX_ROUNDS = 3;

/** Whether a fill of this order shrinks a position (exits, closes, flattens, stops and take-profits). */
export function closesPosition(order: Pick<OrderRow, "side" | "intent">): boolean {
  return order.intent.positionEffect === "close" || isClosingSide(order.side);
}

function isClosingSide(side: string): boolean {
  return side === "sell" || side === "buy_to_cover";
}

/**
 * Fits the engine-placed exits of `order`'s position (same member, account
 * and instrument key) to the `heldSigned` units it now holds: resized down to
 * what is held, all canceled when it is flat or on the other side
 * (`fitExitsToPosition`). A resized exit is canceled at the broker and placed
 * again for the smaller quantity under a new client order id. When an exit
 * fills while it is being withdrawn, the fill is recorded and the position
 * read again. Returns what changed, for the member.
 */
export async function fitExitsToHeld(ctx: OrderFlowContext, order: OrderRow, heldSigned: number): Promise<string[]> {
  // An exit signal's decision names the position it closes and what should stay open (`decision.closes`).
  const closes = order.intent.closes ?? null;
  const key = closes?.instrument ?? orderInstrumentKey(order);
  if (closes && order.status === "filled" && Math.abs(Math.abs(heldSigned) - closes.remainingQuantity) > 1e-9) {
    ctx.logger.warn("position.close_left_other_quantity", {
      orderId: order.id,
      expectedRemaining: closes.remainingQuantity,
      held: heldSigned,
    });
  }
  const notes: string[] = [];
  let held = heldSigned;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const working = (await ctx.tenant.execution.workingExitsOf(order.userId, order.accountRef, order.symbol)).filter(
      (exit) => orderInstrumentKey(exit) === key,
    );
    if (working.length === 0) return notes;
    const step = stepOf(working[0] as OrderRow);
    const fits = fitExitsToPosition(heldPosition(held), working.map(toWorkingExit), step);
    if (fits.length === 0) return notes;
    let filledMeanwhile = false;
    for (const fit of fits) {
      const exit = working.find((candidate) => candidate.id === fit.id);
      if (!exit) continue;
      const withdrawn = await withdrawExit(ctx, exit, {
        cause: fit.action === "cancel" ? "position_reduced" : "exit_resized",
        reason: fit.reason,
        data: fit.action === "resize" ? { quantity: fit.quantity } : {},
      });
      if (withdrawn === "filled_meanwhile") {
        filledMeanwhile = true;
        break;
      }
      if (withdrawn === "withdrawn" && fit.action === "resize") {
        await placeReplacement(ctx, exit, { leg: `${exit.leg}:${fit.quantity}`, quantity: fit.quantity });
      }
      if (withdrawn === "withdrawn") {
        notes.push(fit.action === "cancel" ? `${exit.leg} canceled: ${fit.reason}.` : `${exit.leg} ${fit.reason}.`);
      }
    }
    if (!filledMeanwhile) break;
    held = signedQuantity(await heldAtBroker(ctx, key));
  }
  return notes;
}

export function toWorkingExit(exit: OrderRow): WorkingExit {
  return {
    id: exit.id,
    leg: exit.leg,
    side: exit.side as OrderSide,
    remaining: Math.max(0, exit.quantity - exit.filledQuantity),
  };
}

export function stepOf(exit: Pick<OrderRow, "intent" | "assetClass">): number {
  return exit.intent.lotStep ?? lotStep(exit.assetClass as AssetClass, { fractional: false });
}

/**
 * Takes an exit off the market: canceled at the broker (or never sent, when
 * still queued), then recorded as canceled with the reason. When the broker
 * filled some of it first, that fill is recorded instead.
 */
export async function withdrawExit(
  ctx: OrderFlowContext,
  exit: OrderRow,
  why: { cause: string; reason: string; data: Record<string, unknown> },
): Promise<"withdrawn" | "filled_meanwhile" | "gone"> {
  if (exit.brokerOrderId) {
    await ctx.adapter.cancelOrder(exit.brokerOrderId).catch((error: unknown) => {
      ctx.logger.warn("order.exit_cancel_failed", { orderId: exit.id, error });
    });
    const broker = await ctx.adapter.getOrder(exit.brokerOrderId);
    if (broker.filledQuantity > exit.filledQuantity) {
      await applyBrokerOrder(ctx, exit, broker, { fitExits: false });
      return "filled_meanwhile";
    }
    if (isOpenStatus(broker.status)) {
      ctx.logger.error("order.exit_not_withdrawn", { alert: true, orderId: exit.id, brokerStatus: broker.status });
      return "gone";
    }
  }
  const canceled = await ctx.tenant.execution.transition(exit.id, {
    from: UNSETTLED_STATUSES,
    to: "canceled",
    cause: why.cause,
    data: { reason: why.reason, ...why.data },
    patch: { statusReason: why.reason },
  });
  ctx.release([exit.id]);
  ctx.untrack(exit.id);
  if (!canceled) return "gone";
  await publishOrder(ctx, canceled);
  return "withdrawn";
}

/**
 * The same exit again under a new id and client order id (both derived from `change.leg`, so a retry reuses
 * them): for a smaller quantity (a resize), or at another stop price (a provider's stop move).
 */
export async function placeReplacement(
  ctx: OrderFlowContext,
  exit: OrderRow,
  change: {
    leg: string;
    quantity: number;
    stopPrice?: number;
    cause?: string;
    /** Replace a stop by a trailing stop with this distance (its stopPrice is then the level at placing). */
    trail?: { percent: number } | { amount: number };
  },
): Promise<OrderRow | null> {
  const parent = exit.parentOrderId ?? exit.id;
  const { leg, quantity } = change;
  const stopPrice = change.stopPrice ?? exit.stopPrice;
  // A trailing stop moved to a level is a fixed stop there; one only resized keeps trailing.
  const toFixedLevel = change.stopPrice !== undefined && !change.trail && exit.intent.orderType === "trailing_stop";
  const newType = change.trail ? ("trailing_stop" as const) : toFixedLevel ? ("stop" as const) : null;
  const orderType = newType ?? exit.orderType;
  const { trail: previousTrail, ...keptIntent } = exit.intent;
  const kept = change.trail ?? (toFixedLevel ? null : previousTrail);
  const trail = kept ? { trail: kept } : {};
  const replacement: NewOrder = {
    id: `${parent}:${leg}`,
    signalId: exit.signalId,
    userId: exit.userId,
    accountRef: exit.accountRef,
    broker: exit.broker,
    clientOrderId: await clientOrderId({
      communityId: ctx.communityId,
      signalId: exit.signalId ?? parent,
      followerId: exit.userId,
      leg,
    }),
    leg: exit.leg,
    parentOrderId: exit.parentOrderId,
    symbol: exit.symbol,
    assetClass: exit.assetClass,
    intent: {
      ...keptIntent,
      quantity,
      stopPrice,
      resizedFrom: exit.id,
      ...(newType ? { orderType: newType } : {}),
      ...trail,
    },
    side: exit.side,
    orderType,
    quantity,
    limitPrice: exit.limitPrice,
    stopPrice,
    cause: change.cause ?? "exit_resized",
  };
  await ctx.tenant.execution.insertOrders([replacement], ctx.now());
  const [stored] = await ctx.tenant.execution.getOrdersByIds([replacement.id]);
  if (!stored) return null;
  const outcome = await sendQueuedOrder(ctx, stored, 1).catch(() => ({ outcome: "retry" as const }));
  if (outcome.outcome === "retry") await ctx.enqueue([stored]);
  return stored;
}
