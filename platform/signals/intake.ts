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
  /** The interaction id (/signal), the message id (a channel message), or the webhook's key for the event. */
  sourceId: string;
  /** When the source says it was sent, in ms (a snowflake's time, a webhook's timestamp). */
  sourceTimestamp: number;
  channelId: string | null;
  /** The interaction whose deferred reply the executor may follow up, if any. */
  interaction?: { applicationId: string; token: string } | null;
  /**
   * For doors that retry their own hand-off (the Gateway's inbox): a signal
   * already stored that the executor never decided (still `received`) is
   * handed over again, where the executor drops or continues it by its source
   * id; and a failed hand-off leaves it `received` for that retry instead of
   * marking it failed.
   */
  resumeUndecided?: boolean;
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
  if (!created && !(intake.resumeUndecided && row.status === "received")) {
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
    if (!intake.resumeUndecided) await tenant.signals.markFailed(row.id, `handoff: ${outcome.reason}`);
    return { kind: "handoff_failed", signal: row, reason: outcome.reason };
  }
  return { kind: "submitted", signal: row, summary: outcome.summary };
}
