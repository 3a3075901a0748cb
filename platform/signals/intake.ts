import type { SignalSource } from "../../shared/db/schema";
import type { Logger } from "../../shared/logging";
import type { NormalizedSignal } from "../../shared/signals/schema";
import type { TenantRepository } from "../db/tenant/for-community";
import type { SignalRow } from "../db/tenant/signals";
import { type ExecutorSummary, executorAnswer, executorFailure } from "../execution/executor-answer";
import { executorFor } from "../objects";

/**
 * The one path every signal takes once a door has checked its provider and
 * read it (the `/signal` command, "Execute as signal", a channel message read
 * from the Gateway, a provider webhook): store it once per source id, then
 * hand it to the community's executor (`submitSignal`, docs/architecture.md §7). The
 * source id is the idempotency key across doors: a message executed with the
 * message command and read from the Gateway is one signal.
 */

export interface SignalIntake {
  providerUserId: string;
  signal: NormalizedSignal;
  rawText: string | null;
  source: SignalSource;
  /**
   * The interaction id (/signal), the message id (a channel message), or for a
   * webhook `webhook:<webhook id>:<the body's digest>` (a new id for a body without a time).
   */
  sourceId: string;
  /** When the source says it was sent, in ms (a snowflake's time, a webhook body's `time` or its receipt). */
  sourceTimestamp: number;
  channelId: string | null;
  /** The interaction whose deferred reply the executor may follow up, if any. */
  interaction?: { applicationId: string; token: string } | null;
  /**
   * Who tries again when a hand-off fails or its answer is lost, and so what a
   * source id stored before gets (the executor drops or continues a source id
   * it has seen; docs/architecture.md §7):
   * - `nobody` (the default; the commands): the first answer stands, a stored
   *   source id is reported and not handed on, a failed hand-off marks the
   *   signal failed.
   * - `door` (the Gateway's inbox retries its own hand-off): a stored signal
   *   the executor never decided (still `received`) is handed over again, and
   *   a failed hand-off leaves it `received` for that retry.
   * - `sender` (a webhook's sender posts the same alert again): a stored
   *   signal is always handed over again, so the executor answers the retry
   *   (`duplicate` for one it decided, the rest of a fan-out that stopped part
   *   way, the execution of one whose hand-off failed); a failed hand-off
   *   marks the signal failed, since nothing here promises a retry.
   */
  retriedBy?: "nobody" | "door" | "sender";
}

export type SignalIntakeResult =
  /** Handed to the executor, which answered this summary. */
  | { kind: "submitted"; signal: SignalRow; summary: ExecutorSummary }
  /** The source id was stored before: nothing new was stored or handed on. */
  | { kind: "already_received"; signal: SignalRow }
  /** Stored, but the executor could not be reached or failed: marked failed with the reason (unless retried). */
  | { kind: "handoff_failed"; signal: SignalRow; reason: string };

export async function intakeSignal(
  env: Env,
  tenant: TenantRepository,
  intake: SignalIntake,
  logger: Logger,
): Promise<SignalIntakeResult> {
  const { signal: row, created } = await tenant.signals.store({
    providerUserId: intake.providerUserId,
    source: intake.source,
    sourceId: intake.sourceId,
    sourceTimestamp: intake.sourceTimestamp,
    channelId: intake.channelId,
    rawText: intake.rawText,
    normalized: intake.signal,
  });
  const retriedBy = intake.retriedBy ?? "nobody";
  if (!created && !handsOverAgain(retriedBy, row)) {
    logger.info("signal.redelivered", { signalId: row.id, sourceId: intake.sourceId });
    return { kind: "already_received", signal: row };
  }
  logger.info(created ? "signal.stored" : "signal.handed_over_again", { signalId: row.id, source: intake.source });
  let outcome: ReturnType<typeof executorAnswer>;
  try {
    outcome = executorAnswer(
      await executorFor(env, tenant.communityId).submitSignal({
        signalId: row.id,
        communityId: tenant.communityId,
        providerUserId: intake.providerUserId,
        signal: intake.signal,
        source: intake.source,
        sourceId: intake.sourceId,
        sourceTimestamp: intake.sourceTimestamp,
        channelId: intake.channelId,
        interaction: intake.interaction ?? null,
      }),
    );
  } catch (error) {
    outcome = executorFailure(error);
  }
  if (!outcome.ok) {
    logger.error("signal.handoff_failed", { signalId: row.id, reason: outcome.reason });
    if (retriedBy !== "door") await tenant.signals.markFailed(row.id, `handoff: ${outcome.reason}`);
    return { kind: "handoff_failed", signal: row, reason: outcome.reason };
  }
  return { kind: "submitted", signal: row, summary: outcome.summary };
}

function handsOverAgain(retriedBy: NonNullable<SignalIntake["retriedBy"]>, stored: SignalRow): boolean {
  if (retriedBy === "sender") return true;
  return retriedBy === "door" && stored.status === "received";
}
