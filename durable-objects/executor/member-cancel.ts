import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { describeOrder } from "../../shared/execution/order-label";
import { opensExposure } from "../../shared/orders/legs";
import { isWorking } from "../../shared/orders/state-machine";
import type { Confirmations } from "./confirmations";
import type { HeldPositions } from "./held-positions";
import type { ExecutorLocalState } from "./local-state";
import { applyBrokerOrder } from "./order-flow";
import type { OrderFlows } from "./order-flows";

export interface MemberCancelParts {
  local: ExecutorLocalState;
  flows: OrderFlows;
  confirmations: Confirmations;
  held: HeldPositions;
  tenant(communityId: string): TenantRepository;
}

/**
 * /cancel: a member cancels one of their own orders. One still queued here is canceled before it leaves (its
 * confirmation, if any, withdrawn); one working at the broker is canceled there, and the answer is what the broker
 * then reports.
 */
export async function cancelMemberOrder(
  parts: MemberCancelParts,
  input: { communityId: string; orderId: string; userId: string },
): Promise<{ ok: boolean; message: string }> {
  const tenant = parts.tenant(input.communityId);
  const order = await tenant.execution.getOrder(input.orderId);
  if (!order || order.userId !== input.userId) return { ok: false, message: "You have no such order." };
  if (order.status === "queued") {
    parts.local.takeConfirmation(order.id);
    const canceled = await parts.confirmations.cancelUnsent(tenant, order, "canceled_by_member");
    if (!canceled) return { ok: false, message: "The order moved on; try again." };
    const stillHeld = !opensExposure(order) && (await parts.held.offer(input.communityId, order, "you canceled it"));
    return {
      ok: true,
      message: `Canceled: ${describeOrder(order)}.${stillHeld ? " You still hold the position: see your DMs to close or keep it." : ""}`,
    };
  }
  if (!isWorking(order.status) || !order.brokerOrderId) {
    return { ok: false, message: `The order is already ${order.status.replaceAll("_", " ")}.` };
  }
  const flow = parts.flows.for(input.communityId, tenant, order.userId);
  await flow.adapter.cancelOrder(order.brokerOrderId);
  const after = await applyBrokerOrder(flow, order, await flow.adapter.getOrder(order.brokerOrderId));
  return after.status === "canceled"
    ? { ok: true, message: `Canceled: ${describeOrder(order)}.` }
    : { ok: false, message: `The broker reports the order as ${after.status.replaceAll("_", " ")}.` };
}
