import { executorFor } from "../objects";
/**
 * Provider signals the community's executor has counted against the plan
 * today (UTC). The executor checks and counts each signal atomically before
 * it executes, so this is the only signals-per-day counter; members' own
 * `/trade` orders are not signals and are not in it.
 */
export async function signalsCountedToday(env: Env, communityId: string): Promise<number> {
  const executor = executorFor(env, communityId);
  return (await executor.signalUsage({ communityId })).signals;
}
