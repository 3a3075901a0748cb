import type { Database } from "../../platform/db/client";
import { traderBillingOf } from "../../platform/db/cross-community/trader-billing";
import { memberPersonalData } from "../../platform/db/member-personal-data";
import type { Community } from "../../platform/db/tenant/community";
import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { executorFor } from "../../platform/objects";

/** Names the document, so a reader knows what it holds and which shape (bumped on any incompatible change). */
export const EXPORT_FORMAT = "discord-trade-executor/privacy-export";
export const EXPORT_VERSION = 1;

export interface MemberExportSource {
  env: Env;
  db: Database;
  tenant: TenantRepository;
  community: Community;
  userId: string;
}

/**
 * Everything the product holds about one member in one community (openspec/specs/privacy, "What an export holds"):
 * this community's tenant rows, their platform-wide rows that concern them, and what the community's executor keeps
 * (their paper account). Nothing from another community, and never a secret or credential: each source names its
 * columns. Any source that cannot be read fails the whole export rather than hand out part of it.
 */
export async function memberExport(source: MemberExportSource, now = Date.now()) {
  const { community, userId } = source;
  const [tenantData, personal, traderBilling, executor] = await Promise.all([
    source.tenant.memberData.exportOf(userId),
    memberPersonalData(source.db, { userId, communityId: community.id, guildId: community.guildId }),
    traderBillingOf(source.db, userId),
    executorFor(source.env, community.id).memberPrivacyRecord({ communityId: community.id, userId }),
  ]);
  const { membership, ...activity } = tenantData;
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt: new Date(now).toISOString(),
    community: { id: community.id, name: community.name, discordGuildId: community.guildId },
    user: personal.user,
    membership: membership
      ? {
          role: membership.role,
          isOwner: community.ownerUserId === userId,
          discordRoleIds: membership.discordRoleIds,
          rolesSeenAt: membership.rolesSeenAt,
          joinedAt: membership.createdAt,
          updatedAt: membership.updatedAt,
          serverSeenAt: personal.serverSeenAt,
        }
      : null,
    suspension: membership?.suspendedAt
      ? { suspendedAt: membership.suspendedAt, reason: membership.suspendedReason, by: membership.suspendedBy }
      : null,
    ...activity,
    paperAccount: executor.paperAccount,
    tradingHold: executor.tradingHold,
    tradingDay: executor.equityDay,
    notificationPreferences: personal.notificationPreferences,
    notices: personal.notices,
    traderPlan: personal.traderPlan,
    traderBilling,
    mfa: personal.mfa,
    sessions: personal.sessions,
    signIns: personal.signIns,
  };
}

export type MemberExport = Awaited<ReturnType<typeof memberExport>>;
