import { clause, executorAnswer, executorFailure, type HandoffOutcome } from "../../platform/execution/executor-answer";
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

export type KillSwitchOutcome = { ok: true; canceledOrders: number | null } | { ok: false; reason: string };

/** Attempts at telling the executor (halt and resume are idempotent), and the pauses between them. */
const KILL_SWITCH_RETRY_DELAYS_MS = [100, 400] as const;

/**
 * Tells the executor about the kill switch: on halt it stops fan-outs under
 * way and cancels orders not yet sent. Retried (the calls are idempotent);
 * the switch saved in D1 holds whatever this answers, because the executor
 * reads it before every fan-out step and every send.
 */
export async function setExecutorHalted(
  env: Env,
  input: { communityId: string; halted: boolean; reason: string | null; actorId: string | null },
): Promise<KillSwitchOutcome> {
  let lastError: unknown;
  for (let attempt = 0; attempt <= KILL_SWITCH_RETRY_DELAYS_MS.length; attempt++) {
    if (attempt > 0) await sleep(KILL_SWITCH_RETRY_DELAYS_MS[attempt - 1] ?? 0);
    try {
      const executor = executorFor(env, input.communityId);
      if (input.halted) {
        const result = await executor.halt({
          communityId: input.communityId,
          reason: input.reason,
          actorId: input.actorId,
        });
        return { ok: true, canceledOrders: typeof result?.canceledOrders === "number" ? result.canceledOrders : null };
      }
      await executor.resume({ communityId: input.communityId, actorId: input.actorId });
      return { ok: true, canceledOrders: null };
    } catch (error) {
      lastError = error;
      if ((error as { overloaded?: unknown })?.overloaded === true) break; // retrying an overloaded object adds load
    }
  }
  return {
    ok: false,
    reason: clause(lastError instanceof Error ? lastError.message : String(lastError)) || "the executor failed",
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
