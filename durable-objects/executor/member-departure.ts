import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { OrderRow } from "../../shared/execution/orders";
import type { ExecutorLocalState } from "./local-state";

/**
 * A member left the server: their entries not yet sent (confirm-mode ones
 * included) are canceled, so nothing new opens in their account. Exits stay:
 * an open position keeps its stop and targets, and the member manages it at
 * their broker. Their follows were paused before this runs, so no new signal
 * reaches them.
 */
export async function cancelDepartedMemberEntries(
  ctx: {
    local: ExecutorLocalState;
    tenant: TenantRepository;
    publishCanceled(orders: readonly OrderRow[]): Promise<void>;
  },
  userId: string,
): Promise<{ canceledOrders: number }> {
  const canceled = await ctx.tenant.execution.cancelQueued("member_left", { userId, entriesOnly: true });
  const canceledIds = canceled.map((order) => order.id);
  ctx.local.release(canceledIds);
  for (const orderId of canceledIds) ctx.local.takeConfirmation(orderId);
  await ctx.publishCanceled(canceled);
  return { canceledOrders: canceled.length };
}
