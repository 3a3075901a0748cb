import { executorFor } from "../../platform/objects";
import type { Logger } from "../../shared/logging";
import { forEachCommunity } from "./each-community";

/**
 * The daily digest of skipped copies: each community's executor sends its members who chose the digest
 * (`/risk notify skips:digest`) one direct message for each past day with copies not made.
 */
export async function runSkipDigests(env: Env, logger: Logger, _scheduledTime: number) {
  const totals = { communities: 0, digests: 0, failed: 0 };
  const reached = await forEachCommunity(env, async (communityId) => {
    totals.communities++;
    try {
      const { sent } = await executorFor(env, communityId).sendSkipDigests({ communityId });
      totals.digests += sent;
    } catch (error) {
      totals.failed++;
      logger.error("skip_digest.failed", { communityId, error });
    }
  });
  if (!reached.complete) logger.error("skip_digest.incomplete", { alert: true, ...totals, ...reached });
  return { ...totals, complete: reached.complete };
}
