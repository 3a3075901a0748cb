import type { GuildRolesChange } from "../../shared/gateway/guild-roles";
import type { Logger } from "../../shared/logging";
import { database } from "../db/client";
import { communityDirectory } from "../db/cross-community/community-directory";

/**
 * Whether the bot is in a registered community's server, from the Gateway's
 * guild events: GUILD_DELETE (not an outage) means it left or was removed,
 * GUILD_CREATE (after every READY, and on a re-invite) that it is there. The
 * community keeps its settings, the access role included, for 30 days after
 * the bot left (the housekeeping cron then lets the access role go), so a
 * re-invite within them finds everything as it was.
 */
export async function botPresenceChanged(env: Env, change: GuildRolesChange, logger: Logger): Promise<void> {
  if (change.kind !== "guild" && change.kind !== "guild_removed") return;
  const present = change.kind === "guild";
  const changed = await communityDirectory(database(env.DB)).markBotPresence(change.guildId, present);
  if (changed) logger.info(present ? "community.bot_returned" : "community.bot_left", { guildId: change.guildId });
}
