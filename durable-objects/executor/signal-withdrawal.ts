import type { TenantRepository } from "../../platform/db/tenant/for-community";
import {
  type WithdrawalOutcome,
  type WithdrawSignalInput,
  WithdrawSignalInputSchema,
} from "../../shared/execution/withdrawal";
import type { Logger } from "../../shared/logging";
import { utcDay } from "../../shared/risk/daily-loss";
import type { FanOutJournal } from "./fan-out-journal";
import type { ExecutorLocalState } from "./local-state";
import type { OrderFlows } from "./order-flows";
import type { ProviderBook } from "./provider-book";
import type { SignalFanOut } from "./signal-fan-out";

export interface WithdrawalParts {
  local: ExecutorLocalState;
  journal: FanOutJournal;
  fanOut: SignalFanOut;
  book: ProviderBook;
  logger: Logger;
  /** The sends under way in this object, and each canceled order's realtime event. */
  flows: Pick<OrderFlows, "sendsSettled" | "publishAll">;
  tenant(communityId: string): TenantRepository;
}

/**
 * Takes a signal back for its provider (an edit, design in the
 * discord-gateway spec), all or nothing: every order of it still queued is
 * canceled only if none ever left `queued` for a broker, decided in one D1
 * statement. While the withdrawal runs no order of the signal starts a send
 * (`Withdrawals.holds`, checked right before each send), and sends already
 * under way are waited out first, so an order cannot reach a broker after
 * its cancellation was written.
 */
export class Withdrawals {
  /** Signals being withdrawn, or withdrawn, since this object started: their orders are never sent. */
  private readonly held = new Set<string>();

  constructor(private readonly parts: WithdrawalParts) {}

  holds(signalId: string): boolean {
    return this.held.has(signalId);
  }

  async withdraw(raw: WithdrawSignalInput): Promise<WithdrawalOutcome> {
    const input = WithdrawSignalInputSchema.parse(raw);
    const ctx = this.parts;
    const tenant = ctx.tenant(input.communityId);
    const { signalId } = input;
    const refuse = (code: Extract<WithdrawalOutcome, { ok: false }>["code"], message: string, retryable = false) => {
      this.held.delete(signalId);
      return { ok: false as const, code, message, retryable };
    };
    // Synchronous until the first await: no send of this signal's orders starts from here on.
    const run = ctx.journal.get(signalId);
    if (ctx.fanOut.isActive(signalId) || run?.status === "pending" || run?.status === "running") {
      return { ok: false, code: "STILL_EXECUTING", message: "The signal is still being executed.", retryable: true };
    }
    if (ctx.book.revertible(signalId).state === "superseded") {
      return {
        ok: false,
        code: "SUPERSEDED",
        message: "A later signal of yours on the same instrument builds on it.",
        retryable: false,
      };
    }
    this.held.add(signalId);
    await ctx.flows.sendsSettled();

    const signal = await tenant.execution.getSignal(signalId);
    if (!signal) return refuse("UNKNOWN_SIGNAL", "No such signal in this community.");
    if (signal.status === "withdrawn") return { ok: true, canceledOrders: 0, alreadyWithdrawn: true };
    const canceled = await tenant.execution.cancelQueued("signal_withdrawn", { signalId, noneSent: true });
    if (canceled.length === 0) {
      const sent = await tenant.execution.sentOrderCount(signalId);
      if (sent > 0) {
        return refuse(
          "ORDERS_SENT",
          `${sent === 1 ? "An order" : `${sent} orders`} of it already went to a broker, so it stands as posted.`,
        );
      }
    }

    // Synchronous again: the signal leaves every count it entered.
    const now = Date.now();
    const canceledIds = canceled.map((order) => order.id);
    ctx.local.release(canceledIds);
    for (const orderId of canceledIds) ctx.local.takeConfirmation(orderId);
    ctx.local.forgetRecent(signalId);
    if (run?.status === "done") ctx.local.addCounter(utcDay(run.startedAt), "signals", -1);
    const book = ctx.book.revert(signalId, now);
    if (book === "superseded") {
      // A later signal on the instrument was accepted while the orders were being canceled.
      ctx.logger.error("signal.withdrawn_book_not_reverted", { alert: true, communityId: input.communityId, signalId });
    }
    await tenant.execution.setSignalOutcome(signalId, "withdrawn", input.reason, {
      canceledOrders: canceled.length,
    });
    await ctx.flows.publishAll(tenant, canceled);
    ctx.logger.info("signal.withdrawn", { communityId: input.communityId, signalId, canceledOrders: canceled.length });
    return { ok: true, canceledOrders: canceled.length, alreadyWithdrawn: false };
  }
}
