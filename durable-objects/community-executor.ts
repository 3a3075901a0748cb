import { DurableObject } from "cloudflare:workers";
import type { ChainVerification } from "../shared/audit/chain";
import type { MemberCloseInput, MemberCloseOutcome } from "../shared/execution/member-close";
import type { OrderSubmissionOutcome, ReconcileReport } from "../shared/execution/outcomes";
import { maxSignalAgeSeconds } from "../shared/execution/signal-gate";
import type { ManualTradeInput, SubmitSignalInput } from "../shared/execution/submit";
import type { SignalSummary } from "../shared/execution/summary";
import type { ManagementOutcome, ManageTradesInput } from "../shared/execution/trade-management";
import type { TradePreview } from "../shared/execution/trade-preview";
import type { WithdrawalOutcome, WithdrawSignalInput } from "../shared/execution/withdrawal";
import type { MemberStopCause } from "../shared/membership/standing";
import type { MemberForgetOutcome, MemberStorageRecord } from "../shared/privacy/member-storage";
import { utcDay } from "../shared/risk/daily-loss";
import { tradingHoldOf, unlockAccount } from "./executor/account-locks";
import { reconcile } from "./executor/broker-reconciliation";
import { type CommunityConsistency, checkCommunityConsistency } from "./executor/consistency";
import { haltTrading, resumeTrading } from "./executor/kill-switch";
import { memberAccountFigures } from "./executor/member-account";
import { cancelMemberOrder } from "./executor/member-cancel";
import { forgetMemberStorage, memberStorageRecord } from "./executor/member-privacy";
import { cancelStoppedMemberEntries, cancelSuspendedCommunityEntries } from "./executor/member-stop";
import { alarmTimeFor, assembleExecutor, type ExecutorParts, nextAlarmAt } from "./executor/parts";
import { sendDueDigests } from "./executor/skip-digest";
import { sweep } from "./executor/sweeper";

/**
 * The single writer of one community's execution state (see durable-objects/README.md). Decisions that must not
 * race (duplicates, conflicts, counters, the kill switch, reservations) are made in synchronous code over the
 * object's own SQLite; D1, the queues and quotes are awaited only around them. Each RPC names its community and
 * is refused unless it is this object's own; the work itself is done by the parts in `executor/`.
 */
export class CommunityExecutor extends DurableObject<Env> {
  private readonly parts: ExecutorParts;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.parts = assembleExecutor(ctx.storage.sql, {
      id: ctx.id,
      env: () => this.env,
      scheduleAlarm: () => this.scheduleAlarm(),
      waitUntil: (promise) => ctx.waitUntil(promise),
    });
  }

  ping(): "pong" {
    return "pong";
  }

  // Trades in: a provider's signal to every follower, a member's own /trade, and what holds them (the kill switch
  // over the community, the circuit breaker's lock over a member).

  /**
   * Runs a signal through the gates, then fans it out to every enabled follower. Never throws for bad input.
   * A retry of a signal whose fan-out stopped part way continues it.
   */
  submitSignal(raw: SubmitSignalInput): Promise<SignalSummary> {
    return this.parts.pipeline.signal(raw);
  }

  /** A member's own confirmed /trade: the risk engine sizes and checks it for that member's account only. */
  submitManualTrade(raw: ManualTradeInput): Promise<SignalSummary> {
    return this.parts.pipeline.manualTrade(raw);
  }

  /** A member's /trade before Confirm: what would be placed now, or why not; nothing reserved, stored or sent. */
  previewTrade(raw: ManualTradeInput): Promise<TradePreview> {
    return this.parts.pipeline.previewTrade(raw);
  }

  /** The kill switch: stops fan-outs under way and cancels entries not yet sent; exits keep working. */
  async halt(input: { communityId: string; reason: string | null; actorId: string | null }) {
    return haltTrading(this.parts, this.parts.tenant(input.communityId), input);
  }

  async resume(input: { communityId: string; actorId: string | null }) {
    return resumeTrading(this.parts, this.parts.tenant(input.communityId), input);
  }

  /**
   * /risk unlock: lifts the circuit breaker's lock on a member's account, asked by the member or an admin (the
   * caller checked which), audited as risk.account_unlocked. The day's pause still holds until 00:00 UTC.
   */
  async unlockAccount(input: { communityId: string; userId: string; actorId: string }) {
    return unlockAccount(this.parts, this.parts.tenant(input.communityId), input);
  }

  /** A provider's edit takes the signal back: all its queued orders canceled, or nothing if any was sent. */
  withdrawSignal(raw: WithdrawSignalInput): Promise<WithdrawalOutcome> {
    return this.parts.withdrawals.withdraw(raw);
  }

  /**
   * A provider's trade-management message on one of their signals: cancels its unfilled entries, moves the stops
   * or closes part of its positions, per follower. The message id is the key: a replay never acts twice.
   */
  manageTrades(raw: ManageTradesInput): Promise<ManagementOutcome> {
    return this.parts.management.manage(raw);
  }

  /** For an edit of a channel message: what its management did, or null when it was not management. */
  managementOfMessage(input: { communityId: string; messageId: string }) {
    this.parts.tenant(input.communityId);
    return this.parts.management.managementOfMessage(input.messageId);
  }

  /** A member stopped trading here (left, suspended, lost the access role): their unsent entries are canceled. */
  memberStopped(input: { communityId: string; userId: string; cause: MemberStopCause }) {
    return cancelStoppedMemberEntries(this.parts, this.parts.tenant(input.communityId), input.userId, input.cause);
  }

  /** An operator suspended the community (already written to D1): entries not yet sent are canceled. */
  communitySuspended(input: { communityId: string }) {
    return cancelSuspendedCommunityEntries(this.parts, this.parts.tenant(input.communityId));
  }

  /** What holds a member's new entries now: the circuit breaker's lock, the day's pause (for /risk view). */
  tradingHold(input: { communityId: string; userId: string }) {
    this.parts.tenant(input.communityId);
    return tradingHoldOf(this.parts.local, input.userId, Date.now());
  }

  // Orders out: the queue's deliveries, the member's answers, and what comes back from the broker.

  /** Sends one order from ORDER_QUEUE (only if still queued) and says whether the message is done. */
  submitOrder(input: { communityId: string; orderId: string; attempt: number }): Promise<OrderSubmissionOutcome> {
    return this.parts.sending.submit(input);
  }

  /** The DLQ gave up on an order: it is `failed` (unless the broker has it after all), and its member is told. */
  orderDeadLettered(input: { communityId: string; orderId: string; lastError: string | null }) {
    return this.parts.sending.deadLettered(input);
  }

  /** The member's answer to a confirm-mode order (from the signed buttons). Only the order's owner may answer. */
  confirmOrder(input: { communityId: string; orderId: string; userId: string; decision: "confirm" | "cancel" }) {
    return this.parts.confirmations.answer(input);
  }

  /** [Close now] or [Keep] under a position an exit the member did not take left open. Only its member, once. */
  answerHeldPosition(input: { communityId: string; orderId: string; userId: string; decision: "close" | "keep" }) {
    return this.parts.held.answer(input);
  }

  /** /portfolio: equity, cash and the day's P&L of the account the member trades. */
  memberAccount(input: { communityId: string; userId: string }) {
    return memberAccountFigures(this.parts, input);
  }

  /** /privacy export: what this object keeps about the member (paper account, holds, trading day). */
  memberPrivacyRecord(input: { communityId: string; userId: string }): MemberStorageRecord {
    this.parts.tenant(input.communityId);
    return memberStorageRecord(this.parts, input.userId);
  }

  /** /privacy delete: forgets the member here, or says what of theirs still works (nothing is forgotten then). */
  forgetMember(input: { communityId: string; userId: string }): MemberForgetOutcome {
    this.parts.tenant(input.communityId);
    return forgetMemberStorage(this.parts, input.userId);
  }

  /** /cancel: a member cancels one of their own open orders. */
  cancelOrder(input: { communityId: string; orderId: string; userId: string }) {
    return cancelMemberOrder(this.parts, input);
  }

  /**
   * /close: a member's positions in one symbol (or all) closed at market, reduce-only, and their working orders on it
   * canceled. The interaction's id is the key: asked again, it answers the first answer and sends nothing.
   */
  closePositions(raw: MemberCloseInput): Promise<MemberCloseOutcome> {
    return this.parts.closes.close(raw);
  }

  /**
   * One alarm for every schedule: fill tracking's follow-ups, confirmation deadlines, and the sweeper's work
   * (fan-outs and outbox batches left behind, reservations at the end of their lifetime).
   */
  override async alarm(): Promise<void> {
    const { local, journal, book, tracking, confirmations } = this.parts;
    const communityId = local.getMeta("communityId");
    if (!communityId) return;
    const tenant = this.parts.tenant(communityId);
    const now = Date.now();
    await tracking.followUp(communityId, tenant, now);
    await confirmations.expire(tenant, now);
    await sweep(this.parts, tenant, now);
    local.prune(now);
    journal.prune(now);
    book.prune(now);
    this.parts.management.prune(now);
    this.parts.closes.prune(now);
    await this.scheduleAlarm();
  }

  /**
   * Reconciliation (the 5-minute cron): the sweeper's backstops, then every open order against the broker. It
   * also forgets management double-post keys past their window, should no alarm run.
   */
  async reconcile(input: { communityId: string }): Promise<ReconcileReport> {
    this.parts.management.prune(Date.now());
    return reconcile(this.parts, this.parts.tenant(input.communityId));
  }

  // Questions and settings.

  /** Provider signals counted against the plan today (UTC): the one counter that `/subscription` shows. */
  signalUsage(input: { communityId: string }): { day: string; signals: number } {
    this.parts.tenant(input.communityId);
    const day = utcDay(Date.now());
    return { day, signals: this.parts.local.counter(day, "signals") };
  }

  /** The operator consistency check: this executor's kill switch and open orders against D1, and the audit chain. */
  async checkConsistency(input: { communityId: string }): Promise<CommunityConsistency> {
    return checkCommunityConsistency(this.parts.local, this.parts.tenant(input.communityId));
  }

  /** The daily digest (cron): one DM per member and past day of the copies not made, for those who chose it. */
  async sendSkipDigests(input: { communityId: string }): Promise<{ sent: number }> {
    this.parts.tenant(input.communityId);
    return sendDueDigests(this.parts, input.communityId, Date.now());
  }

  /** The daily audit check: verifies this community's hash chain here, so the cron only fans out. */
  async verifyAuditChain(input: { communityId: string }): Promise<ChainVerification> {
    return this.parts.tenant(input.communityId).audit.verify();
  }

  /** Community settings the executor keeps a copy of (maximum signal age); the kill switch is read, not copied. */
  async syncSettings(input: { communityId: string }) {
    const tenant = this.parts.tenant(input.communityId);
    const community = await tenant.community.get();
    if (!community) return { ok: false };
    this.parts.local.setMeta("maxSignalAgeSeconds", String(maxSignalAgeSeconds(community.settings)));
    return { ok: true, halted: await this.parts.killSwitch.isHalted(tenant) };
  }

  /** The community was purged (30 days after its deletion): everything this object kept goes, its alarm too. */
  async purgeStorage(input: { communityId: string }): Promise<void> {
    this.parts.tenant(input.communityId);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  private async scheduleAlarm(): Promise<void> {
    const next = nextAlarmAt(this.parts, Date.now());
    if (next === null) return;
    const at = alarmTimeFor(next, Date.now());
    // Only ever earlier: work tracked meanwhile must not put off a run already set for work due before it.
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
