import type { TenantRepository } from "../../platform/db/tenant/for-community";
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
    publishCanceled(orderIds: readonly string[]): Promise<void>;
  },
  userId: string,
): Promise<{ canceledOrders: number }> {
  const canceled = await ctx.tenant.execution.cancelQueued("member_left", { userId, entriesOnly: true });
  ctx.local.release(canceled);
  for (const orderId of canceled) ctx.local.takeConfirmation(orderId);
  await ctx.publishCanceled(canceled);
  return { canceledOrders: canceled.length };
}
