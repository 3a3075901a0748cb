import { isProvider } from "../../shared/discord/permissions";
import { discordSettingsOf } from "../../shared/discord/settings";
import type { Logger } from "../../shared/logging";
import { accessRoleMessage, rolesLost } from "../../shared/membership/standing";
import { database } from "../db/client";
import { communityDirectory } from "../db/cross-community/community-directory";
import { forCommunity } from "../db/tenant/for-community";
import { type NotifyDeps, notifyMember } from "../notifications/notify-member";
import { executorFor } from "../objects";

export type RoleChangeOutcome =
  | { outcome: "ignored"; reason: "guild_not_registered" | "not_a_member" }
  | {
      outcome: "recorded";
      accessRoleLost: boolean;
      providerRoleLost: boolean;
      canceledOrders: number;
      webhookRevoked: boolean;
    };

/**
 * A member's Discord roles changed (GUILD_MEMBER_UPDATE) or they joined
 * (again) with some (GUILD_MEMBER_ADD). The roles are recorded on their
 * membership: they are what the access role is checked against at every
 * fan-out, so no signal asks Discord. What the change took away acts at once:
 *
 * - the access role: their entries not yet sent are canceled and they are told
 *   why and where to get it back; the next signals skip them until they hold it
 *   again (nothing to undo: holding it again is enough);
 * - their last provider role, when nothing else makes them a provider (an
 *   admin's name, a stored grant, admin rights): their signal webhook is
 *   revoked and they are told. Their signals in channels and /signal already
 *   follow their live roles.
 *
 * Open positions and their exits are untouched. A replayed event finds the
 * roles already recorded and does nothing the second time. `permissions`: the
 * member's guild permissions as the Gateway computes them (null: unknown).
 */
export async function memberRolesChanged(
  deps: NotifyDeps,
  change: { guildId: string; discordUserId: string; roles: readonly string[]; permissions: string | null; key: string },
  logger: Logger,
): Promise<RoleChangeOutcome> {
  const db = database(deps.env.DB);
  const community = await communityDirectory(db).findByGuildId(change.guildId);
  if (!community) return { outcome: "ignored", reason: "guild_not_registered" };
  const tenant = forCommunity(db, community.id);
  const member = await tenant.providers.memberByDiscordId(change.discordUserId);
  if (!member || member.role === null) return { outcome: "ignored", reason: "not_a_member" };

  const { before } = await tenant.memberships.recordDiscordRoles(member.userId, change.roles);
  const settings = discordSettingsOf(community.settings);
  const lost = rolesLost(before, change.roles, settings);
  let canceledOrders = 0;
  if (lost.accessRole) {
    ({ canceledOrders } = await executorFor(deps.env, community.id).memberStopped({
      communityId: community.id,
      userId: member.userId,
      cause: "access_role_lost",
    }));
    const canceled = canceledOrders > 0 ? ` ${canceledOrders} order(s) not yet sent were canceled.` : "";
    await notifyMember(deps, {
      userId: member.userId,
      communityId: community.id,
      event: `access_role_lost:${change.key}`,
      message: `⏸️ You no longer hold the role that copy trading in ${community.name} needs, so signals are not copied to your account.${canceled} Open positions and their stops stay as they are. ${accessRoleMessage({ guildId: community.guildId, ...settings })}`,
    });
  }

  let webhookRevoked = false;
  const stillProvider = isProvider(
    {
      discordRoles: change.roles,
      permissions: change.permissions ?? "0",
      role: member.role,
      namedProvider: member.namedProvider,
    },
    settings,
  );
  if (lost.providerRole && !stillProvider) {
    const webhook = await tenant.signalWebhooks.activeFor(member.userId);
    webhookRevoked = webhook
      ? await tenant.signalWebhooks.revoke(webhook.id, null, "the provider lost the provider role")
      : false;
    await notifyMember(deps, {
      userId: member.userId,
      communityId: community.id,
      event: `provider_role_lost:${change.key}`,
      message: `You no longer hold a provider role in ${community.name}, so you are no longer a signal provider there: your signals are not copied${webhookRevoked ? " and your signal webhook was revoked" : ""}.`,
    });
  }
  const outcome = {
    outcome: "recorded" as const,
    accessRoleLost: lost.accessRole,
    providerRoleLost: lost.providerRole && !stillProvider,
    canceledOrders,
    webhookRevoked,
  };
  if (lost.accessRole || lost.providerRole)
    logger.info("member.roles_lost", { communityId: community.id, userId: member.userId, ...outcome });
  return outcome;
}
