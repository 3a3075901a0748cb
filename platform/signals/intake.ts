import type { SignalSource } from "../../shared/db/schema";
import type { Logger } from "../../shared/logging";
import type { NormalizedSignal } from "../../shared/signals/schema";
import type { TenantRepository } from "../db/tenant/for-community";
import type { SignalRow } from "../db/tenant/signals";
import { type ExecutorSummary, submitSignal } from "../execution/executor-handoff";

/**
 * The path every parsed signal takes, whatever its source (`/signal`, "Execute as signal", a signal webhook):
 * stored once per source id, then handed to the community's executor (`CommunityExecutor.submitSignal`), which
 * drops redeliveries and double posts, expires old signals and fans out. A hand-off that fails marks the stored
 * signal failed and says why; it is never reported as accepted.
 */

export interface SignalIntake {
  communityId: string;
  providerUserId: string;
  signal: NormalizedSignal;
  rawText: string | null;
  source: SignalSource;
  /** What makes a redelivery recognisable: an interaction or message id, a webhook body's digest. */
  sourceId: string;
  /** When the source says the signal was sent, in ms. */
  sourceTimestamp: number;
  channelId: string | null;
  /** The Discord interaction whose reply the executor's follow-ups edit, if any. */
  interaction?: { applicationId: string; token: string } | null;
}

export type SignalIntakeOutcome =
  /** The source id was stored before and (redelivery "report") nothing was handed on again. */
  | { kind: "redelivered"; signal: SignalRow }
  | { kind: "handed_off"; signal: SignalRow; summary: ExecutorSummary; redelivered: boolean }
  | { kind: "handoff_failed"; signal: SignalRow; reason: string };

export interface IntakeOptions {
  /**
   * What a source id already stored gets: `report` (the Discord commands: the first answer stands) or `resubmit`
   * (webhooks: the executor decides, so a retry after a failed hand-off still executes once, and a retry of a
   * fan-out that stopped part way continues it).
   */
  redelivery: "report" | "resubmit";
}

export async function storeAndSubmitSignal(
  deps: { env: Pick<Env, "COMMUNITY_EXECUTOR">; tenant: TenantRepository; logger: Logger },
  intake: SignalIntake,
  options: IntakeOptions = { redelivery: "report" },
): Promise<SignalIntakeOutcome> {
  const { env, tenant, logger } = deps;
  const { signal: row, created } = await tenant.signals.store({
    providerUserId: intake.providerUserId,
    source: intake.source,
    sourceId: intake.sourceId,
    sourceTimestamp: intake.sourceTimestamp,
    channelId: intake.channelId,
    rawText: intake.rawText,
    normalized: intake.signal,
  });
  if (!created) {
    logger.info("signal.redelivered", { signalId: row.id, sourceId: intake.sourceId });
    if (options.redelivery === "report") return { kind: "redelivered", signal: row };
  } else {
    logger.info("signal.stored", { signalId: row.id, source: intake.source });
  }
  const outcome = await submitSignal(env, {
    signalId: row.id,
    communityId: intake.communityId,
    providerUserId: row.providerUserId,
    signal: row.normalized,
    source: row.source,
    sourceId: row.sourceId,
    sourceTimestamp: row.sourceTimestamp,
    channelId: row.channelId,
    interaction: intake.interaction ?? null,
  });
  if (!outcome.ok) {
    logger.error("signal.handoff_failed", { signalId: row.id, reason: outcome.reason });
    await tenant.signals.markFailed(row.id, `handoff: ${outcome.reason}`);
    return { kind: "handoff_failed", signal: row, reason: outcome.reason };
  }
  return { kind: "handed_off", signal: row, summary: outcome.summary, redelivered: !created };
}
