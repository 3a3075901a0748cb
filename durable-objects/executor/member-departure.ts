import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { ExecutorLocalState } from "./local-state";
import type { OrderFlows } from "./order-flows";

/**
 * A member left the server: their entries not yet sent (confirm-mode ones
 * included) are canceled, so nothing new opens in their account. Exits stay:
 * an open position keeps its stop and targets, and the member manages it at
 * their broker. Their follows were paused before this runs, so no new signal
 * reaches them.
 */
export async function cancelDepartedMemberEntries(
  parts: { local: ExecutorLocalState; flows: Pick<OrderFlows, "publishAll"> },
  tenant: TenantRepository,
  userId: string,
): Promise<{ canceledOrders: number }> {
  const canceled = await tenant.execution.cancelQueued("member_left", { userId, entriesOnly: true });
  const canceledIds = canceled.map((order) => order.id);
  parts.local.release(canceledIds);
  for (const orderId of canceledIds) parts.local.takeConfirmation(orderId);
  await parts.flows.publishAll(tenant, canceled);
  return { canceledOrders: canceled.length };
}
