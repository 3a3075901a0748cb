import { communityScope } from "../../shared/crypto/data-keys";
import { ServiceUnavailableError } from "../../shared/errors";
import type { Logger } from "../../shared/logging";
import { ACCESS_SETTING_RETENTION_MS } from "../../shared/membership/standing";
import { within } from "../../shared/timeout";
import { forgetScopeKeys } from "../crypto/vault";
import { database } from "../db/client";
import { communityDirectory } from "../db/cross-community/community-directory";
import { dataKeyStore } from "../db/data-keys";
import type { TenantRepository } from "../db/tenant/for-community";
import { forCommunity } from "../db/tenant/for-community";
import { saveKillSwitch, tellExecutor } from "../execution/kill-switch";
import { type NotifyDeps, notifyMember } from "../notifications/notify-member";
import { executorFor, realtimeHubFor } from "../objects";

/**
 * Deleting a community, designed for real money. Trading halts first (the kill switch, saved in D1, which the
 * executor reads before every step), then the community is marked deleted (audited `community.deleted`), its signal
 * webhooks are revoked and its executor cancels the orders not yet sent. Open positions at brokers are never touched:
 * every member is told so by DM. The data is kept as long as settings are after the bot leaves a server (30 days),
 * so `/setup` in the server before then restores it as a re-invite would; then housekeeping purges it.
 */

export const DELETION_HALT_REASON = "community deleted";
export const COMMUNITY_DATA_RETENTION_MS = ACCESS_SETTING_RETENTION_MS;

export type CommunityDeletion =
  | { deleted: false }
  | {
      deleted: true;
      deletedAt: number;
      purgeAfter: number;
      executorNotified: boolean;
      canceledOrders: number | null;
      revokedWebhooks: number;
      membersNotified: number;
      /** Dashboard sockets closed; null when the hub could not be reached (logged). */
      socketsClosed: number | null;
    };

export async function deleteCommunity(
  deps: NotifyDeps & { logger: Logger; waitUntil: (promise: Promise<unknown>) => void },
  tenant: TenantRepository,
  input: { actorId: string; stepUp: "community.delete" | null },
): Promise<CommunityDeletion> {
  const halt = { halted: true, reason: DELETION_HALT_REASON, actorId: input.actorId };
  const saved = await saveKillSwitch(tenant, halt);
  if (!saved.ok) {
    deps.logger.error("community.delete_not_halted", { alert: true, error: saved.error });
    throw new ServiceUnavailableError(
      "Trading could not be halted, so the community was NOT deleted; try again.",
      "SERVICE_UNAVAILABLE",
      { retryAfterSeconds: 1 },
    );
  }
  const deletedAt = Date.now();
  const purgeAfter = deletedAt + COMMUNITY_DATA_RETENTION_MS;
  if (!(await tenant.community.markDeleted({ ...input, at: deletedAt, purgeAfter }))) {
    return { deleted: false };
  }
  const webhooks = await tenant.signalWebhooks.list({ includeRevoked: false });
  let revokedWebhooks = 0;
  for (const webhook of webhooks) {
    if (await tenant.signalWebhooks.revoke(webhook.id, input.actorId, DELETION_HALT_REASON)) revokedWebhooks += 1;
  }
  const executor = await tellExecutor(deps.env, { communityId: tenant.communityId, ...halt });
  if (!executor.ok)
    deps.logger.error("community.delete_executor_unreachable", { alert: true, reason: executor.reason });
  const socketsClosed = await closeDashboards(deps, tenant.communityId);
  const community = await tenant.community.get();
  const members = await tenant.memberships.list();
  deps.waitUntil(tellMembers(deps, tenant.communityId, members, { deletedAt, name: community?.name ?? "" }));
  return {
    deleted: true,
    deletedAt,
    purgeAfter,
    executorNotified: executor.ok,
    canceledOrders: executor.ok ? executor.canceledOrders : null,
    revokedWebhooks,
    membersNotified: members.length,
    socketsClosed,
  };
}

/** How long the deletion waits for the community's RealtimeHub to close its sockets. */
const HUB_CLOSE_TIMEOUT_MS = 2_000;

/** Closes every open dashboard socket of the deleted community (none can open again: it answers 404 now). */
async function closeDashboards(deps: { env: Env; logger: Logger }, communityId: string): Promise<number | null> {
  try {
    return await within(realtimeHubFor(deps.env, communityId).endAll(), HUB_CLOSE_TIMEOUT_MS);
  } catch (error) {
    deps.logger.warn("community.delete_sockets_not_closed", { communityId, error });
    return null;
  }
}

async function tellMembers(
  deps: NotifyDeps & { logger: Logger },
  communityId: string,
  members: { userId: string }[],
  community: { deletedAt: number; name: string },
): Promise<void> {
  const message = `🗑️ The community ${community.name} was deleted: its trading has stopped and its orders not yet sent to a broker were canceled. Your open positions and their orders at your broker are untouched: manage them there.`;
  for (const member of members) {
    try {
      await notifyMember(deps, {
        userId: member.userId,
        communityId,
        event: `community_deleted:${community.deletedAt}`,
        message,
      });
    } catch (error) {
      deps.logger.error("community.delete_notice_failed", { userId: member.userId, error });
    }
  }
}

/** Communities purged per housekeeping run; the rest wait for the next day's run. */
const PURGES_PER_RUN = 20;

/**
 * Purges communities deleted more than 30 days ago (what their executor and realtime hub keep, their rows but the
 * append-only audit log, then the community itself, then its data keys), as housekeeping lets the access role go
 * 30 days after the bot left. A restored community is skipped.
 */
export async function purgeDeletedCommunities(env: Env, logger: Logger, now: number): Promise<number> {
  const db = database(env.DB);
  const ids = await communityDirectory(db).deletedBefore(now - COMMUNITY_DATA_RETENTION_MS, PURGES_PER_RUN);
  let purged = 0;
  for (const communityId of ids) {
    const tenant = forCommunity(db, communityId);
    // Read again: `/setup` may have restored it since the page was read.
    const community = await tenant.community.get();
    if (!community?.deletedAt || now - community.deletedAt < COMMUNITY_DATA_RETENTION_MS) continue;
    try {
      await executorFor(env, communityId).purgeStorage({ communityId });
      await realtimeHubFor(env, communityId).purgeStorage();
    } catch (error) {
      logger.error("community.purge_objects_failed", { communityId, error });
      continue; // its rows stay until its objects are empty: the next run tries again
    }
    const outcome = await tenant.purge.everything();
    if (!outcome.done) {
      logger.info("community.purge_continues", { communityId, rowsDeleted: outcome.rowsDeleted });
      break; // the rest of this one, and the others, next run
    }
    // Its data keys last: whatever they sealed is unreadable from now on, wherever a copy of it survives.
    const dataKeysDeleted = await dataKeyStore(db).deleteScope(communityScope(communityId));
    forgetScopeKeys(communityScope(communityId));
    purged += 1;
    logger.info("community.purged", { communityId, rowsDeleted: outcome.rowsDeleted, dataKeysDeleted });
  }
  return purged;
}
