import { like } from "drizzle-orm";
import { signalWebhooks } from "../../../shared/db/schema";
import type { Database } from "../client";

/**
 * Communities still holding a signal webhook secret sealed directly under the master key (`v1.…`, from before the
 * credential vault): the daily rotation job moves them to the community's data key, so a retired master key is
 * needed by nothing once the data keys are re-wrapped. Crosses communities because finding them is the point.
 */
export async function communitiesWithMasterSealedSecrets(db: Database, limit: number): Promise<string[]> {
  const rows = await db
    .selectDistinct({ communityId: signalWebhooks.communityId })
    .from(signalWebhooks)
    .where(like(signalWebhooks.sealedSecret, "v1.%"))
    .limit(limit)
    .all();
  return rows.map((row) => row.communityId);
}
