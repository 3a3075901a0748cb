import { executorFor } from "../../platform/objects";
import type { Logger } from "../../shared/logging";
import { forEachCommunity } from "./each-community";

/**
 * The daily audit check: fans out to each community's executor, which verifies that community's hash chain. A
 * broken chain is an alert (an error-level log with `alert: true`, which also reaches the error tracker), so
 * tampering is found the next morning instead of when someone asks `?verify=1`.
 */
export async function runAuditChainVerification(env: Env, logger: Logger, _scheduledTime: number) {
  const totals = { communities: 0, verified: 0, broken: 0, failed: 0 };
  const reached = await forEachCommunity(env, (communityId) => verifyOne(env, logger, communityId, totals));
  if (!reached.complete) {
    logger.error("audit.verification_incomplete", { alert: true, ...totals, stoppedAfter: reached.stoppedAfter });
    return { ...totals, complete: false };
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
