import { executorAnswer, executorFailure, type HandoffOutcome } from "../../platform/execution/executor-answer";
import { executorFor } from "../../platform/objects";
import type { MemberCloseInput, MemberCloseOutcome } from "../../shared/execution/member-close";
import type { ManualTradeInput } from "../../shared/execution/submit";
import { type TradePreview, TradePreviewSchema } from "../../shared/execution/trade-preview";

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

/** /trade before Confirm: what the executor would place now, or why not (a failure to ask is a refusal in words). */
export async function previewTrade(env: Env, input: ManualTradeInput): Promise<TradePreview> {
  try {
    const parsed = TradePreviewSchema.safeParse(await executorFor(env, input.communityId).previewTrade(input));
    return parsed.success
      ? parsed.data
      : { status: "refused", code: "EXECUTOR_UNAVAILABLE", message: "the executor answered without a preview" };
  } catch (error) {
    return { status: "refused", code: "EXECUTOR_UNAVAILABLE", message: executorFailure(error).reason };
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

/** /close: the executor closes the member's positions (a failure to ask comes back as its reason, never as done). */
export async function closePositions(
  env: Env,
  input: MemberCloseInput,
): Promise<{ ok: true; outcome: MemberCloseOutcome } | { ok: false; reason: string }> {
  try {
    return { ok: true, outcome: await executorFor(env, input.communityId).closePositions(input) };
  } catch (error) {
    return executorFailure(error);
  }
}
