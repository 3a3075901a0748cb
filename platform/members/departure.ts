import type { Logger } from "../../shared/logging";
import { database } from "../db/client";
import { communityDirectory } from "../db/cross-community/community-directory";
import { forCommunity } from "../db/tenant/for-community";
import { type NotifyDeps, notifyMember } from "../notifications/notify-member";
import { executorFor } from "../objects";

export type DepartureOutcome =
  | { outcome: "ignored"; reason: "guild_not_registered" | "not_a_member" }
  | {
      outcome: "stopped";
      followsPaused: number;
      canceledOrders: number;
      unnamed: boolean;
      providerGrantTaken: boolean;
      webhookRevoked: boolean;
    };

/**
 * A member left the server (GUILD_MEMBER_REMOVE: left, kicked or banned):
 * they stop trading here. Their follows are paused (audited as
 * `member.departed`), their entries not yet sent are canceled by the
 * executor, and provider rights the community gave them (a name, a stored
 * provider grant) are taken back and their signal webhook is revoked, so no
 * door takes their signals. Positions and their exits stay: the account is the
 * member's. Running it twice changes nothing the second time. Role changes
 * (the access role, provider roles) are `role-changes.ts`.
 */
export async function memberLeftGuild(
  deps: NotifyDeps,
  departure: { guildId: string; discordUserId: string; key: string },
  logger: Logger,
): Promise<DepartureOutcome> {
  const { env } = deps;
  const db = database(env.DB);
  const community = await communityDirectory(db).findByGuildId(departure.guildId);
  if (!community) return { outcome: "ignored", reason: "guild_not_registered" };
  const tenant = forCommunity(db, community.id);
  const member = await tenant.providers.memberByDiscordId(departure.discordUserId);
  if (!member) return { outcome: "ignored", reason: "not_a_member" };

  const followsPaused = await tenant.follows.pauseAllOf(member.userId);
  const { canceledOrders } = await executorFor(env, community.id).memberStopped({
    communityId: community.id,
    userId: member.userId,
    cause: "member_left",
  });
  // Roles they held here are gone with them: an access role is checked against what is recorded.
  if (member.role !== null) await tenant.memberships.recordDiscordRoles(member.userId, []);
  const unnamed = member.namedProvider ? await tenant.providers.unname(member.userId, null) : false;
  const providerGrantTaken = member.role === "provider";
  if (providerGrantTaken) await tenant.memberships.upsert(member.userId, "trader");
  const webhook = await tenant.signalWebhooks.activeFor(member.userId);
  const webhookRevoked = webhook
    ? await tenant.signalWebhooks.revoke(webhook.id, null, "the provider left the server")
    : false;

  logger.info("member.departed", {
    communityId: community.id,
    userId: member.userId,
    followsPaused,
    canceledOrders,
    unnamed,
    providerGrantTaken,
    webhookRevoked,
  });
  if (followsPaused > 0 || canceledOrders > 0) {
    const canceled = canceledOrders > 0 ? ` ${canceledOrders} order(s) not yet sent were canceled.` : "";
    await notifyMember(deps, {
      userId: member.userId,
      communityId: community.id,
      event: `departed:${departure.key}`,
      message: `You left ${community.name}, so copy trading there is paused: no new signal is copied to your account.${canceled} Open positions and their stops stay as they are. If you come back, turn a follow on again with /follow.`,
    });
  }
  return { outcome: "stopped", followsPaused, canceledOrders, unnamed, providerGrantTaken, webhookRevoked };
}
