import { database } from "../../platform/db/client";
import {
  communitiesToReconcile,
  finishReconciliationRun,
  startReconciliationRun,
} from "../../platform/db/cross-community/reconciliation";
import { executorFor } from "../../platform/objects";
import type { Logger } from "../../shared/logging";
import { LATE_FILL_WINDOW_MS, QUEUED_WITHOUT_MESSAGE_MS } from "../../shared/orders/timing";

/** Communities reconciled at once: each is one executor call, which polls its own orders. */
const PARALLEL_COMMUNITIES = 10;

/**
 * The 5-minute reconciliation: fans out to each community's executor (the
 * only writer of its orders) and writes one report row for the run. Two runs
 * overlapping are safe: every order change is a conditional transition.
 */
export async function runReconciliation(env: Env, logger: Logger, scheduledTime: number) {
  const db = database(env.DB);
  const runId = await startReconciliationRun(db, scheduledTime);
  const communities = await communitiesToReconcile(db, {
    lateFillSince: scheduledTime - LATE_FILL_WINDOW_MS,
    queuedBefore: scheduledTime - QUEUED_WITHOUT_MESSAGE_MS,
  });
  const totals = { checked: 0, updated: 0, stale: 0, adopted: 0, errors: 0 };
  let resent = 0;
  const unknownPositions: unknown[] = [];
  const failedCommunities: string[] = [];
  for (let i = 0; i < communities.length; i += PARALLEL_COMMUNITIES) {
    await Promise.all(
      communities.slice(i, i + PARALLEL_COMMUNITIES).map(async (communityId) => {
        try {
          const executor = executorFor(env, communityId);
          const report = await executor.reconcile({ communityId });
          totals.checked += report.checked;
          totals.updated += report.updated;
          totals.stale += report.stale;
          totals.adopted += report.adopted;
          totals.errors += report.errors;
          resent += report.resent;
          unknownPositions.push(...report.unknownPositions.map((p) => ({ communityId, ...p })));
        } catch (error) {
          totals.errors += 1;
          failedCommunities.push(communityId);
          logger.error("reconcile.community_failed", { communityId, error });
        }
      }),
    );
  }
  await finishReconciliationRun(db, runId, {
    ...totals,
    details: { communities: communities.length, unknownPositions, failedCommunities, resent },
  });
  return { runId, communities: communities.length, ...totals, resent, unknownPositions: unknownPositions.length };
}
