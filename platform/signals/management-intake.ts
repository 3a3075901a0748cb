import type { ManagementOutcome } from "../../shared/execution/trade-management";
import type { Logger } from "../../shared/logging";
import type { TradeManagement } from "../../shared/signals/management";
import type { TenantRepository } from "../db/tenant/for-community";
import { executorFor } from "../objects";

/**
 * A provider's trade-management message, from any door (openspec/specs/trade-management): a channel message, a
 * `/signal` text, a provider webhook. A reply manages the signal it replies to (checked here: the reply must be
 * to a signal of this provider); anything else names a symbol, and the community's executor finds the
 * provider's one open trade on it (`manageTrades` with no signal). The executor answers a repeat (the same
 * source id, or a webhook's double post) before it looks any trade up. Nothing is guessed.
 */

export interface ManagementMessage {
  providerUserId: string;
  /** The message id, interaction id or webhook source id: the idempotency key. */
  messageId: string;
  postedAt: number;
  /** The message it replies to (Discord's `message_reference`), if any. */
  repliesTo: string | null;
  /** A webhook body without a time: `<webhook id>:<digest of the body>`, for the double-post window. */
  doublePostKey?: string | null;
  management: TradeManagement;
}

export type ManagementIntakeResult =
  | { kind: "managed"; signalId: string | null; outcome: Extract<ManagementOutcome, { ok: true }> }
  | { kind: "refused"; signalId: string | null; code: string; message: string };

export async function takeManagement(
  env: Env,
  tenant: TenantRepository,
  message: ManagementMessage,
  logger: Logger,
): Promise<ManagementIntakeResult> {
  const target = message.repliesTo !== null ? await repliedSignal(tenant, message) : { signalId: null };
  if ("code" in target) return { kind: "refused", signalId: null, ...target };
  const outcome = await executorFor(env, tenant.communityId).manageTrades({
    communityId: tenant.communityId,
    providerUserId: message.providerUserId,
    sourceId: message.messageId,
    sourceTimestamp: message.postedAt,
    signalId: target.signalId,
    doublePostKey: message.doublePostKey ?? null,
    management: message.management,
  });
  const signalId = outcome.ok ? outcome.signalId : target.signalId;
  logger.info("signal.management_taken", { signalId, ok: outcome.ok, duplicate: outcome.ok && outcome.duplicate });
  return outcome.ok
    ? { kind: "managed", signalId, outcome }
    : { kind: "refused", signalId, code: outcome.code, message: outcome.message };
}

/** The signal a reply manages: a signal of this provider's, or a refusal with the reason. */
async function repliedSignal(
  tenant: TenantRepository,
  message: ManagementMessage,
): Promise<{ signalId: string } | { code: string; message: string }> {
  const replied = await tenant.signals.latestOfMessage(message.repliesTo ?? "");
  if (!replied) {
    return {
      code: "NO_OPEN_TRADE",
      message: "The message this replies to is not a signal I executed, so there is no trade to manage.",
    };
  }
  if (replied.providerUserId !== message.providerUserId) {
    return {
      code: "NOT_YOUR_SIGNAL",
      message: "This replies to another provider's signal: only its own provider manages its trades.",
    };
  }
  return { signalId: replied.id };
}
