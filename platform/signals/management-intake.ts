import type { ManagementOutcome } from "../../shared/execution/trade-management";
import type { Logger } from "../../shared/logging";
import type { TradeManagement } from "../../shared/signals/management";
import type { TenantRepository } from "../db/tenant/for-community";
import { executorFor } from "../objects";

/**
 * A provider's trade-management message (openspec/specs/trade-management):
 * the signal it manages is the one its message replies to, or else the
 * provider's newest accepted entry on the symbol it names; the community's
 * executor then acts on that signal's trades (`manageTrades`). Nothing is
 * guessed: a message that names no signal of its provider is refused here.
 */

export interface ManagementMessage {
  providerUserId: string;
  /** The message id: the idempotency key. */
  messageId: string;
  postedAt: number;
  /** The message it replies to (Discord's `message_reference`), if any. */
  repliesTo: string | null;
  management: TradeManagement;
}

export type ManagementIntakeResult =
  | { kind: "managed"; signalId: string; outcome: Extract<ManagementOutcome, { ok: true }> }
  | { kind: "refused"; signalId: string | null; code: string; message: string };

export async function takeManagement(
  env: Env,
  tenant: TenantRepository,
  message: ManagementMessage,
  logger: Logger,
): Promise<ManagementIntakeResult> {
  const target = await managedSignal(tenant, message);
  if ("code" in target) return { kind: "refused", signalId: null, ...target };
  const outcome = await executorFor(env, tenant.communityId).manageTrades({
    communityId: tenant.communityId,
    providerUserId: message.providerUserId,
    sourceId: message.messageId,
    sourceTimestamp: message.postedAt,
    signalId: target.signalId,
    management: message.management,
  });
  // Another delivery of the same message is acting on it: the inbox hands it on again for its outcome.
  if (!outcome.ok && outcome.retryable) throw new Error(`management ${message.messageId}: ${outcome.message}`);
  logger.info("signal.management_taken", { signalId: target.signalId, ok: outcome.ok });
  return outcome.ok
    ? { kind: "managed", signalId: target.signalId, outcome }
    : { kind: "refused", signalId: target.signalId, code: outcome.code, message: outcome.message };
}

async function managedSignal(
  tenant: TenantRepository,
  message: ManagementMessage,
): Promise<{ signalId: string } | { code: string; message: string }> {
  if (message.repliesTo !== null) {
    const replied = await tenant.signals.latestOfMessage(message.repliesTo);
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
  const symbol = message.management.symbol;
  if (symbol === null) {
    return {
      code: "NO_OPEN_TRADE",
      message:
        'This names no trade: reply to the signal\'s message with it, or name the symbol (e.g. "move SL to 185 AAPL").',
    };
  }
  const latest = await tenant.signals.latestEntryOn(message.providerUserId, symbol);
  if (!latest) {
    return {
      code: "NO_OPEN_TRADE",
      message: `You have no executed ${symbol} signal here, so there is no trade to manage.`,
    };
  }
  return { signalId: latest.id };
}
