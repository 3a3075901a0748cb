import { database } from "../../platform/db/client";
import { communityDirectory } from "../../platform/db/cross-community/community-directory";

/** Community ids read per D1 query. */
const PAGE_SIZE = 200;
/** Communities worked on at once: each is one call to that community's executor. */
const PARALLEL_COMMUNITIES = 10;
/** A cron invocation may run 15 minutes; stop starting new work well before, and say so. */
const TIME_BUDGET_MS = 10 * 60_000;

/**
 * A daily job's fan-out: every community, page by page, ten at a time, each handed to `one` (which catches its own
 * failures). Returns whether every community was reached within the time budget, and the last one reached if not.
 */
export async function forEachCommunity(
  env: Env,
  one: (communityId: string) => Promise<void>,
): Promise<{ complete: true } | { complete: false; stoppedAfter: string }> {
  const directory = communityDirectory(database(env.DB));
  const started = Date.now();
  let afterId = "";
  for (;;) {
    const ids = await directory.idsAfter(afterId, PAGE_SIZE);
    if (ids.length === 0) return { complete: true };
    for (let i = 0; i < ids.length; i += PARALLEL_COMMUNITIES) {
      if (Date.now() - started > TIME_BUDGET_MS) return { complete: false, stoppedAfter: afterId };
      const batch = ids.slice(i, i + PARALLEL_COMMUNITIES);
      await Promise.all(batch.map(one));
      afterId = batch.at(-1) ?? afterId;
    }
  }
}
