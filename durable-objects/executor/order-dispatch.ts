import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { alertAdminsOfLock } from "../../platform/execution/account-locks";
import type { MemberNotice } from "../../platform/notifications/notify-member";
import type { AccountMode } from "../../shared/discord/badge";
import { type EventSink, orderUpdated } from "../../shared/execution/events";
import { describeOrder } from "../../shared/execution/order-label";
import type { NewOrder } from "../../shared/execution/orders";
import { describeSkip } from "../../shared/execution/summary";
import type { Logger } from "../../shared/logging";
import { opensExposure } from "../../shared/orders/legs";
import { askToConfirm, CONFIRM_TIMEOUT_MS } from "./confirmations";
import type { KillSwitch } from "./kill-switch";
import type { ExecutorLocalState } from "./local-state";
import { type OrderBadges, subjectOf } from "./order-badges";
import { type OrderOutbox, type OutboxBatch, sendOrderMessages, withClientOrderIds } from "./outbox";

const NOW: Promise<void> = Promise.resolve();

/** An entry not sent within this time of its decision is never sent: the price it was sized at is gone. */
export const SEND_WINDOW_MS = 2 * 60_000;

export interface DispatchContext {
  env(): Env;
  events: EventSink;
  notify(notice: MemberNotice): Promise<void>;
  local: ExecutorLocalState;
  killSwitch: KillSwitch;
  outbox: OrderOutbox;
  badges: OrderBadges;
  logger: Logger;
  tenant(communityId: string): TenantRepository;
  scheduleAlarm(): Promise<void>;
  /** Work that must finish but that the signal's answer does not wait for. */
  waitUntil(promise: Promise<unknown>): void;
}

export interface Delivered {
  /** Entries dropped (never stored, or canceled once stored) because the kill switch was on before they were sent. */
  haltedEntries: number;
  /** Entries given up because they could not be sent within the send window. */
  lateEntries: number;
}

/**
 * Takes outbox batches the rest of the way: stores their orders in D1 (once),
 * sends one ORDER_QUEUE message per order not awaiting confirmation, tells the
 * members what needs telling, and only then forgets the batch. Every step can
 * be repeated: the insert ignores orders already stored and the consumer
 * sends only orders still `queued`.
 */
export class OrderDispatch {
  constructor(private readonly ctx: DispatchContext) {}

  /** `noticesAfter`: the members' messages wait for it (a signal's run holds them until its outcome is written). */
  async deliver(batch: OutboxBatch, noticesAfter: Promise<unknown> = NOW): Promise<Delivered> {
    const { local, outbox } = this.ctx;
    const env = this.ctx.env();
    const tenant = this.ctx.tenant(batch.communityId);
    let orders = await withClientOrderIds(batch.communityId, batch.orders);
    let haltedEntries = 0;
    if (batch.phase === "planned") {
      // The object's copy of the kill switch, checked after the last await: a halt stops whatever is not stored yet.
      // Only entries: exits (a member's own sell, a provider's close) only reduce exposure and still go out.
      if (this.ctx.killSwitch.haltedLocally && orders.some(opensExposure)) {
        const halted = orders.filter(opensExposure);
        local.release(halted.map((o) => o.id));
        const rest = batch.orders.filter((o) => !opensExposure(o));
        if (rest.length === 0) {
          outbox.remove(batch.id);
          return { haltedEntries: halted.length, lateEntries: 0 };
        }
        outbox.replaceOrders(batch.id, rest);
        const delivered = await this.deliver({ ...batch, orders: rest }, noticesAfter);
        return { ...delivered, haltedEntries: halted.length };
      }
      await tenant.execution.insertOrders(orders, batch.createdAt);
      outbox.markStored(batch.id);
      const storedAt = Date.now();
      await this.ctx.events.publishMany(
        orders.map((order) =>
          orderUpdated(
            batch.communityId,
            { ...order, status: "queued", filledQuantity: 0, averageFillPrice: null },
            storedAt,
          ),
        ),
      );
      // A halt that landed while these were being stored, whose cancel may have run before they existed.
      if (this.ctx.killSwitch.haltedLocally) {
        haltedEntries = await this.cancelHaltedEntries(tenant, orders);
        orders = orders.filter((order) => !opensExposure(order));
      }
    }
    const awaiting = orders.filter(isAwaitingConfirmation);
    for (const order of batch.phase === "planned" ? awaiting : []) {
      local.awaitConfirmation(order.id, order.userId, batch.createdAt + CONFIRM_TIMEOUT_MS);
    }
    await sendOrderMessages(
      env.ORDER_QUEUE,
      batch.communityId,
      orders.filter((o) => !isAwaitingConfirmation(o)),
    );
    // Before the batch is forgotten, so a failed write is retried with it (each lock is audited once).
    await auditLocks(tenant, batch);
    outbox.remove(batch.id);
    // The members' messages go through NOTIFY_QUEUE, each with its own idempotency key; the provider's answer and
    // the next step do not wait for them (a batch of 500 notices is many queue sends).
    this.ctx.waitUntil(
      noticesAfter
        .then(() => this.notices(batch, awaiting))
        .catch((error: unknown) =>
          this.ctx.logger.error("order.notices_failed", {
            communityId: batch.communityId,
            signalId: batch.signalId,
            error: error instanceof Error ? error.message : String(error),
          }),
        ),
    );
    if (awaiting.length > 0) await this.ctx.scheduleAlarm();
    return { haltedEntries, lateEntries: 0 };
  }

  /** Entries stored but not yet sent when a halt landed: canceled as the halt's own cancel would have. */
  private async cancelHaltedEntries(tenant: TenantRepository, orders: readonly NewOrder[]): Promise<number> {
    const entryIds = orders.filter(opensExposure).map((order) => order.id);
    if (entryIds.length === 0) return 0;
    const now = Date.now();
    const canceled = await tenant.execution.cancelQueued("kill_switch", { orderIds: entryIds }, now);
    this.ctx.local.release(entryIds);
    await this.ctx.events.publishMany(canceled.map((order) => orderUpdated(tenant.communityId, order, now)));
    return entryIds.length;
  }

  /**
   * A batch left behind by a failure or restart. Entries older than the send
   * window are canceled (or never stored) and their reservations released;
   * exits are always sent, late or not, since they only reduce a position.
   */
  async recover(batch: OutboxBatch, now: number, noticesAfter: Promise<unknown> = NOW): Promise<Delivered> {
    const late = now - batch.createdAt > SEND_WINDOW_MS ? batch.orders.filter(opensExposure) : [];
    if (late.length === 0) return this.deliver(batch, noticesAfter);
    const lateIds = late.map((o) => o.id);
    const canceled = await this.ctx
      .tenant(batch.communityId)
      .execution.cancelQueued("stranded", { orderIds: lateIds }, now);
    this.ctx.local.release(lateIds);
    const rest = batch.orders.filter((o) => !lateIds.includes(o.id));
    if (rest.length > 0) this.ctx.outbox.replaceOrders(batch.id, rest);
    else this.ctx.outbox.remove(batch.id);
    this.ctx.logger.error("order.stranded_entries_canceled", {
      alert: true,
      communityId: batch.communityId,
      signalId: batch.signalId,
      entries: late.length,
      stored: canceled.length,
    });
    await this.ctx.events.publishMany(canceled.map((order) => orderUpdated(batch.communityId, order, now)));
    const stored = new Set(canceled.map((order) => order.id));
    await Promise.all(
      late
        .filter((o) => stored.has(o.id))
        .map((order) =>
          this.ctx.badges.tell(
            batch.communityId,
            subjectOf(order),
            `order:${order.id}:stranded`,
            `⌛ Not sent: ${describeOrder(order)}. The executor was interrupted before sending it, and the signal is now too old to act on. Nothing was placed.`,
          ),
        ),
    );
    const delivered = rest.length > 0 ? await this.deliver({ ...batch, orders: rest }, noticesAfter) : null;
    return { haltedEntries: delivered?.haltedEntries ?? 0, lateEntries: late.length };
  }

  private async notices(batch: OutboxBatch, awaiting: readonly NewOrder[]) {
    const { logger, notify } = this.ctx;
    const env = this.ctx.env();
    // A reduction is explained in the order's confirmation request or its "Order placed" message.
    await Promise.all([
      ...awaiting.map((order) => askToConfirm(env, this.ctx.badges, logger, batch.communityId, order)),
      ...batch.paused.map((paused) =>
        notify({
          userId: paused.userId,
          communityId: batch.communityId,
          event: `pause:${paused.until}`,
          message: paused.locked
            ? `🔒 Your personal circuit breaker tripped: you are down ${paused.lossPercent}% today (limit ${paused.limitPercent}%). Your open positions are being closed and your account is locked: nothing new is placed until you unlock it with /risk unlock or an admin does, and not before ${new Date(paused.until).toISOString()} (00:00 UTC). The community's admins have been told.`
            : `🛑 ${describeSkip(paused.reason)} Your open positions are being closed; trading resumes ${new Date(paused.until).toISOString()}.`,
        }),
      ),
      ...batch.paused
        .filter((paused) => paused.locked)
        .map((paused) => alertAdminsOfLock({ env, events: this.ctx.events }, logger, batch.communityId, paused)),
      ...batch.notices.map((notice) =>
        this.ctx.badges.tell(
          batch.communityId,
          { userId: notice.userId, signalId: batch.signalId, mode: notice.mode ?? ("paper" satisfies AccountMode) },
          notice.key,
          notice.text,
        ),
      ),
    ]);
  }
}

/** Each circuit-breaker lock in a batch, in the community's audit log (once: the batch is removed right after). */
async function auditLocks(tenant: TenantRepository, batch: OutboxBatch): Promise<void> {
  for (const paused of batch.paused.filter((p) => p.locked)) {
    await tenant.audit.append({
      event: "risk.account_locked",
      actorId: null,
      target: paused.userId,
      data: {
        userId: paused.userId,
        reason: "circuit_breaker",
        lossPercent: paused.lossPercent ?? null,
        limitPercent: paused.limitPercent ?? null,
        signalId: batch.signalId,
      },
    });
  }
}

const isAwaitingConfirmation = (order: Pick<NewOrder, "intent">) => order.intent.awaitingConfirmation === true;
