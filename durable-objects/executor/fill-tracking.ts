import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { BrokerOrder } from "../../shared/brokers/adapter";
import type { OrderRow } from "../../shared/execution/orders";
import type { Logger } from "../../shared/logging";
import { isWorking } from "../../shared/orders/state-machine";
import { isMarketRemainderExpired, nextFollowUpAt } from "../../shared/orders/timing";
import { sleep } from "../../shared/timeout";
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
 * that). Paper orders are asked of the paper desk first, in this object, a member's together: one the desk reports
 * exactly as D1 last held it is only rescheduled. The others are read from D1 in one query, then brought in line
 * with the broker.
 */
export class FillTracking {
  constructor(private readonly parts: FillTrackingParts) {}

  async followUp(communityId: string, tenant: TenantRepository, now: number): Promise<void> {
    const changed = await this.changedAtPaperDesk(this.parts.local.dueTracking(now), now);
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
   * The due follow-ups that need D1 and the broker. A paper order the desk reports exactly as D1 last held it (a
   * trailing stop: at the same level too) is only rescheduled; each member's paper orders are asked of the desk
   * together, in one pass over their account. A live broker's order, a market remainder due to be canceled, a
   * change, or a desk that failed needs the full follow-up.
   */
  private async changedAtPaperDesk(due: readonly DueFollowUp[], now: number): Promise<DueFollowUp[]> {
    const changed: DueFollowUp[] = [];
    const atDesk = new Map<string, PaperFollowUp[]>();
    for (const item of due) {
      const { last } = item;
      if (last?.broker !== "paper" || !last.brokerOrderId) changed.push(item);
      else if (isMarketRemainderExpired({ ...last, submittedAt: item.submittedAt }, now)) changed.push(item);
      else {
        const member = atDesk.get(last.userId) ?? [];
        member.push({ ...item, last: { ...last, brokerOrderId: last.brokerOrderId } });
        atDesk.set(last.userId, member);
      }
    }
    for (const [userId, items] of atDesk) {
      // A member's look at the desk is all CPU (storage and the quote feed answer at once): a turn of the event
      // loop between members lets a signal that arrived meanwhile in, instead of waiting for every member's.
      await sleep(0);
      const broker = await this.parts.paper
        .adapterFor(userId)
        .getOrders(items.map((item) => item.last.brokerOrderId))
        .catch(() => new Map<string, BrokerOrder>());
      for (const item of items) {
        if (!sameAsLastHeld(item.last, broker.get(item.last.brokerOrderId))) {
          changed.push(item);
          continue;
        }
        const next = nextFollowUpAt(item.submittedAt, now);
        if (next === null) this.parts.local.untrack(item.orderId);
        else this.parts.local.followUpAgain(item.orderId, next);
      }
    }
    return changed;
  }
}

type LastHeld = NonNullable<DueFollowUp["last"]>;
type PaperFollowUp = DueFollowUp & { last: LastHeld & { brokerOrderId: string } };

function sameAsLastHeld(last: LastHeld, broker: BrokerOrder | undefined): boolean {
  if (broker?.status !== last.status || broker.filledQuantity !== last.filledQuantity) return false;
  return last.orderType !== "trailing_stop" || broker.stopPrice === last.stopPrice;
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
