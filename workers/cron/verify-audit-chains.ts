import { database } from "../../platform/db/client";
import { communityDirectory } from "../../platform/db/cross-community/community-directory";
import { executorFor } from "../../platform/objects";
import type { Logger } from "../../shared/logging";

/** Community ids read per D1 query. */
const PAGE_SIZE = 200;
/** Chains verified at once: each is one executor call that reads and hashes that community's log. */
const PARALLEL_COMMUNITIES = 10;
/** A cron invocation may run 15 minutes; stop starting new checks well before, and say so. */
const TIME_BUDGET_MS = 10 * 60_000;

/**
 * The daily audit check: fans out to each community's executor, which verifies that community's hash chain. A
 * broken chain is an alert (an error-level log with `alert: true`, which also reaches the error tracker), so
 * tampering is found the next morning instead of when someone asks `?verify=1`.
 */
export async function runAuditChainVerification(env: Env, logger: Logger, _scheduledTime: number) {
  const directory = communityDirectory(database(env.DB));
  const started = Date.now();
  const totals = { communities: 0, verified: 0, broken: 0, failed: 0 };
  let afterId = "";
  for (;;) {
    const ids = await directory.idsAfter(afterId, PAGE_SIZE);
    if (ids.length === 0) break;
    for (let i = 0; i < ids.length; i += PARALLEL_COMMUNITIES) {
      if (Date.now() - started > TIME_BUDGET_MS) {
        logger.error("audit.verification_incomplete", { alert: true, ...totals, stoppedAfter: afterId });
        return { ...totals, complete: false };
      }
      const batch = ids.slice(i, i + PARALLEL_COMMUNITIES);
      await Promise.all(batch.map((communityId) => verifyOne(env, logger, communityId, totals)));
      afterId = batch.at(-1) ?? afterId;
    }
  }
  return { ...totals, complete: true };
}

async function verifyOne(
  env: Env,
  logger: Logger,
  communityId: string,
  totals: { communities: number; verified: number; broken: number; failed: number },
): Promise<void> {
  totals.communities++;
  try {
    const executor = executorFor(env, communityId);
    const result = await executor.verifyAuditChain({ communityId });
    if (result.ok) {
      totals.verified++;
      return;
    }
    totals.broken++;
    logger.error("audit.chain_broken", { alert: true, communityId, count: result.count, brokenAt: result.brokenAt });
  } catch (error) {
    totals.failed++;
    logger.error("audit.verification_failed", { communityId, error });
  }
}
