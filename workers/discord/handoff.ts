import { z } from "zod";
import { executorFor } from "../../platform/objects";
import type { ManualTradeInput, SubmitSignalInput } from "../../shared/execution/submit";

/**
 * The one place the Discord side hands work to the community's executor
 * (CommunityExecutor, one object per community). Whatever the executor
 * answers, or fails with, comes back as a value the follow-up can show; a
 * failure is never reported as success.
 */

const SummarySchema = z.looseObject({
  status: z.enum(["accepted", "expired", "refused", "duplicate"]),
  message: z.string(),
  code: z.string().optional(),
});
type ExecutorSummary = z.infer<typeof SummarySchema>;

export type HandoffOutcome = { ok: true; summary: ExecutorSummary } | { ok: false; reason: string };

/** The reason as a clause (no trailing period), ready to be embedded in a reply. */
function clause(text: string): string {
  return text.trim().replace(/[.\s]+$/, "");
}

function failure(error: unknown): HandoffOutcome {
  const message = clause(error instanceof Error ? error.message : String(error));
  return { ok: false, reason: message || "the executor failed without a message" };
}

function checked(answer: unknown): HandoffOutcome {
  const parsed = SummarySchema.safeParse(answer);
  return parsed.success
    ? { ok: true, summary: parsed.data }
    : { ok: false, reason: "the executor answered without a status and message" };
}

/** Hands a stored signal to its community's executor: `submitSignal` (docs/architecture.md §7). */
export async function submitSignal(env: Env, input: SubmitSignalInput): Promise<HandoffOutcome> {
  try {
    return checked(await executorFor(env, input.communityId).submitSignal(input));
  } catch (error) {
    return failure(error);
  }
}

/**
 * Hands a confirmed /trade to the executor's `submitManualTrade`: one order
 * for the member's own account. Not `submitSignal`, which would fan the
 * member's order out to their followers instead.
 */
export async function submitManualTrade(env: Env, input: ManualTradeInput): Promise<HandoffOutcome> {
  try {
    return checked(await executorFor(env, input.communityId).submitManualTrade(input));
  } catch (error) {
    return failure(error);
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
    const failed = failure(error);
    return { ok: false, reason: failed.ok ? "" : failed.reason };
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
