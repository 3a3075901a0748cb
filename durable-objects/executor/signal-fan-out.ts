import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { type ExecutionEntitlements, executionEntitlements } from "../../platform/execution/execution-entitlements";
import type { EventSink } from "../../shared/execution/events";
import { instrumentName } from "../../shared/execution/order-label";
import type { Follower } from "../../shared/execution/orders";
import { acceptedMessage, nothingExecuted, type SignalSummary } from "../../shared/execution/summary";
import type { Logger } from "../../shared/logging";
import { communitySuspendedMessage } from "../../shared/membership/standing";
import { ONCE_A_DAY, skippedCopyMessage } from "../../shared/notifications/order-messages";
import { opensExposureAction } from "../../shared/orders/legs";
import { utcDay } from "../../shared/risk/daily-loss";
import { namesExitQuantity, positionClosedBy, unknownExitQuantityMessage } from "../../shared/risk/provider-positions";
import type { RiskSignal } from "../../shared/risk/types";
import { planStep, type SkippedMember } from "./fan-out";
import type { FanOutJournal, FanOutRun } from "./fan-out-journal";
import type { HeldPositions, RefusedExit } from "./held-positions";
import type { KillSwitch } from "./kill-switch";
import type { ExecutorLocalState } from "./local-state";
import type { OrderBadges } from "./order-badges";
import { type Delivered, type OrderDispatch, SEND_WINDOW_MS } from "./order-dispatch";
import type { MemberNotice, OrderOutbox } from "./outbox";
import type { PaperDesk } from "./paper-desk";
import type { ProviderBook } from "./provider-book";
import type { SkipDigest } from "./skip-digest";

/** Who a signal reaches and the price its orders are sized at. */
interface Audience {
  quote: Awaited<ReturnType<PaperDesk["quoteFor"]>>;
  followers: Follower[];
}

/** Followers decided, persisted and queued per step; the kill switch is checked between steps. */
export const FAN_OUT_CHUNK = 500;
/**
 * Deliveries a run leaves in flight while it plans the next step. Two let one step's D1 write overlap the previous
 * step's queue send; each delivery is its own outbox batch, so their order does not matter.
 */
const DELIVERIES_IN_FLIGHT = 2;

export interface FanOutContext {
  env(): Env;
  local: ExecutorLocalState;
  killSwitch: KillSwitch;
  journal: FanOutJournal;
  outbox: OrderOutbox;
  dispatch: OrderDispatch;
  paper: PaperDesk;
  book: ProviderBook;
  badges: OrderBadges;
  digest: SkipDigest;
  held: HeldPositions;
  logger: Logger;
  events: EventSink;
  tenant(communityId: string): TenantRepository;
  scheduleAlarm(): Promise<void>;
}

/**
 * Executes accepted signals: the kill switch and the plan's signal quota,
 * then every enabled follower in steps of `FAN_OUT_CHUNK`. Each step decides
 * and reserves its followers, stages their orders in the outbox and moves
 * the journal's cursor in one synchronous write, then stores and sends them.
 * A run stopped by a failure or restart is continued from its cursor by a
 * retry of the same signal or by the sweeper, never started over.
 */
export class SignalFanOut {
  private readonly active = new Set<string>();

  constructor(private readonly ctx: FanOutContext) {}

  isActive(signalId: string): boolean {
    return this.active.has(signalId);
  }

  /** A run neither finished nor under way in this instance, which a retry or the sweeper may continue. */
  resumable(signalId: string): FanOutRun | null {
    const run = this.ctx.journal.get(signalId);
    if (!run || (run.status !== "pending" && run.status !== "running") || this.active.has(signalId)) return null;
    return run;
  }

  async run(run: FanOutRun): Promise<SignalSummary> {
    this.active.add(run.signalId);
    // The members' messages start once the run is over: sent meanwhile, their reads, writes and queue sends go to
    // D1 ahead of the signal's own outcome, which the provider's answer (a webhook's 202) waits for.
    let answered: () => void = () => {};
    const noticesAfter = new Promise<void>((resolve) => {
      answered = resolve;
    });
    try {
      // Set before the work, so a restart part way still wakes the sweeper.
      await this.ctx.scheduleAlarm();
      let entitlements: ExecutionEntitlements | null = null;
      let audience: Promise<Audience> | null = null;
      if (run.status === "pending") {
        // The followers and the quote are read while the kill switch and the plan are checked: a refused signal
        // wastes one read, an accepted one saves a round trip on its way to the first order.
        audience = this.audienceOf(run);
        audience.catch(() => undefined);
        const started = await this.start(run);
        if ("refused" in started) return started.refused;
        entitlements = started.entitlements;
      }
      await this.finishBatches(run, noticesAfter);
      if (!run.planned) await this.planTheRest(run, entitlements, audience, noticesAfter);
      return await this.finish(run);
    } finally {
      this.active.delete(run.signalId);
      // A turn later: the answer leaves the object before their work starts.
      setTimeout(answered, 0);
    }
  }

  /**
   * The kill switch, an exit quantity's provider position and the plan's quota, checked and counted
   * atomically (with the provider's position updated) before anything executes.
   */
  private async start(run: FanOutRun): Promise<{ refused: SignalSummary } | { entitlements: ExecutionEntitlements }> {
    const { local, journal, book, killSwitch } = this.ctx;
    const { input } = run;
    const tenant = this.ctx.tenant(input.communityId);
    // One read of the community's row answers both the switch and the plan.
    const row = tenant.community.get();
    const [halted, entitlements] = await Promise.all([
      killSwitch.isHalted(tenant, row),
      executionEntitlements(this.ctx.env(), input.communityId, row),
    ]);
    const refuse = async (code: string, reason: string) => ({ refused: await this.refuse(run, code, reason) });
    if (halted) {
      return refuse(
        "COMMUNITY_HALTED",
        "Trading is halted in this community (kill switch); the signal is not executed.",
      );
    }
    if (entitlements.suspension)
      return refuse("COMMUNITY_SUSPENDED", communitySuspendedMessage(entitlements.suspension));
    if (Date.now() - run.startedAt > SEND_WINDOW_MS) {
      return refuse(
        "SIGNAL_EXPIRED",
        "The executor was interrupted before this signal could run, and it is now too old to execute.",
      );
    }
    // Synchronous from here: two signals cannot both take the last one of today's quota.
    const { signal } = input;
    if (namesExitQuantity(signal)) {
      run.exitBase = positionClosedBy(book.held(input.providerUserId, signal), signal)?.quantity ?? null;
      if (run.exitBase === null) return refuse("EXIT_QUANTITY_UNKNOWN", unknownExitQuantityMessage(signal));
    }
    const now = Date.now();
    const day = utcDay(now);
    const quota = entitlements.checkSignals(local.counter(day, "signals"));
    if (!quota.allowed) {
      this.logger(run).warn("signal.quota_reached", { plan: entitlements.plan, limit: entitlements.signalsPerDay });
      return refuse(quota.code, quota.reason);
    }
    local.addCounter(day, "signals", 1);
    book.apply(input.providerUserId, run.signalId, signal, now);
    run.status = "running";
    journal.save(run, now);
    return { entitlements };
  }

  private async refuse(run: FanOutRun, code: string, reason: string): Promise<SignalSummary> {
    run.status = "refused";
    this.ctx.journal.save(run, Date.now());
    await this.ctx.tenant(run.input.communityId).execution.setSignalOutcome(run.signalId, "refused", reason, null);
    return nothingExecuted("refused", run.signalId, code, reason);
  }

  /** Batches a failed or interrupted attempt staged but did not finish. */
  private async finishBatches(run: FanOutRun, noticesAfter: Promise<void>): Promise<void> {
    for (const batch of this.ctx.outbox.ofSignal(run.signalId)) {
      this.count(run, await this.ctx.dispatch.recover(batch, Date.now(), noticesAfter));
    }
  }

  private async audienceOf(run: FanOutRun): Promise<Audience> {
    const { input } = run;
    const [quote, followers] = await Promise.all([
      this.ctx.paper.quoteFor(input.signal),
      this.ctx.tenant(input.communityId).execution.followersOf(input.providerUserId),
    ]);
    return { quote, followers };
  }

  /** `known` and `read`: the entitlements and audience read while `start` ran (a resumed run reads them again). */
  private async planTheRest(
    run: FanOutRun,
    known: ExecutionEntitlements | null,
    read: Promise<Audience> | null,
    noticesAfter: Promise<void>,
  ): Promise<void> {
    const { journal } = this.ctx;
    const { input } = run;
    const { signal } = input;
    const tenant = this.ctx.tenant(input.communityId);
    const [entitlements, { quote, followers }] = await Promise.all([
      known ?? executionEntitlements(this.ctx.env(), input.communityId),
      read ?? this.audienceOf(run),
    ]);
    const rest = run.cursor === null ? followers : followers.filter((f) => f.userId > (run.cursor as string));
    if (run.cursor === null) run.counts.followers = followers.length;
    if (Date.now() - run.startedAt > SEND_WINDOW_MS) {
      // Resumed too late to act on the signal: the followers not yet reached are reported, not traded.
      run.counts.notReached = (run.counts.notReached ?? 0) + rest.length;
      run.planned = true;
      journal.save(run, Date.now());
      this.logger(run).error("signal.fan_out_given_up", { alert: true, notReached: rest.length });
      return;
    }
    const [provider] = await Promise.all([
      this.ctx.badges.username(input.providerUserId),
      loadLiveMembers(entitlements, rest),
    ]);
    // Steps k-1 and k are delivered (D1 write, queue send) while step k+1 reads the kill switch and plans; never
    // more than DELIVERIES_IN_FLIGHT are left in flight, and none when this returns or throws.
    const delivering: Promise<unknown>[] = [];
    const handOver = async (next: Promise<unknown> | null): Promise<void> => {
      if (next) delivering.push(next);
      const keep = next ? DELIVERIES_IN_FLIGHT : 0;
      while (delivering.length > keep) {
        const failure = await delivering.shift();
        if (failure) throw failure;
      }
    };
    try {
      for (let i = 0; i < rest.length; i += FAN_OUT_CHUNK) {
        // Read from its one source before every step (a failed read counts as halted). A halt() already taken
        // here stops the run without a read, which could still see D1 from before that halt was written.
        const { killSwitch } = this.ctx;
        // The first step of a run `start` just checked needs no second read of the same row.
        const justChecked = i === 0 && known !== null;
        if (killSwitch.haltedLocally || (!justChecked && (await killSwitch.isHalted(tenant)))) {
          await handOver(null);
          run.counts.stoppedByHalt = true;
          run.planned = true;
          journal.save(run, Date.now());
          return;
        }
        if (run.counts.stoppedByHalt) break;
        const chunk = rest.slice(i, i + FAN_OUT_CHUNK);
        // One synchronous step: decisions, reservations, the staged orders and the cursor are written together.
        const now = Date.now();
        let refusedExits: RefusedExit[] = [];
        const { batch } = planStep(
          this.ctx,
          {
            communityId: input.communityId,
            signalId: run.signalId,
            signal,
            followers: chunk,
            quotePrice: quote?.last ?? null,
            entitlements,
            exitQuantityOf: { kind: "provider", position: run.exitBase },
            addsToRecentEntry: run.combinesWith !== null,
            now,
            counts: run.counts,
          },
          (skipped) => {
            const told = tellableSkips(skipped);
            refusedExits = refusedExitsOf(this.ctx.held, run.signalId, signal, provider, told);
            const offered = new Set(refusedExits.map((r) => r.userId));
            const rest = told.filter((member) => !offered.has(member.userId));
            return skipNotices(this.ctx.digest, run.signalId, signal, provider, rest, now);
          },
        );
        // Told after the step is staged: a refused exit of a held position gets [Close now] and [Keep].
        for (const refused of refusedExits) {
          const offered = await this.ctx.held.offerRefusedExit(input.communityId, refused);
          if (!offered) this.logger(run).info("held.exit_refused_nothing_held", { userId: refused.userId });
        }
        run.cursor = chunk[chunk.length - 1]?.userId ?? run.cursor;
        run.planned = i + FAN_OUT_CHUNK >= rest.length;
        journal.save(run, now);
        const next = batch
          ? this.ctx.dispatch.deliver(batch, noticesAfter).then(
              (result) => {
                this.count(run, result);
                return null;
              },
              (error: unknown) => error ?? new Error("delivery failed"),
            )
          : null;
        await handOver(next);
      }
      await handOver(null);
    } finally {
      // A failure part way: the other deliveries still finish before the run is let go (a retry recovers the rest).
      await Promise.all(delivering);
    }
    if (run.counts.stoppedByHalt) return;
    run.planned = true;
    journal.save(run, Date.now());
  }

  /** Orders that a delivery dropped no longer count as queued. */
  private count(run: FanOutRun, delivered: Delivered): void {
    const dropped = delivered.haltedEntries + delivered.lateEntries;
    if (dropped === 0) return;
    run.counts.ordersQueued = Math.max(0, run.counts.ordersQueued - dropped);
    if (delivered.haltedEntries > 0) {
      run.counts.stoppedByHalt = true;
      run.planned = true;
    }
    if (delivered.lateEntries > 0) run.counts.notReached = (run.counts.notReached ?? 0) + delivered.lateEntries;
    this.ctx.journal.save(run, Date.now());
  }

  private async finish(run: FanOutRun): Promise<SignalSummary> {
    const { input } = run;
    const summary: SignalSummary = {
      ...run.counts,
      status: "accepted",
      signalId: run.signalId,
      message: run.combinesWith
        ? `combined with your signal of a moment ago into one position; ${acceptedMessage(run.counts)}`
        : acceptedMessage(run.counts),
      ...(run.combinesWith ? { combinedWith: run.combinesWith } : {}),
    };
    const logger = this.logger(run);
    await this.ctx.tenant(input.communityId).execution.setSignalOutcome(run.signalId, "accepted", null, { ...summary });
    await this.ctx.events.publish({
      type: "signal.accepted",
      communityId: input.communityId,
      audience: "community",
      data: { signalId: run.signalId, ...run.counts },
      at: Date.now(),
    });
    run.status = "done";
    this.ctx.journal.save(run, Date.now());
    logger.info("signal.accepted", { ...run.counts });
    return summary;
  }

  private logger(run: FanOutRun): Logger {
    return this.ctx.logger.child({ communityId: run.input.communityId, signalId: run.signalId });
  }
}

/**
 * Reasons that hold for the rest of the day whatever the signal (the market is closed, a pause, a lock, no live
 * plan, the day's orders used up): the member is told once a day, not at every signal, so a provider posting
 * outside market hours never floods a follower's DMs.
 */
const STANDING_SKIPS: readonly string[] = [
  "outside_regular_hours",
  "daily_loss_limit",
  "circuit_breaker",
  "account_locked",
  "live_not_allowed",
  "max_orders_per_day",
  "access_role_missing",
];
/** Told once, when it happened (the suspension's own message), never at every signal. */
const NOT_TOLD_SKIPS: readonly string[] = ["member_suspended"];

/**
 * Every skipped copy goes to its member: by DM now ("each", the default), or into the daily digest. A skip that
 * paused the member is told by the pause's own message instead.
 */
function skipNotices(
  digest: SkipDigest,
  signalId: string,
  signal: RiskSignal,
  provider: string | null,
  skipped: readonly SkippedMember[],
  now: number,
): MemberNotice[] {
  const what = signalText(signal);
  const day = utcDay(now);
  const told = tellableSkips(skipped);
  digest.add(
    day,
    told
      .filter((member) => member.notices === "digest")
      .map((member) => ({ ...member, signalId, provider, signal: what })),
  );
  return told
    .filter((member) => member.notices === "each")
    .map((member) => {
      const standing = STANDING_SKIPS.includes(member.reason);
      const text = skippedCopyMessage({ provider, signal: what, reason: member.reason, message: member.message });
      return {
        userId: member.userId,
        key: standing ? `skip:${member.reason}:${day}:${member.userId}` : `skip:${signalId}:${member.userId}`,
        text: standing ? `${text} ${ONCE_A_DAY}` : text,
        mode: member.mode,
      };
    });
}

/** The skips a member is told about (a pause is told by its own message, a suspension when it happened). */
function tellableSkips(skipped: readonly SkippedMember[]): SkippedMember[] {
  return skipped.filter((member) => !member.paused && !NOT_TOLD_SKIPS.includes(member.reason));
}

function signalText(signal: RiskSignal): string {
  return `${signal.action.toUpperCase()} ${instrumentName(signal)}`;
}

/**
 * Exit copies refused for members who still hold the position: told with [Close now] and [Keep] instead of the
 * plain skip, and to digest members too (it is about a position they hold, not a copy they missed). Standing
 * reasons (the market closed, a halt of the day) stay with the plain once-a-day notice.
 */
function refusedExitsOf(
  held: HeldPositions,
  signalId: string,
  signal: RiskSignal,
  provider: string | null,
  told: readonly SkippedMember[],
): RefusedExit[] {
  if (opensExposureAction(signal.action)) return [];
  const instrument = { assetClass: signal.assetClass, symbol: signal.symbol, option: signal.option };
  return told
    .filter((member) => !STANDING_SKIPS.includes(member.reason) && held.holds(member.userId, instrument))
    .map((member) => ({
      signalId,
      userId: member.userId,
      instrument,
      provider,
      signal: signalText(signal),
      message: member.message,
      reason: member.reason,
      mode: member.mode,
    }));
}

/** Reads the trader plans of the members who asked for live trading (paper members need none). */
function loadLiveMembers(entitlements: ExecutionEntitlements, followers: readonly Follower[]): Promise<void> {
  return entitlements.loadMembers(followers.filter((f) => f.tradingMode === "live").map((f) => f.userId));
}
