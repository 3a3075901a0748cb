import { sleep } from "../../shared/timeout";
import type { TenantRepository } from "../db/tenant/for-community";
import { executorFor } from "../objects";
import { clause } from "./executor-answer";

/**
 * The kill switch, for every door that flips it (/killswitch, the API): the flag
 * saved in D1 is the switch, read by the executor before every fan-out step and
 * every order it sends, so once saved a halt holds even if the executor cannot
 * be told. Then the executor is told, which stops fan-outs under way at once and
 * cancels orders not yet sent.
 */

export interface KillSwitchChange {
  halted: boolean;
  reason: string | null;
  actorId: string | null;
}

/** Pauses between attempts at saving the switch in D1 (three attempts in all). */
const SAVE_RETRY_DELAYS_MS = [200, 800] as const;

export type SaveOutcome = { ok: true; changed: boolean } | { ok: false; error: unknown };

/** Saves the switch in D1 (audited), retrying a failed write; setHalted is idempotent. */
export async function saveKillSwitch(tenant: TenantRepository, change: KillSwitchChange): Promise<SaveOutcome> {
  let lastError: unknown;
  for (let attempt = 0; attempt <= SAVE_RETRY_DELAYS_MS.length; attempt++) {
    if (attempt > 0) await sleep(SAVE_RETRY_DELAYS_MS[attempt - 1] ?? 0);
    try {
      return {
        ok: true,
        changed: await tenant.community.setHalted(change.halted, { actorId: change.actorId, reason: change.reason }),
      };
    } catch (error) {
      lastError = error;
    }
  }
  return { ok: false, error: lastError };
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
export async function tellExecutor(
  env: Env,
  input: KillSwitchChange & { communityId: string },
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
