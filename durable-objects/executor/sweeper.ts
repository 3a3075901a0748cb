import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { Logger } from "../../shared/logging";
import { isUnsettled } from "../../shared/orders/state-machine";
import { QUEUED_WITHOUT_MESSAGE_MS } from "../../shared/orders/timing";
import { FAN_OUT_RESUME_AFTER_MS, type FanOutJournal } from "./fan-out-journal";
import type { ExecutorLocalState } from "./local-state";
import type { OrderDispatch } from "./order-dispatch";
import { type OrderOutbox, sendOrderMessages } from "./outbox";
import type { SignalFanOut } from "./signal-fan-out";

export interface SweeperParts {
  env(): Env;
  local: ExecutorLocalState;
  journal: FanOutJournal;
  outbox: OrderOutbox;
  dispatch: OrderDispatch;
  fanOut: SignalFanOut;
  logger: Logger;
}

export interface SweepReport {
  fanOutsResumed: number;
  batchesRecovered: number;
  reservationsReleased: number;
  reservationsRenewed: number;
}

/**
 * What a failure or restart can leave behind, taken care of on the executor's
 * alarm and by reconciliation: fan-outs stopped part way are continued,
 * outbox batches past their grace are stored and sent (late entries
 * canceled), and reservations at the end of their lifetime are kept only
 * while their order is unsettled.
 */
export async function sweep(ctx: SweeperParts, tenant: TenantRepository, now: number): Promise<SweepReport> {
  const report: SweepReport = {
    fanOutsResumed: 0,
    batchesRecovered: 0,
    reservationsReleased: 0,
    reservationsRenewed: 0,
  };
  for (const run of ctx.journal.unfinished()) {
    if (run.updatedAt + FAN_OUT_RESUME_AFTER_MS > now || !ctx.fanOut.resumable(run.signalId)) continue;
    try {
      await ctx.fanOut.run(run);
      report.fanOutsResumed += 1;
      ctx.logger.warn("signal.fan_out_resumed", { communityId: tenant.communityId, signalId: run.signalId });
    } catch (error) {
      ctx.logger.error("signal.fan_out_resume_failed", {
        communityId: tenant.communityId,
        signalId: run.signalId,
        error,
      });
    }
  }
  for (const batch of ctx.outbox.due(now)) {
    if (batch.signalId && ctx.fanOut.isActive(batch.signalId)) continue;
    try {
      await ctx.dispatch.recover(batch, now);
      report.batchesRecovered += 1;
    } catch (error) {
      ctx.outbox.postpone(batch.id, now + FAN_OUT_RESUME_AFTER_MS);
      ctx.logger.error("order.outbox_recovery_failed", { communityId: batch.communityId, batchId: batch.id, error });
    }
  }
  const expired = ctx.local.expiredReservations(now);
  if (expired.length > 0) {
    const statuses = await tenant.execution.statusesOf(expired);
    const open = expired.filter((id) => {
      const status = statuses.get(id);
      return status !== undefined && isUnsettled(status);
    });
    const ended = expired.filter((id) => !open.includes(id));
    ctx.local.renewReservations(open, now);
    ctx.local.release(ended);
    report.reservationsRenewed = open.length;
    report.reservationsReleased = ended.length;
    if (ended.length > 0) {
      ctx.logger.warn("reservation.released_at_expiry", { communityId: tenant.communityId, count: ended.length });
    }
  }
  return report;
}

/**
 * Reconciliation's backstop for orders queued outside the outbox (exits placed
 * after a fill): one still `queued` and untouched for a while gets another
 * message. A message that was not lost after all makes no difference, since
 * only an order still `queued` is ever sent.
 */
export async function resendQueuedWithoutMessage(
  ctx: SweeperParts,
  tenant: TenantRepository,
  now: number,
): Promise<number> {
  const queued = await tenant.execution.queuedSince(now - QUEUED_WITHOUT_MESSAGE_MS);
  const resent = ctx.outbox.resentSince(
    queued.map((o) => o.id),
    now - QUEUED_WITHOUT_MESSAGE_MS,
  );
  const stale = queued.filter((order) => !resent.has(order.id) && !ctx.local.isAwaitingConfirmation(order.id));
  if (stale.length === 0) return 0;
  await sendOrderMessages(ctx.env().ORDER_QUEUE, tenant.communityId, stale);
  ctx.outbox.recordResent(
    stale.map((o) => o.id),
    now,
  );
  ctx.logger.warn("order.queued_resent", { communityId: tenant.communityId, count: stale.length });
  return stale.length;
}
