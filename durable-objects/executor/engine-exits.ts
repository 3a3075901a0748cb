import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { takesTrailingStops } from "../../shared/brokers/adapter";
import { legLabel } from "../../shared/discord/format";
import { orderInstrumentKey } from "../../shared/execution/order-label";
import type { NewOrder, OrderRow } from "../../shared/execution/orders";
import { clientOrderId } from "../../shared/orders/client-order-id";
import { isTerminal, ORDER_TRANSITIONS } from "../../shared/orders/state-machine";
import { exitsAfterFill } from "../../shared/risk/exits-after-fill";
import { type ExitRoom, fitExitsToPosition, heldPosition, roomForNewExits } from "../../shared/risk/exits-to-position";
import type { OrderIntent } from "../../shared/risk/types";
import { fitExitsToHeld, stepOf, toWorkingExit, withdrawExit } from "./exit-sync";
import { type OrderFlowContext, sendQueuedOrder } from "./order-flow";
import { refreshPosition } from "./positions";

/** The ends an order that has filled something can reach (not a rejection, not a failure). */
const FINISHED_WITH_FILL = ORDER_TRANSITIONS.partially_filled.filter(isTerminal);

/** An entry that will not fill any further and filled something: its exits are due (for the part that filled). */
export function isFinishedEntry(order: OrderRow): boolean {
  return (
    order.parentOrderId === null &&
    order.leg === "entry" &&
    FINISHED_WITH_FILL.includes(order.status) &&
    order.filledQuantity > 0
  );
}

/**
 * Places the exits the engine places itself once an entry has filled (paper,
 * and brokers without native brackets): sized to the part that filled, with
 * default levels measured from the fill (`exitsAfterFill`). Sent at once, not
 * behind the queue's backlog; an exit that cannot be sent now goes through
 * the queue and its retries. Idempotent: each exit's id is the entry's id and
 * its leg. When the position already holds less than the entry filled (closed
 * in between), the exits are fitted to it. Returns notes for the member.
 */
export async function placeEngineExits(ctx: OrderFlowContext, entry: OrderRow, heldNow?: number): Promise<string[]> {
  const { intent } = entry;
  const exits = (intent.exits ?? []).filter((exit) => exit.placeAfterFill);
  if (exits.length === 0 || !isFinishedEntry(entry)) return [];
  const planned = exitsAfterFill(
    intent,
    exits,
    {
      orderedQuantity: entry.quantity,
      filledQuantity: entry.filledQuantity,
      averagePrice: entry.averageFillPrice,
    },
    takesTrailingStops(ctx.adapter.capabilities, intent.assetClass),
  );
  const beside = heldNow === undefined ? null : await roomBesideWorkingExits(ctx, entry, planned.intents, heldNow);
  const room = beside?.room;
  const intents = planned.intents.map((exit, i) => {
    const quantity = room?.[i]?.quantity ?? exit.quantity;
    return quantity > 0 && quantity !== exit.quantity ? { ...exit, quantity } : exit;
  });
  const orders = await Promise.all(intents.map((exit) => exitOrder(ctx, entry, exit)));
  await ctx.tenant.execution.insertOrders(orders, ctx.now());
  const notes: string[] = [];
  // An exit with no room is recorded, canceled with its reason before it is ever sent: the entry keeps a trace of it.
  const noRoom = new Map<string, string>();
  orders.forEach((order, i) => {
    const fit = room?.[i];
    if (fit?.reason)
      notes.push(`${capitalized(legLabel(order.leg))} ${fit.quantity > 0 ? "" : "not placed: "}${fit.reason}.`);
    if (fit && fit.quantity === 0) noRoom.set(order.id, fit.reason ?? "");
  });
  let stored: OrderRow[] = [];
  for (const exit of await ctx.tenant.execution.getOrdersByIds(orders.map((o) => o.id))) {
    const reason = noRoom.get(exit.id);
    if (reason === undefined) stored.push(exit);
    else if (exit.status === "queued") await withdrawExit(ctx, exit, { cause: "position_reduced", reason, data: {} });
  }
  const later: OrderRow[] = [];
  for (let i = 0; i < stored.length; i++) {
    const exit = stored[i] as OrderRow;
    const outcome = await sendQueuedOrder(ctx, exit, 1).catch((error: unknown) => {
      ctx.logger.warn("order.exit_send_deferred", { orderId: exit.id, error });
      return { outcome: "retry" as const, delaySeconds: 1, reason: "error" };
    });
    if (outcome.outcome === "retry") later.push(exit);
    // An exit that filled at once (one already through the market) may have canceled the others: read them again.
    if (outcome.outcome === "done" && (outcome.status === "filled" || outcome.status === "partially_filled")) {
      stored = [
        ...stored.slice(0, i + 1),
        ...(await ctx.tenant.execution.getOrdersByIds(stored.slice(i + 1).map((o) => o.id))),
      ];
    }
  }
  if (later.length > 0) await ctx.enqueue(later);
  ctx.logger.info("order.exits_placed", {
    orderId: entry.id,
    exits: orders.length,
    sentAtOnce: stored.length - later.length,
    skipped: planned.skipped,
  });

  notes.unshift(
    ...[...planned.atMarket, ...planned.trailAsFixed].map(
      ({ leg, reason }) => `${capitalized(legLabel(leg))}: ${reason}`,
    ),
  );
  for (const skipped of planned.skipped) notes.push(`${skipped.leg} is not placed: ${skipped.reason}.`);
  // The position holds less than the exits already working on it cover (closed in part meanwhile): fit them to it.
  if (heldNow !== undefined && beside?.workingNeedFitting) notes.push(...(await fitExitsToHeld(ctx, entry, heldNow)));
  return notes;
}

/**
 * What of each exit fits beside those already working on the entry's position, which holds `heldSigned`; and whether
 * the exits working on it already cover more than it holds (or work on the wrong side), so that they need fitting.
 */
async function roomBesideWorkingExits(
  ctx: OrderFlowContext,
  entry: OrderRow,
  exits: readonly OrderIntent[],
  heldSigned: number,
): Promise<{ room: ExitRoom[]; workingNeedFitting: boolean }> {
  const key = orderInstrumentKey(entry);
  // This entry's own exits are there already only when it is placed again (their rows stay as they were).
  const working = (await ctx.tenant.execution.workingExitsOf(entry.userId, entry.accountRef, entry.symbol)).filter(
    (exit) => orderInstrumentKey(exit) === key,
  );
  const held = heldPosition(heldSigned);
  const step = stepOf(entry);
  const others = working.filter((exit) => exit.parentOrderId !== entry.id).map(toWorkingExit);
  return {
    room: roomForNewExits(held, others, exits, step),
    workingNeedFitting: fitExitsToPosition(held, working.map(toWorkingExit), step).length > 0,
  };
}

async function exitOrder(ctx: OrderFlowContext, entry: OrderRow, exit: OrderIntent): Promise<NewOrder> {
  const signalId = entry.signalId ?? entry.id;
  return {
    id: `${entry.id}:${exit.leg}`,
    signalId: entry.signalId,
    userId: entry.userId,
    accountRef: entry.accountRef,
    broker: entry.broker,
    clientOrderId: await clientOrderId({
      communityId: ctx.communityId,
      signalId,
      followerId: entry.userId,
      leg: exit.leg,
    }),
    leg: exit.leg,
    parentOrderId: entry.id,
    symbol: exit.symbol,
    assetClass: exit.assetClass,
    intent: { ...exit },
    side: exit.side,
    orderType: exit.orderType,
    quantity: exit.quantity,
    limitPrice: exit.limitPrice,
    stopPrice: exit.stopPrice,
    cause: "entry_filled",
  };
}

/**
 * Reconciliation: entries that ended with a fill since `since` but have no
 * exit at all (a failure between the fill and the exits) get them now,
 * fitted to the position as it stands, with an alert for the operators.
 */
export async function restoreMissingExits(
  tenant: TenantRepository,
  since: number,
  flowFor: (userId: string) => OrderFlowContext,
): Promise<number> {
  let restored = 0;
  for (const entry of await tenant.execution.entriesMissingExits(since)) {
    const flow = flowFor(entry.userId);
    try {
      const held = await refreshPosition(flow, entry);
      await placeEngineExits(flow, entry, held?.quantity);
      await held?.publish();
      restored += 1;
      flow.logger.error("order.missing_exits_placed", { alert: true, orderId: entry.id });
    } catch (error) {
      flow.logger.error("order.missing_exits_failed", { alert: true, orderId: entry.id, error });
    }
  }
  return restored;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
