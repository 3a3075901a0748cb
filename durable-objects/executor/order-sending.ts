import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { describeOrder } from "../../shared/execution/order-label";
import type { OrderRow } from "../../shared/execution/orders";
import type { OrderSubmissionOutcome } from "../../shared/execution/outcomes";
import { opensExposure } from "../../shared/orders/legs";
import type { KillSwitch } from "./kill-switch";
import type { ExecutorLocalState } from "./local-state";
import { applyBrokerOrder, isExit, publishOrder, sendQueuedOrder } from "./order-flow";
import type { OrderFlows } from "./order-flows";
import type { Withdrawals } from "./signal-withdrawal";

export interface SendingParts {
  local: ExecutorLocalState;
  killSwitch: KillSwitch;
  flows: OrderFlows;
  withdrawals: Pick<Withdrawals, "holds">;
  tenant(communityId: string): TenantRepository;
}

/**
 * The executor's side of ORDER_QUEUE and its dead-letter queue: each message sends its order once, only while it
 * is still queued, the kill switch off (for an entry) and no confirmation pending; an order the queue gave up on
 * is looked for at the broker before it is called failed.
 */
export class OrderSending {
  constructor(private readonly parts: SendingParts) {}

  /** Sends one order from ORDER_QUEUE and says whether the message is done. */
  async submit(input: { communityId: string; orderId: string; attempt: number }): Promise<OrderSubmissionOutcome> {
    const { local, killSwitch, flows } = this.parts;
    const tenant = this.parts.tenant(input.communityId);
    const order = await tenant.execution.getOrder(input.orderId);
    if (!order) return { outcome: "done", note: "unknown order" };
    // Redeliveries of handled orders are most messages after a halt or a storm: they need no read of the switch.
    if (order.status !== "queued") return { outcome: "done", status: order.status, note: "already handled" };
    if (opensExposure(order) && (await killSwitch.isHalted(tenant))) {
      const canceled = await tenant.execution.transition(order.id, {
        from: ["queued"],
        to: "canceled",
        cause: "kill_switch",
        patch: { statusReason: "kill switch" },
      });
      local.release([order.id]);
      if (canceled) await flows.publish(tenant, canceled);
      return { outcome: "done", status: canceled?.status ?? order.status };
    }
    if (local.isAwaitingConfirmation(order.id)) return { outcome: "done", note: "awaiting the member's confirmation" };
    // Its provider is taking the signal back: the next delivery finds it canceled (or sends it if the withdrawal failed).
    if (order.signalId && this.parts.withdrawals.holds(order.signalId))
      return { outcome: "retry", delaySeconds: 1, reason: "its signal is being withdrawn" };
    return sendQueuedOrder(flows.for(input.communityId, tenant, order.userId), order, input.attempt);
  }

  /** The DLQ gave up on an order: it is `failed`, and its member is told. */
  async deadLettered(input: { communityId: string; orderId: string; lastError: string | null }) {
    const { local, flows } = this.parts;
    const tenant = this.parts.tenant(input.communityId);
    // The last attempt may have reached the broker (an unknown outcome): look before calling it failed.
    const queued = await tenant.execution.getOrder(input.orderId);
    if (queued?.status === "queued") {
      const flow = flows.for(input.communityId, tenant, queued.userId);
      const found = await flow.adapter.getOrderByClientId(queued.clientOrderId).catch(() => null);
      if (found) {
        const adopted = await applyBrokerOrder(flow, queued, found);
        return { failed: false, status: adopted.status };
      }
    }
    const failed = await tenant.execution.transition(input.orderId, {
      from: ["queued"],
      to: "failed",
      cause: "dead_lettered",
      data: { lastError: input.lastError },
      patch: { statusReason: input.lastError ?? "delivery to the broker failed after every retry" },
    });
    local.release([input.orderId]);
    if (failed) {
      const flow = flows.for(input.communityId, tenant, failed.userId);
      await publishOrder(flow, failed);
      await flow.notifyMember(failed, `order:${failed.id}:failed`, deadLetterNotice(failed));
    }
    return { failed: failed !== null };
  }
}

/** Which order failed (by its words and its /orders id) and what the member can do about it. */
function deadLetterNotice(failed: OrderRow): string {
  const which = `your ${describeOrder(failed)} (order \`${failed.id}\`)`;
  return isExit(failed)
    ? `🚨 Exit failed, position still open: ${which} could not be sent to the broker after every retry. Close or protect the position yourself now with /trade or at your broker; an operator has been alerted.`
    : `⚠️ Not placed: ${which} could not be sent to the broker after every retry, and the broker does not show it, so nothing was traded. Place it again with /trade if you still want it; reconciliation keeps looking for it for a day and an operator has been alerted.`;
}
