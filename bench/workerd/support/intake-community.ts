import { env } from "cloudflare:workers";
import type { Database } from "../../../platform/db/client";
import type { TenantRepository } from "../../../platform/db/tenant/for-community";
import { upsertUser } from "../../../platform/db/users";
import { snowflake } from "../../../tests/support/discord";

/**
 * An intake bench's community takes every signal and places every copy: the enterprise plan (10,000 signals a day,
 * so the quota never refuses one) and limits with room for every signal a follower gets (up to 50, each its own
 * position), so no copy is skipped and the run measures the path that places orders.
 */
export async function roomForEveryCopy(communityId: string): Promise<void> {
  await env.DB.prepare(
    "update communities set tier = 'enterprise', settings = json_set(settings, '$.riskDefaults.maxOpenPositions', 100, '$.riskDefaults.maxOrdersPerDay', 1000) where id = ?",
  )
    .bind(communityId)
    .run();
}

/** `count` traders following the provider in auto mode, one share each. */
export async function autoFollowers(
  db: Database,
  tenant: TenantRepository,
  providerUserId: string,
  count: number,
  label: string,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const follower = await upsertUser(db, { discordId: snowflake(), username: `follower-${label}-${i}` });
    await tenant.memberships.upsert(follower.id, "trader");
    await tenant.follows.upsert({
      followerUserId: follower.id,
      providerUserId,
      sizingMode: "fixed_quantity",
      amount: 1,
      mode: "auto",
    });
  }
}
