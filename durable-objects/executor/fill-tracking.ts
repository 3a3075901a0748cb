import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { OrderRow } from "../../shared/execution/orders";
import type { Logger } from "../../shared/logging";
import { isWorking } from "../../shared/orders/state-machine";
import { isMarketRemainderExpired, nextFollowUpAt } from "../../shared/orders/timing";
import type { DueFollowUp, ExecutorLocalState } from "./local-state";
import { applyBrokerOrder, type OrderFlowContext } from "./order-flow";
import type { OrderFlows } from "./order-flows";
import type { PaperDesk } from "./paper-desk";

export interface FillTrackingParts {
  local: ExecutorLocalState;
  paper: PaperDesk;
  flows: OrderFlows;
  logger: Logger;
}

/**
 * Prompt fill tracking, on the executor's alarm: each order working at the broker is looked at again on its
 * schedule (1, 2, 5, 10, 30 s after it was sent, then every minute for 15 minutes; reconciliation owns it after
 * that). A paper order is asked of the paper desk first, in this object: one the desk reports exactly as D1 last
 * held it is only rescheduled. The others are read from D1 in one query, then brought in line with the broker.
 */
export class FillTracking {
  constructor(private readonly parts: FillTrackingParts) {}

  async followUp(communityId: string, tenant: TenantRepository, now: number): Promise<void> {
    const changed: DueFollowUp[] = [];
    for (const due of this.parts.local.dueTracking(now)) {
      if (!(await this.unchangedAtPaperDesk(due, now))) changed.push(due);
    }
    if (changed.length === 0) return;
    const rows = new Map(
      (await tenant.execution.getOrdersByIds(changed.map((due) => due.orderId))).map((row) => [row.id, row]),
    );
    for (const due of changed) {
      const order = rows.get(due.orderId);
      if (!order?.brokerOrderId || !isWorking(order.status)) {
        this.parts.local.untrack(due.orderId);
        continue;
      }
      const flow = this.parts.flows.for(communityId, tenant, order.userId);
      try {
        await applyBrokerOrder(flow, order, await flow.adapter.getOrder(order.brokerOrderId));
        await expireMarketRemainder(flow, order);
      } catch (error) {
        this.parts.logger.warn("order.follow_up_failed", { communityId, orderId: order.id, error });
        flow.track({ ...order, submittedAt: due.submittedAt });
      }
    }
  }

  /**
   * True (and the next follow-up scheduled) when the paper desk reports the order exactly as D1 last held it (a
   * trailing stop: at the same level too).
   * False for a live broker's order, a market remainder due to be canceled, a change, or a desk that failed.
   */
  private async unchangedAtPaperDesk(due: DueFollowUp, now: number): Promise<boolean> {
    const { last } = due;
    if (last?.broker !== "paper" || !last.brokerOrderId) return false;
    if (isMarketRemainderExpired({ ...last, submittedAt: due.submittedAt }, now)) return false;
    const broker = await this.parts.paper
      .adapterFor(last.userId)
      .getOrder(last.brokerOrderId)
      .catch(() => null);
    if (broker?.status !== last.status || broker.filledQuantity !== last.filledQuantity) return false;
    if (last.orderType === "trailing_stop" && broker.stopPrice !== last.stopPrice) return false;
    const next = nextFollowUpAt(due.submittedAt, now);
    if (next === null) this.parts.local.untrack(due.orderId);
    else this.parts.local.followUpAgain(due.orderId, next);
    return true;
  }
}

/** A market order's remainder still unfilled five minutes after it was sent is canceled at the broker. */
export async function expireMarketRemainder(flow: OrderFlowContext, order: OrderRow): Promise<void> {
  if (order.orderType !== "market") return;
  const fresh = await flow.tenant.execution.getOrder(order.id);
  if (!fresh?.brokerOrderId || !isMarketRemainderExpired(fresh, Date.now())) return;
  await flow.adapter.cancelOrder(fresh.brokerOrderId);
  const broker = await flow.adapter.getOrder(fresh.brokerOrderId);
  await applyBrokerOrder(flow, fresh, broker);
}
