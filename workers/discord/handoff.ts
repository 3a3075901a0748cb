import { executorAnswer, executorFailure, type HandoffOutcome } from "../../platform/execution/executor-answer";
import { executorFor } from "../../platform/objects";
import type { ManualTradeInput } from "../../shared/execution/submit";

/**
 * Where the Discord commands hand work to the community's executor
 * (CommunityExecutor, one object per community) other than a signal, which
 * takes the one intake path of every source (`platform/signals/intake.ts`).
 * Whatever the executor answers, or fails with, comes back as a value the
 * follow-up can show; a failure is never reported as success.
 */

/**
 * Hands a confirmed /trade to the executor's `submitManualTrade`: one order
 * for the member's own account. Not `submitSignal`, which would fan the
 * member's order out to their followers instead.
 */
export async function submitManualTrade(env: Env, input: ManualTradeInput): Promise<HandoffOutcome> {
  try {
    return executorAnswer(await executorFor(env, input.communityId).submitManualTrade(input));
  } catch (error) {
    return executorFailure(error);
  }
}

export type UnlockOutcome = { ok: true; unlocked: boolean; message: string } | { ok: false; reason: string };

/** /risk unlock: the executor lifts the circuit breaker's lock (the caller checked the actor may). */
export async function unlockAccount(
  env: Env,
  input: { communityId: string; userId: string; actorId: string },
): Promise<UnlockOutcome> {
  try {
    const answer = await executorFor(env, input.communityId).unlockAccount(input);
    return { ok: true, unlocked: answer.unlocked, message: answer.message };
  } catch (error) {
    return executorFailure(error);
  }
}

/** What holds a member's new entries (the lock, the day's pause), or null when the executor cannot be asked. */
export async function tradingHold(env: Env, input: { communityId: string; userId: string }) {
  try {
    return await executorFor(env, input.communityId).tradingHold(input);
  } catch {
    return null;
  }
}
