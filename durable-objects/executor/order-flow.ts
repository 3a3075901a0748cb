import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { BrokerGuard } from "../../platform/execution/broker-guard";
import {
  type BrokerAdapter,
  type BrokerOrder,
  type BrokerOrderIntent,
  isOpenStatus,
} from "../../shared/brokers/adapter";
import { PermanentError, TransientError, UnknownOutcomeError } from "../../shared/brokers/errors";
import { type EventSink, orderUpdated } from "../../shared/execution/events";
import type { StoredOrderIntent } from "../../shared/execution/order-intent";
import { describeOrder, filledPart, fillSentence } from "../../shared/execution/order-label";
import type { NewOrder, OrderRow } from "../../shared/execution/orders";
import type { OrderSubmissionOutcome } from "../../shared/execution/outcomes";
import type { Logger } from "../../shared/logging";
import { orderExplanations, orderPlacedMessage } from "../../shared/notifications/order-messages";
import { backoffDelayMs } from "../../shared/orders/backoff";
import { isTerminal, isWorking, WORKING_STATUSES } from "../../shared/orders/state-machine";
import { nativeBracketOf } from "../../shared/risk/intents";
import { isFinishedEntry, placeEngineExits } from "./engine-exits";
import { closesPosition, fitExitsToHeld } from "./exit-sync";
import { refreshPosition } from "./positions";

/** What one order's life needs from the executor around it. */
export interface OrderFlowContext {
  communityId: string;
  tenant: TenantRepository;
  adapter: BrokerAdapter;
  /** The live broker's circuit breaker and throttle; null for the built-in paper broker. */
  guard: BrokerGuard | null;
  logger: Logger;
  sink: EventSink;
  /** Releases the order's in-flight reservation (it is now in the snapshot, or ended). */
  release(orderIds: readonly string[]): void;
  /** Starts (or continues) prompt fill tracking for an order working at the broker. */
  track(order: OrderRow): void;
  untrack(orderId: string): void;
  /** Queues orders (engine-placed exits that could not be sent at once) to ORDER_QUEUE. */
  enqueue(orders: readonly Pick<NewOrder, "id" | "clientOrderId">[]): Promise<void>;
  /** Tells the member something about their order (a badged DM through NOTIFY_QUEUE). */
  notifyMember(order: OrderRow, key: string, text: string): Promise<void>;
  now(): number;
  /**
   * Runs `send` unless a send of the same order is already under way in this
   * executor, in which case it waits for that one instead: two copies of one
   * message never both reach the broker.
   */
  sendOnce?(orderId: string, send: () => Promise<OrderSubmissionOutcome>): Promise<OrderSubmissionOutcome>;
}

/** What applying a broker update may do beyond recording it. */
export interface ApplyOptions {
  /** Fit the position's other exits after a fill that shrinks it (off while those exits are being withdrawn). */
  fitExits?: boolean;
}

/** The broker intent for a stored order: exits are reduce-only, and a native bracket carries its legs. */
export function brokerIntentOf(order: OrderRow): BrokerOrderIntent {
  const { intent } = order;
  return {
    clientOrderId: order.clientOrderId,
    assetClass: intent.assetClass,
    symbol: intent.symbol,
    option: intent.option ?? null,
    side: intent.side,
    orderType: intent.orderType,
    quantity: order.quantity,
    limitPrice: order.limitPrice,
    stopPrice: order.stopPrice,
    timeInForce: intent.timeInForce,
    bracket: intent.bracket ?? bracketOf(intent),
    reduceOnly: intent.positionEffect === "close",
    ...(intent.orderType === "trailing_stop" ? { trail: intent.trail ?? null } : {}),
  };
}

/** A native bracket's legs; an entry whose decided stop cannot ride on it is refused, never sent bare. */
function bracketOf(intent: StoredOrderIntent): BrokerOrderIntent["bracket"] {
  try {
    return nativeBracketOf(intent, intent.exits ?? []);
  } catch (error) {
    throw new PermanentError("invalid_order", error instanceof Error ? error.message : String(error));
  }
}

/**
 * Sends one queued order. Only an order still `queued` is sent, so a
 * redelivered message does nothing, and only one send of an order runs at a
 * time. An unknown outcome (or a broker saying it already has the client id)
 * is resolved by looking the order up by its client id, never by a blind resend.
 */
export async function sendQueuedOrder(
  ctx: OrderFlowContext,
  order: OrderRow,
  attempt: number,
): Promise<OrderSubmissionOutcome> {
  if (order.status !== "queued") return { outcome: "done", status: order.status, note: "not queued" };
  const send = () => sendClaimed(ctx, order, attempt);
  return ctx.sendOnce ? ctx.sendOnce(order.id, send) : send();
}

async function sendClaimed(ctx: OrderFlowContext, order: OrderRow, attempt: number): Promise<OrderSubmissionOutcome> {
  if (ctx.guard) {
    const admitted = await ctx.guard.admit();
    if (!admitted.ok) {
      return {
        outcome: "retry",
        delaySeconds: Math.max(1, Math.ceil(admitted.retryAfterMs / 1000)),
        reason: admitted.reason,
      };
    }
  }
  let placed: BrokerOrder | null = null;
  try {
    placed = await ctx.adapter.placeOrder(brokerIntentOf(order));
    await ctx.guard?.record(true);
  } catch (error) {
    // Server errors, timeouts and lost answers count against the broker's health; refusals and 429s do not.
    const unhealthy =
      error instanceof UnknownOutcomeError || (error instanceof TransientError && error.httpStatus !== 429);
    await ctx.guard?.record(!unhealthy);
    const alreadyThere = error instanceof PermanentError && error.reason === "duplicate_client_order_id";
    if (error instanceof UnknownOutcomeError || alreadyThere) {
      placed = await ctx.adapter.getOrderByClientId(order.clientOrderId).catch(() => null);
      if (!placed) {
        await ctx.tenant.execution.touch(order.id, { attempts: attempt });
        return retryLater(attempt, undefined, "unknown outcome, not found by client id yet");
      }
      ctx.logger.warn("order.unknown_outcome_resolved", { orderId: order.id, orderStatus: placed.status });
    } else if (error instanceof TransientError) {
      await ctx.tenant.execution.touch(order.id, { attempts: attempt, statusReason: error.message });
      return retryLater(attempt, error.retryAfterMs, error.message);
    } else if (error instanceof PermanentError) {
      const rejected = await ctx.tenant.execution.transition(order.id, {
        from: ["queued"],
        to: "rejected",
        cause: "broker_rejected",
        data: { reason: error.reason, message: error.message },
        patch: { statusReason: `${error.reason}: ${error.message}`, attempts: attempt },
      });
      ctx.release([order.id]);
      if (rejected) {
        await publishOrder(ctx, rejected);
        await ctx.notifyMember(
          order,
          `order:${order.id}:rejected`,
          isExit(order)
            ? `🚨 Exit failed, position still open: your ${describeOrder(order)} was rejected (${error.message}). Manage the position yourself or retry the exit.`
            : `❌ Your ${describeOrder(order)} was rejected: ${error.message}`,
        );
      }
      return { outcome: "done", status: "rejected" };
    } else {
      throw error;
    }
  }
  await applyBrokerOrder(ctx, order, placed);
  return { outcome: "done", status: placed.status };
}

function retryLater(attempt: number, retryAfterMs: number | undefined, reason: string): OrderSubmissionOutcome {
  const delayMs = backoffDelayMs(attempt, { retryAfterMs });
  return { outcome: "retry", delaySeconds: Math.max(1, Math.ceil(delayMs / 1000)), reason };
}

/**
 * Brings our order in line with what the broker says, in three steps:
 * 1. record: submitted, a trailing stop's current level, new fills (once
 *    each), partially filled, filled or ended, and the member's position;
 * 2. protect: an entry that ended with a fill gets its engine-placed exits,
 *    and a fill that shrinks a position fits that position's other exits to
 *    what is still held;
 * 3. tell: events and direct messages, last, so a failure there can never
 *    leave a position without its exits.
 */
export async function applyBrokerOrder(
  ctx: OrderFlowContext,
  order: OrderRow,
  broker: BrokerOrder,
  options: ApplyOptions = {},
): Promise<OrderRow> {
  const now = ctx.now();
  const changed: OrderRow[] = [];
  let current = order;
  if (current.status === "queued") {
    const moved = await ctx.tenant.execution.transition(current.id, {
      from: ["queued"],
      to: "submitted",
      cause: "broker_accepted",
      data: { brokerOrderId: broker.brokerOrderId, waitingForPrice: broker.waitingForPrice ?? false },
      patch: {
        brokerOrderId: broker.brokerOrderId,
        submittedAt: now,
        statusReason: broker.waitingForPrice ? "waiting for a price" : null,
      },
    });
    if (!moved) return settleRacedSend(ctx, current, broker, options);
    current = moved;
    changed.push(current);
  }

  // 1. Record.
  const level = movedTrailingLevel(current, broker);
  if (level !== null) {
    const followed = await ctx.tenant.execution.followStopLevel(current, level, ctx.now());
    if (followed) {
      current = followed;
      changed.push(current);
    }
  }
  const newFills = await recordFills(ctx, current, broker);
  for (const step of transitionsTowards(current, broker)) {
    const moved = await ctx.tenant.execution.transition(current.id, {
      from: step.from,
      to: step.to,
      cause: current.status === "canceled" ? "late_fill_adopted" : `broker_${step.to}`,
      adoptLateFill: current.status === "canceled",
      data: { filledQuantity: broker.filledQuantity, averageFillPrice: broker.averageFillPrice },
      patch: {
        filledQuantity: broker.filledQuantity,
        averageFillPrice: broker.averageFillPrice,
        statusReason: statusReasonOf(step.to, broker),
      },
    });
    if (!moved) break;
    current = moved;
    changed.push(current);
  }
  const held = newFills > 0 ? await refreshPosition(ctx, current) : null;

  // 2. Protect.
  const notes: string[] = [];
  try {
    if (isFinishedEntry(current)) notes.push(...(await placeEngineExits(ctx, current, held?.quantity)));
    const shrank = held !== null && (closesPosition(current) || shrankPosition(current, order, held.quantity));
    if (options.fitExits !== false && held && shrank) {
      notes.push(...(await fitExitsToHeld(ctx, current, held.quantity)));
    }
  } catch (error) {
    // Reconciliation finds a finished entry without its exits and places them.
    ctx.logger.error("order.exits_failed", { alert: true, orderId: current.id, error });
  }
  if (isTerminal(current.status)) {
    ctx.release([current.id]);
    ctx.untrack(current.id);
  } else if (current.submittedAt) {
    ctx.track(current);
  }

  // 3. Tell.
  for (const row of changed) await publishOrder(ctx, row);
  if (held) await held.publish();
  // An entry the broker just took: its "Order placed" message says why it is what it is (sizing, defaults added,
  // reductions); when it filled at once, the fill message says it instead.
  const justPlaced = order.status === "queued" && isEntry(current) && current.brokerOrderId !== null;
  if (newFills > 0) {
    const explained = justPlaced ? orderExplanations(current.intent) : [];
    await ctx.notifyMember(
      current,
      `order:${current.id}:fill:${current.filledQuantity}`,
      [fillSentence(current), ...explained.map((line) => `• ${line}`), ...notes].join("\n"),
    );
  } else if (justPlaced) {
    await ctx.notifyMember(current, `order:${current.id}:placed`, [orderPlacedMessage(current), ...notes].join("\n"));
  } else if (notes.length > 0) {
    await ctx.notifyMember(current, `order:${current.id}:exits:${current.status}`, notes.join("\n"));
  }
  return current;
}

/** A working trailing stop's trigger level when the broker reports it moved (with the best price), else null. */
function movedTrailingLevel(order: OrderRow, broker: BrokerOrder): number | null {
  if (order.orderType !== "trailing_stop" || !isWorking(order.status)) return null;
  return broker.stopPrice !== null && broker.stopPrice !== order.stopPrice ? broker.stopPrice : null;
}

/** Why an order ended, in words: the broker's reason, or what the end means. */
function statusReasonOf(to: OrderRow["status"], broker: BrokerOrder): string | null {
  if (broker.rejectReason) return broker.rejectReason;
  if (to === "canceled" || to === "expired") return broker.note ?? `${to} at the broker`;
  return broker.waitingForPrice ? "waiting for a price" : null;
}

/** Whether the fills between `before` and `after` made the position smaller or turned it over (an opposite entry). */
function shrankPosition(after: OrderRow, before: OrderRow, heldNow: number): boolean {
  const filled = after.filledQuantity - before.filledQuantity;
  if (!(filled > 0)) return false;
  const delta = after.side === "buy" || after.side === "buy_to_cover" ? filled : -filled;
  const heldBefore = heldNow - delta;
  return Math.abs(heldNow) < Math.abs(heldBefore) - 1e-12 || Math.sign(heldNow) * Math.sign(heldBefore) < 0;
}

/**
 * The broker moved an order we no longer hold as `queued`. When we canceled
 * it meanwhile (a halt, a conflicting signal, the member, a confirmation
 * timeout), the broker's order is still the member's: it is canceled there
 * if it is still working, its broker id recorded, and any fill adopted with
 * its exits. A dead-lettered (`failed`) one is adopted as reconciliation would.
 */
async function settleRacedSend(
  ctx: OrderFlowContext,
  sent: OrderRow,
  broker: BrokerOrder,
  options: ApplyOptions,
): Promise<OrderRow> {
  const fresh = (await ctx.tenant.execution.getOrder(sent.id)) ?? sent;
  if (fresh.status === "failed") return (await adoptIfPlaced(ctx, fresh)) ?? fresh;
  if (fresh.status !== "canceled" || fresh.brokerOrderId) return fresh;

  let latest = broker;
  if (isOpenStatus(broker.status)) {
    await ctx.adapter.cancelOrder(broker.brokerOrderId).catch((error: unknown) => {
      ctx.logger.warn("order.raced_cancel_failed", { orderId: fresh.id, error });
    });
    latest = await ctx.adapter.getOrder(broker.brokerOrderId).catch(() => broker);
  }
  await ctx.tenant.execution.touch(fresh.id, {
    brokerOrderId: latest.brokerOrderId,
    submittedAt: ctx.now(),
    statusReason: `${fresh.statusReason ?? "canceled"}; it had reached the broker (${latest.status.replaceAll("_", " ")})`,
  });
  ctx.logger.error("order.cancel_raced_send", {
    alert: latest.filledQuantity > 0,
    orderId: fresh.id,
    brokerStatus: latest.status,
    filledQuantity: latest.filledQuantity,
  });
  const adopted = await applyBrokerOrder(ctx, { ...fresh, brokerOrderId: latest.brokerOrderId }, latest, options);
  if (adopted.filledQuantity > 0) {
    await ctx.notifyMember(
      adopted,
      `order:${adopted.id}:raced`,
      `⚠️ Your ${describeOrder(adopted)} was canceled (${fresh.statusReason ?? "canceled"}) while it was being sent, but the broker had already filled it: ${filledPart(adopted)}. The fill is recorded and its exits are placed.`,
    );
  }
  return adopted;
}

/**
 * A `failed` (dead-lettered) order whose last attempt may have reached the
 * broker: looked up by its client order id and, if the broker has it working
 * or filled, adopted and brought up to date. Returns the order, or null when
 * the broker never got it.
 */
export async function adoptIfPlaced(ctx: OrderFlowContext, order: OrderRow): Promise<OrderRow | null> {
  if (order.status !== "failed") return null;
  const found = await ctx.adapter.getOrderByClientId(order.clientOrderId);
  if (!found || !(isOpenStatus(found.status) || found.status === "filled")) return null;
  const adopted = await ctx.tenant.execution.transition(order.id, {
    from: ["failed"],
    to: "submitted",
    cause: "late_fill_adopted",
    adoptLateFill: true,
    data: { brokerOrderId: found.brokerOrderId, brokerStatus: found.status },
    patch: {
      brokerOrderId: found.brokerOrderId,
      submittedAt: ctx.now(),
      statusReason: "found at the broker after failing",
    },
  });
  if (!adopted) return null;
  await publishOrder(ctx, adopted);
  return applyBrokerOrder(ctx, adopted, found);
}

/**
 * The state changes that bring our order to the broker's. A canceled order
 * the broker partly filled before the cancel took is adopted as partially
 * filled first, then canceled again, so its history tells the truth.
 */
function transitionsTowards(
  current: OrderRow,
  broker: BrokerOrder,
): { from: OrderRow["status"][]; to: OrderRow["status"] }[] {
  const target = broker.status;
  const filledMore = broker.filledQuantity > current.filledQuantity;
  if (target === current.status && !(filledMore && target === "partially_filled")) {
    return [];
  }
  if (current.status === "canceled" && filledMore && (target === "canceled" || target === "expired")) {
    return [
      { from: ["canceled"], to: "partially_filled" },
      { from: ["partially_filled"], to: target },
    ];
  }
  const from = allowedFrom(target, current.status);
  return from ? [{ from, to: target }] : [];
}

/** Which of our states may move to the broker's state (null: none, nothing to do). */
function allowedFrom(target: BrokerOrder["status"], current: OrderRow["status"]): OrderRow["status"][] | null {
  switch (target) {
    case "submitted":
      return null;
    case "partially_filled":
      return current === "canceled" ? ["canceled"] : [...WORKING_STATUSES];
    case "filled":
      return [...WORKING_STATUSES, "canceled"];
    case "canceled":
    case "expired":
    case "rejected":
      return [...WORKING_STATUSES];
  }
}

/**
 * Records the broker's fills once each. A broker that lists its executions
 * gives each one's price; one that reports only the cumulative quantity and
 * average gives the new part's price as the change in total cost.
 */
async function recordFills(ctx: OrderFlowContext, order: OrderRow, broker: BrokerOrder): Promise<number> {
  let recorded = 0;
  for (const fill of broker.fills ?? cumulativeFill(order, broker)) {
    const inserted = await ctx.tenant.execution.recordFill({
      orderId: order.id,
      userId: order.userId,
      executionId: fill.fillId,
      quantity: fill.quantity,
      price: fill.price,
      quoteSource: fill.quoteSource ?? null,
      quoteTimestamp: fill.quoteTimestamp ? Date.parse(fill.quoteTimestamp) : null,
      delayed: fill.delayed ?? false,
      filledAt: Date.parse(fill.at) || ctx.now(),
    });
    if (inserted) recorded += 1;
  }
  return recorded;
}

/** The fill a cumulative report adds: its quantity, and its price from the change in total cost. */
export function cumulativeFill(
  order: Pick<OrderRow, "filledQuantity" | "averageFillPrice">,
  broker: Pick<BrokerOrder, "brokerOrderId" | "filledQuantity" | "averageFillPrice" | "updatedAt">,
): NonNullable<BrokerOrder["fills"]> {
  const quantity = broker.filledQuantity - order.filledQuantity;
  if (!(quantity > 1e-12) || broker.averageFillPrice === null) return [];
  const costBefore = order.filledQuantity * (order.averageFillPrice ?? 0);
  const price = (broker.filledQuantity * broker.averageFillPrice - costBefore) / quantity;
  return [
    {
      fillId: `${broker.brokerOrderId}:${broker.filledQuantity}`,
      price: Math.round(price * 1e8) / 1e8,
      quantity: Number(quantity.toFixed(10)),
      at: broker.updatedAt,
    },
  ];
}

export async function publishOrder(ctx: OrderFlowContext, order: OrderRow): Promise<void> {
  await ctx.sink.publish(orderUpdated(ctx.communityId, order, ctx.now()));
}

/** An order that opens or adds to a position as the member decided it (not an exit the engine placed). */
function isEntry(order: Pick<OrderRow, "leg" | "parentOrderId">): boolean {
  return order.leg === "entry" && order.parentOrderId === null;
}

/** Stops, take-profits and flattening orders protect or close a position; their failure is an alert to the member. */
export function isExit(order: Pick<OrderRow, "leg" | "parentOrderId">): boolean {
  return order.parentOrderId !== null || order.leg.startsWith("flatten");
}
