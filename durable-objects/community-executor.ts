import { DurableObject } from "cloudflare:workers";
import { database } from "../platform/db/client";
import { OPEN_ORDER_STATUSES } from "../platform/db/tenant/execution";
import { forCommunity, type TenantRepository } from "../platform/db/tenant/for-community";
import { executionEntitlements } from "../platform/execution/entitlements";
import { hubEventSink } from "../platform/execution/event-sink";
import { notifyMember } from "../platform/notifications/notify-member";
import type { ChainVerification } from "../shared/audit/chain";
import { configFor } from "../shared/config";
import { type EventSink, orderUpdated } from "../shared/execution/events";
import type { OrderRow } from "../shared/execution/orders";
import type { OrderSubmissionOutcome, ReconcileReport } from "../shared/execution/outcomes";
import {
  conflictSymbol,
  DEFAULT_MAX_SIGNAL_AGE_SECONDS,
  DOUBLE_POST_WINDOW_MS,
  directionOf,
  gateInstrument,
  gateSignal,
  maxSignalAgeSeconds,
  signalFingerprint,
} from "../shared/execution/signal-gate";
import {
  type ManualTradeInput,
  ManualTradeInputSchema,
  type SubmitSignalInput,
  SubmitSignalInputSchema,
} from "../shared/execution/submit";
import { describeSkip, type SignalSummary } from "../shared/execution/summary";
import {
  type WithdrawalOutcome,
  type WithdrawSignalInput,
  WithdrawSignalInputSchema,
} from "../shared/execution/withdrawal";
import { type Logger, rootLogger } from "../shared/logging";
import { opensExposure, opensExposureAction } from "../shared/orders/legs";
import { isMarketRemainderExpired, LATE_FILL_WINDOW_MS, nextFollowUpAt } from "../shared/orders/timing";
import { instrumentKey } from "../shared/quotes/instrument";
import { type CommunityConsistency, checkCommunityConsistency } from "./executor/consistency";
import { restoreMissingExits } from "./executor/engine-exits";
import { planFollowerOrders } from "./executor/fan-out";
import { FanOutJournal } from "./executor/fan-out-journal";
import { assertOwnCommunity } from "./executor/identity";
import { KillSwitch } from "./executor/kill-switch";
import { ExecutorLocalState, utcDay } from "./executor/local-state";
import { cancelDepartedMemberEntries } from "./executor/member-departure";
import { OrderDispatch } from "./executor/order-dispatch";
import {
  adoptIfPlaced,
  applyBrokerOrder,
  describeOrder,
  isExit,
  type OrderFlowContext,
  publishOrder,
  sendQueuedOrder,
} from "./executor/order-flow";
import { confirmedEntry, OrderOutbox, sendOrderMessages } from "./executor/outbox";
import { PAPER_ACCOUNT_REF, PaperDesk } from "./executor/paper-desk";
import { ProviderBook } from "./executor/provider-book";
import { emptyCounts, SignalFanOut } from "./executor/signal-fan-out";
import { Withdrawals } from "./executor/signal-withdrawal";
import { resendQueuedWithoutMessage, type SweeperContext, sweep } from "./executor/sweeper";

/** An order pending longer than this is flagged as stale. */
const STALE_ORDER_MS = 3600_000;

/**
 * The single writer of one community's execution state (design.md §7).
 * Decisions that must not race (duplicates, conflicts, counters, the kill
 * switch, reservations) are made in synchronous code over the object's own
 * SQLite; D1, the queue and quotes are awaited only around them.
 */
export class CommunityExecutor extends DurableObject<Env> {
  private readonly local: ExecutorLocalState;
  private readonly paper: PaperDesk;
  private readonly logger: Logger;
  private readonly journal: FanOutJournal;
  private readonly outbox: OrderOutbox;
  private readonly dispatch: OrderDispatch;
  private readonly fanOut: SignalFanOut;
  private readonly book: ProviderBook;
  /** Sends under way (this object's memory): a second copy of an order's message waits for the first. */
  private readonly sending = new Map<string, Promise<OrderSubmissionOutcome>>();
  private readonly killSwitch: KillSwitch;
  /** Events for the community's RealtimeHub: queued, batched per turn and sent in order, never awaited. */
  private readonly events: EventSink;
  private readonly withdrawals = new Withdrawals();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.local = new ExecutorLocalState(ctx.storage.sql);
    this.logger = rootLogger.child({ component: "community-executor" });
    this.events = hubEventSink({ env, logger: this.logger, waitUntil: (promise) => ctx.waitUntil(promise) });
    this.paper = new PaperDesk(this.local, () => configFor(env), this.logger);
    this.killSwitch = new KillSwitch(this.local, this.logger);
    this.journal = new FanOutJournal(ctx.storage.sql);
    this.outbox = new OrderOutbox(ctx.storage.sql);
    const parts = {
      // Read at each use rather than captured: the object's bindings are the one place they live.
      env: () => this.env,
      local: this.local,
      killSwitch: this.killSwitch,
      outbox: this.outbox,
      logger: this.logger,
      events: this.events,
      tenant: (communityId: string) => this.tenant(communityId),
      scheduleAlarm: () => this.scheduleAlarm(),
    };
    this.dispatch = new OrderDispatch(parts);
    this.book = new ProviderBook(ctx.storage.sql);
    this.fanOut = new SignalFanOut({
      ...parts,
      journal: this.journal,
      dispatch: this.dispatch,
      paper: this.paper,
      book: this.book,
    });
  }

  ping(): "pong" {
    return "pong";
  }

  /** The community's repository, after checking the caller named this object's own community. */
  private tenant(communityId: string): TenantRepository {
    assertOwnCommunity(this.ctx.id, this.local, communityId);
    return forCommunity(database(this.env.DB), communityId);
  }

  /**
   * Runs a signal through the gates, then fans it out to every enabled follower. Never throws for bad input.
   * A retry of a signal whose fan-out stopped part way continues it.
   */
  async submitSignal(raw: SubmitSignalInput): Promise<SignalSummary> {
    const parsed = SubmitSignalInputSchema.safeParse(raw);
    if (!parsed.success) {
      return refusal(
        String((raw as { signalId?: unknown })?.signalId ?? ""),
        "INVALID_SIGNAL_INPUT",
        parsed.error.message,
      );
    }
    const input = parsed.data;
    const tenant = this.tenant(input.communityId);
    const { signal } = input;
    const logger = this.logger.child({ communityId: input.communityId, signalId: input.signalId });
    const now = Date.now();

    // Synchronous from here to the first await: two submissions cannot interleave these checks.
    const seen = this.local.seenSource(input.sourceId);
    if (seen) {
      const unfinished = this.fanOut.resumable(seen.signalId);
      if (unfinished) {
        logger.warn("signal.fan_out_retried", { cursor: unfinished.cursor });
        return this.fanOut.run(unfinished);
      }
      return {
        ...emptyCounts(),
        status: "duplicate",
        signalId: seen.signalId,
        code: "DUPLICATE_SOURCE",
        message: "This signal was already received; it is not executed twice.",
      };
    }
    const maxAgeSeconds = Number(this.local.getMeta("maxSignalAgeSeconds") ?? DEFAULT_MAX_SIGNAL_AGE_SECONDS);
    const fingerprint = signalFingerprint(signal);
    const verdict = gateSignal({
      signal,
      fingerprint,
      sourceTimestamp: input.sourceTimestamp,
      now,
      maxAgeSeconds,
      recentFromProvider: this.local.recentFrom(input.providerUserId, now - DOUBLE_POST_WINDOW_MS),
    });
    this.local.rememberSource(input.sourceId, input.signalId, verdict.kind, now);
    if (verdict.kind !== "expired") {
      this.local.rememberRecent({
        signalId: input.signalId,
        provider: input.providerUserId,
        symbol: conflictSymbol(signal),
        instrument: gateInstrument(signal),
        direction: directionOf(signal),
        fingerprint,
        at: now,
      });
    }
    // Journaled with the source, so a retry after any failure from here on continues this run.
    const run =
      verdict.kind === "pass" || verdict.kind === "combine"
        ? this.journal.open(input, now, verdict.kind === "combine" ? verdict.with : null)
        : null;
    if (verdict.kind === "combine") logger.info("signal.combined", { with: verdict.with });

    if (verdict.kind === "expired") {
      await tenant.execution.setSignalOutcome(input.signalId, "expired", verdict.reason, null);
      logger.warn("signal.expired", { reason: verdict.reason });
      return {
        ...emptyCounts(),
        status: "expired",
        signalId: input.signalId,
        code: "SIGNAL_EXPIRED",
        message: verdict.reason,
      };
    }
    if (verdict.kind === "duplicate") {
      await tenant.execution.setSignalOutcome(input.signalId, "duplicate", verdict.reason, { of: verdict.of });
      return {
        ...emptyCounts(),
        status: "duplicate",
        signalId: input.signalId,
        code: "DOUBLE_POST",
        message: verdict.reason,
      };
    }
    if (verdict.kind === "conflict") {
      const canceled = await tenant.execution.cancelQueued("conflicting_signal", { signalId: verdict.with });
      await Promise.all([
        tenant.execution.setSignalOutcome(input.signalId, "refused", verdict.reason, null),
        tenant.execution.setSignalOutcome(verdict.with, "refused", verdict.reason, { canceledOrders: canceled.length }),
      ]);
      this.local.release(canceled.map((order) => order.id));
      await this.events.publishMany(canceled.map((order) => orderUpdated(input.communityId, order, Date.now())));
      logger.warn("signal.conflict_refused", { with: verdict.with, canceledOrders: canceled.length });
      return refusal(input.signalId, "CONFLICTING_SIGNALS", verdict.reason);
    }
    if (!run) throw new Error("unreachable: a signal that passed the gates has a run");
    return this.fanOut.run(run);
  }

  /** A member's own confirmed /trade: the risk engine sizes and checks it for that member's account only. */
  async submitManualTrade(raw: ManualTradeInput): Promise<SignalSummary> {
    const parsed = ManualTradeInputSchema.safeParse(raw);
    if (!parsed.success) return refusal(String(raw?.signalId ?? ""), "INVALID_TRADE_INPUT", parsed.error.message);
    const input = parsed.data;
    const tenant = this.tenant(input.communityId);
    const { signal } = input;
    const now = Date.now();
    const seen = this.local.seenSource(input.sourceId);
    if (seen)
      return {
        ...emptyCounts(),
        status: "duplicate",
        signalId: seen.signalId,
        message: "This trade was already placed.",
      };
    this.local.rememberSource(input.sourceId, input.signalId, "manual", now);
    // A member may always reduce their own position; only trades that open exposure wait for a resume.
    if (opensExposureAction(signal.action) && (await this.killSwitch.isHalted(tenant))) {
      const reason = "Trading is halted in this community (kill switch); the trade is not placed.";
      await tenant.execution.setSignalOutcome(input.signalId, "refused", reason, null);
      return refusal(input.signalId, "COMMUNITY_HALTED", reason);
    }
    const [profile, entitlements, quote] = await Promise.all([
      tenant.riskProfiles.get(input.userId),
      executionEntitlements(this.env, input.communityId),
      this.paper.quoteFor(signal),
    ]);
    await entitlements.loadMembers([input.userId]);
    const counts = emptyCounts();
    counts.followers = 1;
    const planned = planFollowerOrders({
      communityId: input.communityId,
      signalId: input.signalId,
      signal,
      followers: [
        {
          userId: input.userId,
          sizingMode: signal.quantity ? "fixed_quantity" : null,
          amount: signal.quantity,
          mode: "auto",
          tradingMode: profile?.tradingMode ?? "paper",
          riskSettings: (profile?.settings as Record<string, unknown> | undefined) ?? {},
        },
      ],
      quotePrice: quote?.last ?? null,
      local: this.local,
      paper: this.paper,
      entitlements,
      exitQuantityOf: { kind: "own" },
      now,
      counts,
    });
    const batch =
      planned.orders.length > 0 || planned.pausedMembers.length > 0
        ? this.outbox.stage(
            {
              communityId: input.communityId,
              signalId: input.signalId,
              phase: "planned",
              orders: planned.orders,
              paused: planned.pausedMembers,
            },
            now,
          )
        : null;
    const delivered = batch ? await this.dispatch.deliver(batch) : null;
    if (delivered && delivered.haltedEntries > 0) {
      const reason = "Trading is halted in this community (kill switch); the trade is not placed.";
      await tenant.execution.setSignalOutcome(input.signalId, "refused", reason, null);
      return refusal(input.signalId, "COMMUNITY_HALTED", reason);
    }
    const [entry] = planned.orders.filter((o) => o.cause === "signal");
    const skipped = Object.keys(counts.skipped)[0];
    const message = entry
      ? `Order queued: ${describeOrder(entry)}${counts.ordersReduced > 0 ? " (reduced to fit your limits)" : ""}.`
      : `Not placed: ${planned.skipped[0]?.message ?? describeSkip(skipped ?? "unknown")}`;
    const summary: SignalSummary = {
      ...counts,
      status: entry ? "accepted" : "refused",
      signalId: input.signalId,
      message,
    };
    if (!entry && skipped) summary.code = skipped.toUpperCase();
    await tenant.execution.setSignalOutcome(input.signalId, entry ? "accepted" : "refused", entry ? null : message, {
      ...summary,
    });
    return summary;
  }

  /**
   * /risk unlock: lifts the circuit breaker's lock on a member's account, asked by the member or an admin (the
   * caller checked which), audited as risk.account_unlocked. The day's pause still holds until 00:00 UTC.
   */
  async unlockAccount(input: { communityId: string; userId: string; actorId: string }) {
    const tenant = this.tenant(input.communityId);
    const now = Date.now();
    const lifted = this.local.unlock(input.userId, now, input.actorId);
    if (!lifted) return { unlocked: false, pausedUntil: null, message: "The account is not locked." };
    try {
      await tenant.audit.append({
        event: "risk.account_unlocked",
        actorId: input.actorId,
        target: input.userId,
        data: { userId: input.userId, lockedAt: lifted.at, lossPercent: lifted.lossPercent },
      });
    } catch (error) {
      // Unaudited, the unlock does not stand.
      this.local.relock(input.userId);
      throw error;
    }
    const paused = this.local.pausedUntil(input.userId, now);
    const resumes = paused
      ? `new entries resume at ${new Date(paused.until).toISOString()} (00:00 UTC), when today's pause ends.`
      : "new entries are placed again.";
    if (input.actorId !== input.userId) {
      await notifyMember(
        { env: this.env, events: this.events },
        input.communityId,
        input.userId,
        `unlock:${input.userId}:${now}`,
        `🔓 An admin unlocked your account after your circuit breaker tripped: ${resumes}`,
      );
    }
    return { unlocked: true, pausedUntil: paused?.until ?? null, message: `Unlocked: ${resumes}` };
  }

  /** What holds a member's new entries now: the circuit breaker's lock, the day's pause (for /risk view). */
  tradingHold(input: { communityId: string; userId: string }) {
    this.tenant(input.communityId);
    const now = Date.now();
    const lock = this.local.lockOf(input.userId);
    const paused = this.local.pausedUntil(input.userId, now);
    return {
      locked: lock && lock.unlockedAt === null ? { day: lock.day, at: lock.at, lossPercent: lock.lossPercent } : null,
      paused: paused ? { until: paused.until, reason: paused.reason } : null,
    };
  }

  /** /cancel: a member cancels one of their own open orders. */
  async cancelOrder(input: { communityId: string; orderId: string; userId: string }) {
    const tenant = this.tenant(input.communityId);
    const order = await tenant.execution.getOrder(input.orderId);
    if (!order || order.userId !== input.userId) return { ok: false, message: "You have no such order." };
    if (order.status === "queued") {
      this.local.takeConfirmation(order.id);
      const canceled = await this.cancelUnconfirmed(tenant, order, "canceled_by_member");
      return canceled
        ? { ok: true, message: `Canceled: ${describeOrder(order)}.` }
        : { ok: false, message: "The order moved on; try again." };
    }
    if (!OPEN_ORDER_STATUSES.includes(order.status) || !order.brokerOrderId) {
      return { ok: false, message: `The order is already ${order.status.replaceAll("_", " ")}.` };
    }
    const flow = this.orderFlow(input.communityId, tenant, order.userId);
    await flow.adapter.cancelOrder(order.brokerOrderId);
    const after = await applyBrokerOrder(flow, order, await flow.adapter.getOrder(order.brokerOrderId));
    return after.status === "canceled"
      ? { ok: true, message: `Canceled: ${describeOrder(order)}.` }
      : { ok: false, message: `The broker reports the order as ${after.status.replaceAll("_", " ")}.` };
  }

  /** The member's answer to a confirm-mode order (from the signed buttons). Only the order's owner may answer. */
  async confirmOrder(input: { communityId: string; orderId: string; userId: string; decision: "confirm" | "cancel" }) {
    const tenant = this.tenant(input.communityId);
    const order = await tenant.execution.getOrder(input.orderId);
    if (!order || order.userId !== input.userId)
      return { ok: false, message: "This order is not yours or no longer exists." };
    const pending = this.local.takeConfirmation(input.orderId);
    if (!pending || order.status !== "queued") {
      return { ok: false, message: "This order is no longer waiting for your confirmation." };
    }
    if (input.decision === "cancel" || (opensExposure(order) && (await this.killSwitch.isHalted(tenant)))) {
      await this.cancelUnconfirmed(tenant, order, input.decision === "cancel" ? "canceled_by_member" : "kill_switch");
      return {
        ok: true,
        message: input.decision === "cancel" ? "Order canceled." : "Trading is halted; the order is canceled.",
      };
    }
    // Staged first: if the send fails, the sweeper sends it (the confirmation itself is already taken).
    const batch = this.outbox.stage(
      {
        communityId: input.communityId,
        signalId: order.signalId,
        phase: "stored",
        orders: [confirmedEntry(order)],
        paused: [],
      },
      Date.now(),
    );
    await this.dispatch.deliver(batch);
    return { ok: true, message: `Confirmed: ${describeOrder(order)} is on its way.` };
  }

  private async cancelUnconfirmed(tenant: TenantRepository, order: OrderRow, cause: string) {
    const canceled = await tenant.execution.transition(order.id, {
      from: ["queued"],
      to: "canceled",
      cause,
      patch: { statusReason: cause.replaceAll("_", " ") },
    });
    this.local.release([order.id]);
    if (canceled) await publishOrder(this.orderFlow(tenant.communityId, tenant, order.userId), canceled);
    return canceled;
  }

  /**
   * The kill switch: stops fan-outs under way at their next step and cancels entries not yet sent. Orders that
   * only reduce a position (stops, targets, exits, flattens) keep working, so a halt never strips a stop.
   */
  async halt(input: { communityId: string; reason: string | null; actorId: string | null }) {
    const tenant = this.tenant(input.communityId);
    const changed = await this.killSwitch.halting(() =>
      tenant.community.setHalted(true, { actorId: input.actorId, reason: input.reason }),
    );
    const canceled = await tenant.execution.cancelQueued("kill_switch", { entriesOnly: true });
    this.local.release(canceled.map((order) => order.id));
    await this.events.publishMany(canceled.map((order) => orderUpdated(input.communityId, order, Date.now())));
    await this.events.publish({
      type: "killswitch.changed",
      communityId: input.communityId,
      audience: "community",
      data: { halted: true, reason: input.reason, canceledOrders: canceled.length },
      at: Date.now(),
    });
    return { halted: true, changed, canceledOrders: canceled.length };
  }

  async resume(input: { communityId: string; actorId: string | null }) {
    const tenant = this.tenant(input.communityId);
    const changed = await this.killSwitch.resuming(() => tenant.community.setHalted(false, { actorId: input.actorId }));
    await this.events.publish({
      type: "killswitch.changed",
      communityId: input.communityId,
      audience: "community",
      data: { halted: false },
      at: Date.now(),
    });
    return { halted: false, changed };
  }

  /** Sends one order from ORDER_QUEUE (only if still queued) and says whether the message is done. */
  async submitOrder(input: { communityId: string; orderId: string; attempt: number }): Promise<OrderSubmissionOutcome> {
    const tenant = this.tenant(input.communityId);
    const order = await tenant.execution.getOrder(input.orderId);
    if (!order) return { outcome: "done", note: "unknown order" };
    // Redeliveries of handled orders are most messages after a halt or a storm: they need no read of the switch.
    if (order.status !== "queued") return { outcome: "done", status: order.status, note: "already handled" };
    if (opensExposure(order) && (await this.killSwitch.isHalted(tenant))) {
      const canceled = await tenant.execution.transition(order.id, {
        from: ["queued"],
        to: "canceled",
        cause: "kill_switch",
        patch: { statusReason: "kill switch" },
      });
      this.local.release([order.id]);
      if (canceled) await this.events.publish(orderUpdated(input.communityId, canceled, Date.now()));
      return { outcome: "done", status: canceled?.status ?? order.status };
    }
    if (this.local.isAwaitingConfirmation(order.id))
      return { outcome: "done", note: "awaiting the member's confirmation" };
    // Its provider is taking the signal back: the next delivery finds it canceled (or sends it if the withdrawal failed).
    if (order.signalId && this.withdrawals.holds(order.signalId))
      return { outcome: "retry", delaySeconds: 1, reason: "its signal is being withdrawn" };
    const flow = this.orderFlow(input.communityId, tenant, order.userId);
    return sendQueuedOrder(flow, order, input.attempt);
  }

  /** A provider's edit takes the signal back: all its queued orders canceled, or nothing if any was sent. */
  async withdrawSignal(raw: WithdrawSignalInput): Promise<WithdrawalOutcome> {
    const input = WithdrawSignalInputSchema.parse(raw);
    const tenant = this.tenant(input.communityId);
    return this.withdrawals.withdraw(
      {
        local: this.local,
        journal: this.journal,
        fanOut: this.fanOut,
        book: this.book,
        logger: this.logger.child({ communityId: input.communityId }),
        tenant,
        sending: this.sending,
        publishCanceled: (orders) => this.publishCanceled(input.communityId, orders),
      },
      input,
    );
  }

  /** A member left the server (their follows are already paused): their unsent entries are canceled. */
  async memberDeparted(input: { communityId: string; userId: string }): Promise<{ canceledOrders: number }> {
    const tenant = this.tenant(input.communityId);
    return cancelDepartedMemberEntries(
      { local: this.local, tenant, publishCanceled: (orders) => this.publishCanceled(input.communityId, orders) },
      input.userId,
    );
  }

  /** Each canceled order to its member's dashboard, as one batch. */
  private publishCanceled(communityId: string, orders: readonly OrderRow[]): Promise<void> {
    const now = Date.now();
    return this.events.publishMany(orders.map((order) => orderUpdated(communityId, order, now)));
  }

  /** The DLQ gave up on an order: it is `failed`, and its member is told. */
  async orderDeadLettered(input: { communityId: string; orderId: string; lastError: string | null }) {
    const tenant = this.tenant(input.communityId);
    // The last attempt may have reached the broker (an unknown outcome): look before calling it failed.
    const queued = await tenant.execution.getOrder(input.orderId);
    if (queued?.status === "queued") {
      const flow = this.orderFlow(input.communityId, tenant, queued.userId);
      const found = await flow.adapter.getOrderByClientId(queued.clientOrderId).catch(() => null);
      if (found) {
        const adopted = await applyBrokerOrder(flow, queued, found);
        return { failed: false, status: adopted.status };
      }
    }
    const failed = await tenant.execution.transition(input.orderId, {
      from: ["queued"],
      to: "failed",
      cause: "dead_lettered",
      data: { lastError: input.lastError },
      patch: { statusReason: input.lastError ?? "delivery to the broker failed after every retry" },
    });
    this.local.release([input.orderId]);
    if (failed) {
      const flow = this.orderFlow(input.communityId, tenant, failed.userId);
      await publishOrder(flow, failed);
      await flow.notifyMember(failed.userId, `order:${failed.id}:failed`, deadLetterNotice(failed));
    }
    return { failed: failed !== null };
  }

  /** Prompt fill tracking: follows up each open order on its schedule (1, 2, 5, 10, 30 s, then every minute). */
  override async alarm(): Promise<void> {
    const communityId = this.local.getMeta("communityId");
    if (!communityId) return;
    const tenant = this.tenant(communityId);
    const now = Date.now();
    for (const due of this.local.dueTracking(now)) {
      const order = await tenant.execution.getOrder(due.orderId);
      if (!order?.brokerOrderId || !OPEN_ORDER_STATUSES.includes(order.status)) {
        this.local.untrack(due.orderId);
        continue;
      }
      const flow = this.orderFlow(communityId, tenant, order.userId);
      try {
        const broker = await flow.adapter.getOrder(order.brokerOrderId);
        await applyBrokerOrder(flow, order, broker);
        await this.expireMarketRemainder(flow, order);
      } catch (error) {
        this.logger.warn("order.follow_up_failed", { communityId, orderId: order.id, error });
        flow.track(order.id, due.submittedAt);
      }
    }
    for (const orderId of this.local.dueConfirmations(now)) {
      if (!this.local.takeConfirmation(orderId)) continue;
      const order = await tenant.execution.getOrder(orderId);
      if (order?.status !== "queued") continue;
      const canceled = await this.cancelUnconfirmed(tenant, order, "confirmation_timeout");
      if (canceled) {
        await notifyMember(
          { env: this.env, events: this.events },
          communityId,
          order.userId,
          `order:${order.id}:confirm_timeout`,
          `⌛ Your order ${describeOrder(order)} was not confirmed in time and is canceled.`,
        );
      }
    }
    await sweep(this.sweeper(tenant), now);
    this.local.prune(now);
    this.journal.prune(now);
    this.book.prune(now);
    await this.scheduleAlarm();
  }

  private sweeper(tenant: TenantRepository): SweeperContext {
    return {
      env: this.env,
      local: this.local,
      journal: this.journal,
      outbox: this.outbox,
      dispatch: this.dispatch,
      fanOut: this.fanOut,
      logger: this.logger,
      tenant,
    };
  }

  private async expireMarketRemainder(flow: OrderFlowContext, order: OrderRow): Promise<void> {
    if (order.orderType !== "market") return;
    const fresh = await flow.tenant.execution.getOrder(order.id);
    if (!fresh?.brokerOrderId || !isMarketRemainderExpired(fresh, Date.now())) return;
    await flow.adapter.cancelOrder(fresh.brokerOrderId);
    const broker = await flow.adapter.getOrder(fresh.brokerOrderId);
    await applyBrokerOrder(flow, fresh, broker);
  }

  /** One alarm for every schedule: follow-ups, confirmations, reservation checks and the sweeper's work. */
  private async scheduleAlarm(): Promise<void> {
    const now = Date.now();
    const sweeps = [this.journal.nextDue(), this.outbox.nextDue()].filter((due): due is number => due !== null);
    // The sweeper's work waits at least a second, so an alarm never spins on a run still under way.
    const sweepAt = sweeps.length > 0 ? Math.max(Math.min(...sweeps), now + 1_000) : null;
    const dues = [this.local.nextDue(), sweepAt].filter((due): due is number => due !== null);
    if (dues.length === 0) return;
    const next = Math.min(...dues);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(Math.max(next, Date.now() + 10));
  }

  private orderFlow(communityId: string, tenant: TenantRepository, userId: string): OrderFlowContext {
    const logger = this.logger.child({ communityId });
    return {
      communityId,
      tenant,
      adapter: this.paper.adapterFor(userId),
      guard: null,
      logger,
      sink: this.events,
      release: (ids) => this.local.release(ids),
      track: (orderId, submittedAt) => {
        const next = nextFollowUpAt(submittedAt, Date.now());
        if (next === null) this.local.untrack(orderId);
        else {
          this.local.track(orderId, submittedAt, next);
          this.ctx.waitUntil(this.scheduleAlarm());
        }
      },
      untrack: (orderId) => this.local.untrack(orderId),
      sendOnce: async (orderId, send) => {
        const running = this.sending.get(orderId);
        if (running) {
          await running.catch(() => undefined);
          return { outcome: "done", note: "sent by another delivery of the same order" };
        }
        const sent = send();
        this.sending.set(orderId, sent);
        try {
          return await sent;
        } finally {
          this.sending.delete(orderId);
        }
      },
      enqueue: (orders) => sendOrderMessages(this.env.ORDER_QUEUE, communityId, orders),
      notifyMember: (memberId, key, text) =>
        notifyMember({ env: this.env, events: this.events }, communityId, memberId, key, text),
      now: () => Date.now(),
    };
  }

  /**
   * Reconciliation (the 5-minute cron): polls every open order, adopts fills
   * that arrived after we canceled, flags orders pending for over an hour,
   * and reports positions at the broker that we do not know.
   */
  async reconcile(input: { communityId: string }): Promise<ReconcileReport> {
    const tenant = this.tenant(input.communityId);
    const now = Date.now();
    const report: ReconcileReport = {
      checked: 0,
      updated: 0,
      stale: 0,
      adopted: 0,
      errors: 0,
      resent: 0,
      unknownPositions: [],
    };
    // A backstop for the alarm: whatever a failure or restart left behind is picked up here too.
    const sweeper = this.sweeper(tenant);
    await sweep(sweeper, now);
    report.resent = await resendQueuedWithoutMessage(sweeper, now);
    const candidates = await tenant.execution.reconcilable(now - LATE_FILL_WINDOW_MS);
    for (const order of candidates) {
      const flow = this.orderFlow(input.communityId, tenant, order.userId);
      if (order.status === "failed") {
        report.checked += 1;
        const adopted = await adoptIfPlaced(flow, order).catch(() => null);
        if (adopted) {
          report.adopted += 1;
          this.logger.error("order.failed_order_adopted", {
            alert: true,
            communityId: input.communityId,
            orderId: order.id,
          });
        }
        continue;
      }
      if (!order.brokerOrderId) continue;
      report.checked += 1;
      try {
        const broker = await flow.adapter.getOrder(order.brokerOrderId);
        const after = await applyBrokerOrder(flow, order, broker);
        if (after.status !== order.status || after.filledQuantity !== order.filledQuantity) report.updated += 1;
        if (order.status === "canceled" && after.status !== "canceled") {
          report.adopted += 1;
          this.logger.error("order.late_fill_adopted", {
            alert: true,
            communityId: input.communityId,
            orderId: order.id,
          });
          await flow.notifyMember(
            order.userId,
            `order:${order.id}:adopted`,
            `⚠️ Your ${describeOrder(order)} was canceled, but the broker filled it afterwards (${after.filledQuantity} @ ${after.averageFillPrice ?? "?"}). The fill is now recorded.`,
          );
        }
        await this.expireMarketRemainder(flow, after);
        if (
          OPEN_ORDER_STATUSES.includes(after.status) &&
          !after.staleFlaggedAt &&
          now - after.createdAt > STALE_ORDER_MS
        ) {
          report.stale += 1;
          await tenant.execution.touch(after.id, { staleFlaggedAt: now });
          this.logger.error("order.stale", { alert: true, communityId: input.communityId, orderId: after.id });
          await flow.notifyMember(
            after.userId,
            `order:${after.id}:stale`,
            `⏳ Your ${describeOrder(after)} has been pending for over an hour. The community's admins have been told.`,
          );
        }
      } catch (error) {
        report.errors += 1;
        this.logger.warn("order.reconcile_failed", { communityId: input.communityId, orderId: order.id, error });
      }
    }
    await restoreMissingExits(tenant, now - LATE_FILL_WINDOW_MS, (userId) =>
      this.orderFlow(input.communityId, tenant, userId),
    );
    report.unknownPositions = await this.unknownPaperPositions(tenant);
    for (const unknown of report.unknownPositions) {
      this.logger.error("position.unknown_at_broker", { alert: true, communityId: input.communityId, ...unknown });
    }
    return report;
  }

  /** Positions a paper account holds that no recorded position explains (matched by instrument key). */
  private async unknownPaperPositions(tenant: TenantRepository) {
    const known = await tenant.execution.positionsOf();
    const unknown: ReconcileReport["unknownPositions"] = [];
    for (const userId of this.local.paperAccountUsers()) {
      for (const held of await this.paper.adapterFor(userId).getPositions()) {
        const recorded = known.find(
          (p) => p.userId === userId && p.accountRef === PAPER_ACCOUNT_REF && p.symbol === instrumentKey(held),
        );
        const signed = held.direction === "short" ? -held.quantity : held.quantity;
        if (!recorded || Math.abs(recorded.quantity - signed) > 1e-9) {
          unknown.push({
            userId,
            symbol: held.symbol,
            brokerQuantity: signed,
            recordedQuantity: recorded?.quantity ?? 0,
          });
        }
      }
    }
    return unknown;
  }

  /** Provider signals counted against the plan today (UTC): the one counter that `/subscription` shows. */
  signalUsage(input: { communityId: string }): { day: string; signals: number } {
    this.tenant(input.communityId);
    const day = utcDay(Date.now());
    return { day, signals: this.local.counter(day, "signals") };
  }

  /** The operator consistency check: this executor's kill switch and open orders against D1, and the audit chain. */
  async checkConsistency(input: { communityId: string }): Promise<CommunityConsistency> {
    return checkCommunityConsistency(this.local, this.tenant(input.communityId));
  }

  /** The daily audit check: verifies this community's hash chain here, so the cron only fans out. */
  async verifyAuditChain(input: { communityId: string }): Promise<ChainVerification> {
    return this.tenant(input.communityId).audit.verify();
  }

  /** Community settings the executor keeps a copy of (maximum signal age); the kill switch is read, not copied. */
  async syncSettings(input: { communityId: string }) {
    const tenant = this.tenant(input.communityId);
    const community = await tenant.community.get();
    if (!community) return { ok: false };
    this.local.setMeta("maxSignalAgeSeconds", String(maxSignalAgeSeconds(community.settings)));
    return { ok: true, halted: await this.killSwitch.isHalted(tenant) };
  }
}

/** Which order failed (by its words and its /orders id) and what the member can do about it. */
function deadLetterNotice(failed: OrderRow): string {
  const which = `your ${describeOrder(failed)} (order \`${failed.id}\`)`;
  return isExit(failed)
    ? `🚨 Exit failed, position still open: ${which} could not be sent to the broker after every retry. Close or protect the position yourself now with /trade or at your broker; an operator has been alerted.`
    : `⚠️ Not placed: ${which} could not be sent to the broker after every retry, and the broker does not show it, so nothing was traded. Place it again with /trade if you still want it; reconciliation keeps looking for it for a day and an operator has been alerted.`;
}

function refusal(signalId: string, code: string, message: string): SignalSummary {
  return { ...emptyCounts(), status: "refused", signalId, code, message };
}
