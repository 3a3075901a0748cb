import { communitySuspendedMessage, suspensionMessage } from "../../shared/membership/standing";
import type { TenantRepository } from "../db/tenant/for-community";
import { type NotifyDeps, notifyMember } from "../notifications/notify-member";
import { executorFor } from "../objects";

/**
 * Suspensions: an admin's of one member, an operator's of a whole community.
 * A suspended member's copies stop at once (their entries not yet sent are
 * canceled; every later fan-out skips them as `member_suspended`), and a
 * suspended community executes nothing (signals and trades are refused as
 * COMMUNITY_SUSPENDED). Open positions and their stops and targets are never
 * touched. Each change is audited by the repository in the same batch, and
 * the member (or the community's owner) is told by DM.
 */

export type MemberSuspensionOutcome =
  | { outcome: "suspended"; canceledOrders: number }
  | { outcome: "unsuspended" }
  | { outcome: "already_suspended" }
  | { outcome: "not_suspended" }
  | { outcome: "not_a_member" };

export async function suspendMember(
  deps: NotifyDeps,
  tenant: TenantRepository,
  input: { userId: string; actorId: string | null; reason: string },
): Promise<MemberSuspensionOutcome> {
  const change = await tenant.memberships.suspend(input.userId, { actorId: input.actorId, reason: input.reason });
  if (change === "not_a_member") return { outcome: "not_a_member" };
  if (change === "unchanged") return { outcome: "already_suspended" };
  const { canceledOrders } = await executorFor(deps.env, tenant.communityId).memberStopped({
    communityId: tenant.communityId,
    userId: input.userId,
    cause: "member_suspended",
  });
  const membership = await tenant.memberships.get(input.userId);
  const canceled = canceledOrders > 0 ? ` ${canceledOrders} order(s) not yet sent were canceled.` : "";
  await notifyMember(deps, {
    userId: input.userId,
    communityId: tenant.communityId,
    event: `suspended:${membership?.suspendedAt ?? Date.now()}`,
    message: `⛔ ${suspensionMessage(input.reason)}${canceled}`,
  });
  return { outcome: "suspended", canceledOrders };
}

export async function unsuspendMember(
  deps: NotifyDeps,
  tenant: TenantRepository,
  input: { userId: string; actorId: string | null; reason: string | null },
): Promise<MemberSuspensionOutcome> {
  const before = await tenant.memberships.get(input.userId);
  const change = await tenant.memberships.unsuspend(input.userId, { actorId: input.actorId, reason: input.reason });
  if (change === "not_a_member") return { outcome: "not_a_member" };
  if (change === "unchanged") return { outcome: "not_suspended" };
  await notifyMember(deps, {
    userId: input.userId,
    communityId: tenant.communityId,
    event: `unsuspended:${before?.suspendedAt ?? Date.now()}`,
    message: `✅ Your suspension in this server was lifted${input.reason ? ` (${input.reason})` : ""}: the signals you follow are copied again from the next one.`,
  });
  return { outcome: "unsuspended" };
}

export type CommunitySuspensionOutcome = { suspended: boolean; changed: boolean; canceledOrders: number };

/** An operator's suspension of a whole community (or its end); the owner, if known, is told. */
export async function setCommunitySuspension(
  deps: NotifyDeps,
  tenant: TenantRepository,
  input: { suspended: boolean; actorId: string; reason: string | null },
): Promise<CommunitySuspensionOutcome> {
  const changed = await tenant.community.setSuspended(input.suspended, {
    actorId: input.actorId,
    reason: input.reason,
  });
  let canceledOrders = 0;
  if (input.suspended) {
    // Even when already suspended: a retry after a failed cancel finishes it (cancelling twice cancels nothing).
    ({ canceledOrders } = await executorFor(deps.env, tenant.communityId).communitySuspended({
      communityId: tenant.communityId,
    }));
  }
  const community = changed ? await tenant.community.get() : null;
  if (community?.ownerUserId) {
    await notifyMember(deps, {
      userId: community.ownerUserId,
      communityId: tenant.communityId,
      event: `community_${input.suspended ? "suspended" : "unsuspended"}:${community.updatedAt}`,
      message: input.suspended
        ? `⛔ ${communitySuspendedMessage({ reason: input.reason })} Open positions and their stops are untouched.`
        : "✅ The suspension of your community was lifted: signals are executed again.",
    });
  }
  return { suspended: input.suspended, changed, canceledOrders };
}
