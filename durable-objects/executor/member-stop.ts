import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { MemberStopCause } from "../../shared/membership/standing";
import type { ExecutorLocalState } from "./local-state";
import type { OrderFlows } from "./order-flows";

/**
 * A member stopped trading here (they left the server, an admin suspended them, or they lost the access role):
 * their entries not yet sent (confirm-mode ones included) are canceled with that cause, so nothing new opens in
 * their account. Exits stay: an open position keeps its stop and targets, and the member manages it at their
 * broker. New signals no longer reach them (follows paused, or their standing refused at each fan-out).
 */
export async function cancelStoppedMemberEntries(
  parts: { local: ExecutorLocalState; flows: Pick<OrderFlows, "publishAll"> },
  tenant: TenantRepository,
  userId: string,
  cause: MemberStopCause,
): Promise<{ canceledOrders: number }> {
  const canceled = await tenant.execution.cancelQueued(cause, { userId, entriesOnly: true });
  return { canceledOrders: await released(parts, tenant, canceled) };
}

/**
 * An operator suspended the whole community: every entry not yet sent is canceled (cause `community_suspended`);
 * exits keep working, like the kill switch's halt. New signals are refused while the suspension holds.
 */
export async function cancelSuspendedCommunityEntries(
  parts: { local: ExecutorLocalState; flows: Pick<OrderFlows, "publishAll"> },
  tenant: TenantRepository,
): Promise<{ canceledOrders: number }> {
  const canceled = await tenant.execution.cancelQueued("community_suspended", { entriesOnly: true });
  return { canceledOrders: await released(parts, tenant, canceled) };
}

async function released(
  parts: { local: ExecutorLocalState; flows: Pick<OrderFlows, "publishAll"> },
  tenant: TenantRepository,
  canceled: Awaited<ReturnType<TenantRepository["execution"]["cancelQueued"]>>,
): Promise<number> {
  const canceledIds = canceled.map((order) => order.id);
  parts.local.release(canceledIds);
  for (const orderId of canceledIds) parts.local.takeConfirmation(orderId);
  await parts.flows.publishAll(tenant, canceled);
  return canceled.length;
}
