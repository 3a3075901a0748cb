import type { Logger } from "../../shared/logging";
import { ACCESS_SETTING_RETENTION_MS, accessSettingExpired } from "../../shared/membership/standing";
import { database } from "../db/client";
import { communityDirectory } from "../db/cross-community/community-directory";
import { forCommunity } from "../db/tenant/for-community";

/** Communities handled per housekeeping run; the rest wait for the next day's run. */
const PER_RUN = 100;

/**
 * The access role of a community whose bot left its server more than 30 days
 * ago is let go. Its follows are paused in the same audited batch
 * (`community.access_role_expired`), so a re-invite after that does not open
 * copy trading to members who never paid: the host sets `access_role:` again
 * and members turn their follows back on with /follow. Within the 30 days
 * nothing is touched, so a re-invite finds the setting as it was.
 */
export async function expireAccessRolesLeftBehind(env: Env, logger: Logger, now: number): Promise<number> {
  const db = database(env.DB);
  const ids = await communityDirectory(db).accessRolesLeftBehind(now - ACCESS_SETTING_RETENTION_MS, PER_RUN);
  let expired = 0;
  for (const communityId of ids) {
    const tenant = forCommunity(db, communityId);
    // Read again: the bot may have come back since the page was read.
    const community = await tenant.community.get();
    if (!community || !accessSettingExpired(community.botLeftAt, now)) continue;
    const before = await tenant.providers.discordSettings();
    await tenant.follows.pauseEveryone(
      "community.access_role_expired",
      { accessRoleId: before.accessRoleId, retentionDays: ACCESS_SETTING_RETENTION_MS / 86_400_000 },
      null,
    );
    await tenant.providers.changeDiscordSettings({ accessRole: null }, null);
    expired += 1;
    logger.info("community.access_role_expired", { communityId, accessRoleId: before.accessRoleId });
  }
  return expired;
}
