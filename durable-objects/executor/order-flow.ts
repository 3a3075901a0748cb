import type { BrokerAdapter, BrokerOrder, BrokerOrderIntent, BrokerPosition } from "../../shared/brokers/adapter";
import { PermanentError, TransientError, UnknownOutcomeError } from "../../shared/brokers/errors";
import type { EventSink } from "../../shared/execution/events";
import type { Logger } from "../../shared/logging";
import { backoffDelayMs } from "../../shared/orders/backoff";
import { clientOrderId } from "../../shared/orders/client-order-id";
import type { OrderIntent } from "../../shared/risk/types";
import type { TenantRepository } from "../../workers/db/tenant";
import type { NewOrder, OrderRow } from "../../workers/db/tenant/execution";
import type { BrokerGuard } from "../../workers/execution/broker-guard";
import type { OrderSubmissionOutcome } from "../../workers/queues/order-submissions";

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
  /** Starts (or continues) prompt fill tracking for an open order. */
  track(orderId: string, submittedAt: number): void;
  untrack(orderId: string): void;
  /** Queues orders (engine-placed exits that could not be sent at once) to ORDER_QUEUE. */
  enqueue(orders: readonly Pick<NewOrder, "id" | "clientOrderId">[]): Promise<void>;
  /** Tells the member something about their order (a DM through NOTIFY_QUEUE). */
  notifyMember(userId: string, key: string, text: string): Promise<void>;
  now(): number;
}

const TERMINAL = new Set(["filled", "canceled", "rejected", "expired", "failed"]);

/** The broker intent for a stored order. */
export function brokerIntentOf(order: OrderRow): BrokerOrderIntent {
  const intent = order.intent as unknown as OrderIntent & { bracket?: BrokerOrderIntent["bracket"] };
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
    bracket: intent.bracket ?? null,
  };
}

/**
 * Sends one queued order. Only an order still `queued` is sent, so a
 * redelivered message does nothing. An unknown outcome is resolved by looking
 * the order up by its client id, never by a blind resend.
 */
export async function sendQueuedOrder(
  ctx: OrderFlowContext,
  order: OrderRow,
  attempt: number,
): Promise<OrderSubmissionOutcome> {
  if (order.status !== "queued") return { outcome: "done", status: order.status, note: "not queued" };
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
    if (error instanceof UnknownOutcomeError) {
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
          order.userId,
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
 * Brings our order in line with what the broker says: submitted, partially
 * filled, filled, or ended. Records new fills once each, updates the position,
 * places engine exits after an entry's fill, and ends tracking when terminal.
 */
export async function applyBrokerOrder(ctx: OrderFlowContext, order: OrderRow, broker: BrokerOrder): Promise<OrderRow> {
  const now = ctx.now();
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
    if (!moved) return (await ctx.tenant.execution.getOrder(current.id)) ?? current;
    current = moved;
    await publishOrder(ctx, current);
  }

  const newFills = await recordFills(ctx, current, broker);
  const target = broker.status;
  if (target !== current.status || broker.filledQuantity !== current.filledQuantity) {
    const fromStates = allowedFrom(target, current.status);
    if (fromStates && (target !== current.status || target === "partially_filled")) {
      const moved = await ctx.tenant.execution.transition(current.id, {
        from: fromStates,
        to: target,
        cause: current.status === "canceled" ? "late_fill_adopted" : `broker_${target}`,
        adoptLateFill: current.status === "canceled",
        data: { filledQuantity: broker.filledQuantity, averageFillPrice: broker.averageFillPrice },
        patch: {
          filledQuantity: broker.filledQuantity,
          averageFillPrice: broker.averageFillPrice,
          statusReason: broker.rejectReason ?? (broker.waitingForPrice ? "waiting for a price" : null),
        },
      });
      if (moved) {
        current = moved;
        await publishOrder(ctx, current);
      }
    }
  }

  if (newFills > 0) {
    await refreshPosition(ctx, current);
    await ctx.notifyMember(
      current.userId,
      `order:${current.id}:fill:${current.filledQuantity}`,
      `✅ ${current.status === "filled" ? "Filled" : "Partly filled"}: ${describeOrder(current)} — ${current.filledQuantity} @ ${current.averageFillPrice ?? "?"}`,
    );
  }
  if (current.status === "filled") {
    await placeEngineExits(ctx, current);
    await cancelSiblingExitsIfFlat(ctx, current);
  }
  if (TERMINAL.has(current.status)) {
    ctx.release([current.id]);
    ctx.untrack(current.id);
  } else if (current.submittedAt) {
    ctx.track(current.id, current.submittedAt);
  }
  return current;
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
  if (!found || !["submitted", "partially_filled", "filled"].includes(found.status)) return null;
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

/** Which of our states may move to the broker's state (null: none, nothing to do). */
function allowedFrom(target: BrokerOrder["status"], current: OrderRow["status"]): OrderRow["status"][] | null {
  switch (target) {
    case "submitted":
      return null;
    case "partially_filled":
      return current === "canceled" ? ["canceled"] : ["submitted", "partially_filled"];
    case "filled":
      return ["submitted", "partially_filled", "canceled"];
    case "canceled":
    case "expired":
    case "rejected":
      return ["submitted", "partially_filled"];
  }
}

async function recordFills(ctx: OrderFlowContext, order: OrderRow, broker: BrokerOrder): Promise<number> {
  const fills =
    broker.fills ??
    (broker.filledQuantity > order.filledQuantity && broker.averageFillPrice !== null
      ? [
          {
            fillId: `${broker.brokerOrderId}:${broker.filledQuantity}`,
            price: broker.averageFillPrice,
            quantity: broker.filledQuantity - order.filledQuantity,
            at: broker.updatedAt,
          },
        ]
      : []);
  let recorded = 0;
  for (const fill of fills) {
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

async function refreshPosition(ctx: OrderFlowContext, order: OrderRow): Promise<void> {
  let held: BrokerPosition | undefined;
  try {
    const positions = await ctx.adapter.getPositions();
    held = positions.find((p) => p.symbol === order.symbol && p.assetClass === order.assetClass);
  } catch (error) {
    ctx.logger.warn("position.refresh_failed", { orderId: order.id, error });
    return;
  }
  const existing = (await ctx.tenant.execution.positionsOf(order.userId)).find(
    (p) => p.accountRef === order.accountRef && p.symbol === order.symbol,
  );
  const signed = held ? (held.direction === "short" ? -held.quantity : held.quantity) : 0;
  await ctx.tenant.execution.upsertPosition({
    userId: order.userId,
    accountRef: order.accountRef,
    symbol: order.symbol,
    assetClass: order.assetClass,
    quantity: signed,
    averagePrice: held?.averageCost ?? existing?.averagePrice ?? 0,
    realizedPnl: existing?.realizedPnl ?? 0,
    unrealizedPnl: held?.unrealizedPnl ?? 0,
  });
  await ctx.sink.publish({
    type: "position.updated",
    communityId: ctx.communityId,
    audience: { userId: order.userId },
    data: { symbol: order.symbol, quantity: signed, averagePrice: held?.averageCost ?? null },
    at: ctx.now(),
  });
}

/** Exits the engine places itself once the entry has filled (brokers without native brackets, and paper). */
async function placeEngineExits(ctx: OrderFlowContext, entry: OrderRow): Promise<void> {
  const intent = entry.intent as { exits?: OrderIntent[] };
  const exits = (intent.exits ?? []).filter((e) => e.placeAfterFill);
  if (exits.length === 0 || !entry.signalId) return;
  const ratio = entry.quantity > 0 ? Math.min(1, entry.filledQuantity / entry.quantity) : 0;
  const orders: NewOrder[] = [];
  for (const exit of exits) {
    const quantity = scaleQuantity(exit.quantity, ratio, exit.assetClass);
    if (quantity <= 0) continue;
    orders.push({
      id: `${entry.id}:${exit.leg}`,
      signalId: entry.signalId,
      userId: entry.userId,
      accountRef: entry.accountRef,
      broker: entry.broker,
      clientOrderId: await clientOrderId({
        communityId: ctx.communityId,
        signalId: entry.signalId,
        followerId: entry.userId,
        leg: exit.leg,
      }),
      leg: exit.leg,
      parentOrderId: entry.id,
      symbol: exit.symbol,
      assetClass: exit.assetClass,
      intent: { ...exit, quantity },
      side: exit.side,
      orderType: exit.orderType,
      quantity,
      limitPrice: exit.limitPrice,
      stopPrice: exit.stopPrice,
      cause: "entry_filled",
    });
  }
  await ctx.tenant.execution.insertOrders(orders, ctx.now());
  // Sent at once rather than behind the queue's backlog, so a position is never left without its stop;
  // an exit that cannot be sent right now goes through the queue and its retries.
  const stored = await ctx.tenant.execution.getOrdersByIds(orders.map((o) => o.id));
  const later: OrderRow[] = [];
  for (const exit of stored) {
    const outcome = await sendQueuedOrder(ctx, exit, 1).catch((error: unknown) => {
      ctx.logger.warn("order.exit_send_deferred", { orderId: exit.id, error });
      return { outcome: "retry" as const, delaySeconds: 1, reason: "error" };
    });
    if (outcome.outcome === "retry") later.push(exit);
  }
  if (later.length > 0) await ctx.enqueue(later);
  ctx.logger.info("order.exits_placed", {
    orderId: entry.id,
    exits: orders.length,
    sentAtOnce: stored.length - later.length,
  });
}

function scaleQuantity(quantity: number, ratio: number, assetClass: string): number {
  const scaled = quantity * ratio;
  if (assetClass === "crypto") return Math.floor(scaled * 1e8) / 1e8;
  return Math.floor(scaled + 1e-9);
}

/** When an exit leaves the position flat, the other exits of that entry are canceled (one-cancels-other). */
async function cancelSiblingExitsIfFlat(ctx: OrderFlowContext, exit: OrderRow): Promise<void> {
  if (!exit.parentOrderId) return;
  const positions = await ctx.tenant.execution.positionsOf(exit.userId);
  const position = positions.find((p) => p.accountRef === exit.accountRef && p.symbol === exit.symbol);
  if (position && Math.abs(position.quantity) > 1e-9) return;
  const siblings = (
    await ctx.tenant.execution.listOrders({ userId: exit.userId, signalId: exit.signalId ?? undefined })
  )
    .filter((o) => o.parentOrderId === exit.parentOrderId && o.id !== exit.id)
    .filter((o) => o.status === "queued" || o.status === "submitted" || o.status === "partially_filled");
  for (const sibling of siblings) {
    if (sibling.brokerOrderId) {
      await ctx.adapter.cancelOrder(sibling.brokerOrderId).catch((error: unknown) => {
        ctx.logger.warn("order.sibling_cancel_failed", { orderId: sibling.id, error });
      });
    }
    const canceled = await ctx.tenant.execution.transition(sibling.id, {
      from: ["queued", "submitted", "partially_filled"],
      to: "canceled",
      cause: "position_closed_by_other_exit",
      patch: { statusReason: "position closed by another exit" },
    });
    if (canceled) {
      ctx.release([sibling.id]);
      ctx.untrack(sibling.id);
      await publishOrder(ctx, canceled);
    }
  }
}

export async function publishOrder(ctx: OrderFlowContext, order: OrderRow): Promise<void> {
  await ctx.sink.publish({
    type: "order.updated",
    communityId: ctx.communityId,
    audience: { userId: order.userId },
    data: {
      orderId: order.id,
      status: order.status,
      symbol: order.symbol,
      leg: order.leg,
      filledQuantity: order.filledQuantity,
      averageFillPrice: order.averageFillPrice,
    },
    at: ctx.now(),
  });
}

/** Stops, take-profits and flattening orders protect or close a position; their failure is an alert to the member. */
export function isExit(order: Pick<OrderRow, "leg" | "parentOrderId">): boolean {
  return order.parentOrderId !== null || order.leg.startsWith("flatten");
}

export function describeOrder(order: Pick<OrderRow, "side" | "quantity" | "symbol" | "leg" | "orderType">): string {
  const leg = order.leg === "entry" ? "" : ` (${order.leg})`;
  return `${order.side.replaceAll("_", " ")} ${order.quantity} ${order.symbol} ${order.orderType}${leg}`;
}
