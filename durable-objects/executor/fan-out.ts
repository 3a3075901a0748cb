import type { ExecutionEntitlements } from "../../platform/execution/execution-entitlements";
import { awaitsConfirmation } from "../../shared/execution/follow-mode";
import type { Follower } from "../../shared/execution/orders";
import type { FanOutCounts } from "../../shared/execution/summary";
import { isRegularSession } from "../../shared/market/new-york";
import { standingRefusal } from "../../shared/membership/standing";
import { opensExposure } from "../../shared/orders/legs";
import { utcDay } from "../../shared/risk/daily-loss";
import { decide } from "../../shared/risk/decide";
import { effectiveLimits, type MemberRiskSettings, parseMemberRiskSettings } from "../../shared/risk/limits";
import type { DecideInput, RiskSignal, Sizing, TradingHold } from "../../shared/risk/types";
import { closeOrderFor, openToClose } from "./close-orders";
import type { AccountLock, ExecutorLocalState, UserReservation } from "./local-state";
import type { MemberNotice, OrderOutbox, OutboxBatch, PausedMember, PlannedOrder } from "./outbox";
import type { PaperDesk } from "./paper-desk";
import { StepMembers } from "./step-members";

export interface StepInput {
  communityId: string;
  signalId: string;
  signal: RiskSignal;
  followers: readonly Follower[];
  quotePrice: number | null;
  entitlements: ExecutionEntitlements;
  /** Whose units an exit's quantity is in (see `DecideInput.exitQuantityOf`). */
  exitQuantityOf: DecideInput["exitQuantityOf"];
  /** A same-direction add combined with the provider's entry of a moment ago (see `DecideInput.addsToRecentEntry`). */
  addsToRecentEntry?: boolean;
  now: number;
  counts: FanOutCounts;
  /** A preview (/trade before Confirm): decided as for real, but nothing is reserved, counted, paused or staged. */
  preview?: boolean;
}

/**
 * One step of a fan-out, or a member's own trade (a step of one): decides the followers' orders and stages them
 * in the outbox with the members' notices (`noticesFor` the skipped), in one synchronous stretch, so that what was
 * decided and reserved is never lost if what follows fails. Returns the orders decided, the members skipped, and
 * the batch to deliver (null when there is nothing to send or tell).
 */
export function planStep(
  parts: { local: ExecutorLocalState; paper: PaperDesk; outbox: OrderOutbox },
  input: StepInput,
  noticesFor: (skipped: readonly SkippedMember[]) => MemberNotice[] = () => [],
): { orders: PlannedOrder[]; skipped: SkippedMember[]; batch: OutboxBatch | null } {
  const planned = planFollowerOrders({ ...input, local: parts.local, paper: parts.paper });
  const notices = noticesFor(planned.skipped);
  const batch =
    !input.preview && (planned.orders.length > 0 || planned.pausedMembers.length > 0 || notices.length > 0)
      ? parts.outbox.stage(
          {
            communityId: input.communityId,
            signalId: input.signalId,
            phase: "planned",
            orders: planned.orders,
            paused: planned.pausedMembers,
            notices,
          },
          input.now,
        )
      : null;
  return { orders: planned.orders, skipped: planned.skipped, batch };
}

/**
 * Runs the risk engine for a chunk of followers, synchronously, reserving
 * each decision's exposure and counting it against today's orders, so that
 * two signals in flight can never both pass a limit only one of them fits.
 * Client order ids are hashed afterwards (async), outside the critical part.
 */
function planFollowerOrders(input: StepInput & { local: ExecutorLocalState; paper: PaperDesk }) {
  const { local, now, counts } = input;
  const day = utcDay(now);
  const members = new StepMembers(
    local,
    input.paper,
    input.followers.map((f) => f.userId),
    day,
    now,
  );
  const memberSettings = new MemberSettings();
  const planned: PlannedOrder[] = [];
  const pausedMembers: PausedMember[] = [];
  const skipped: SkippedMember[] = [];
  const communityLimits = input.entitlements.communityRiskDefaults;
  const marketOpen = isRegularSession(now);
  const skip = (reason: string) => {
    const key = reason as keyof typeof counts.skipped;
    counts.skipped[key] = (counts.skipped[key] ?? 0) + 1;
  };

  for (const follower of input.followers) {
    // Suspended, or without the community's access role: no copy at all (their open positions keep their exits).
    const refused = follower.standing ? standingRefusal(input.entitlements.access, follower.standing) : null;
    if (refused) {
      skip(refused.reason);
      skipped.push({
        userId: follower.userId,
        reason: refused.reason,
        message: refused.message,
        mode: follower.tradingMode,
        notices: follower.skipNotices ?? "each",
        paused: false,
      });
      continue;
    }
    const { account, reserved, lock, paused } = members.get(follower.userId);
    const limits = effectiveLimits(communityLimits, memberSettings.of(follower.riskSettings)).limits;
    const decision = decide({
      signal: input.signal,
      sizing: sizingOf(follower),
      limits,
      member: {
        tradingMode: follower.tradingMode,
        paperOnly: !input.entitlements.liveTradingFor(follower.userId),
      },
      accounts: [account],
      quotePrice: input.quotePrice,
      marketOpen,
      reserved: {
        notional: reserved.notional,
        openPositions: reserved.openPositions,
        ordersToday: 0,
        symbols: reserved.symbols,
        closing: reserved.closing,
        entries: reserved.entries,
      },
      hold: tradingHold(lock, paused),
      // Disarmed while locked, and for the rest of the day it tripped on (an unlock must not trip it again).
      circuitBreakerArmed: lock === null || (lock.unlockedAt !== null && lock.day !== day),
      addsToRecentEntry: input.addsToRecentEntry === true,
      exitQuantityOf: input.exitQuantityOf,
      now,
    });
    if (decision.kind === "skip") {
      skip(decision.reason);
      skipped.push({
        userId: follower.userId,
        reason: decision.reason,
        message: decision.message,
        mode: account.mode,
        notices: follower.skipNotices ?? "each",
        paused: decision.flattenAndPauseUntil !== undefined,
      });
      if (decision.flattenAndPauseUntil && !input.preview) {
        local.pause(follower.userId, decision.flattenAndPauseUntil, decision.reason);
        const lossPercent = Number(decision.details.lossPercent ?? 0);
        if (decision.lockAccount) local.lock(follower.userId, now, lossPercent);
        for (const order of flattenOrders(input.signalId, follower.userId, input.paper, decision.reason, reserved)) {
          // A flatten closes the whole position: exits in flight must not close it again.
          members.reserve(order.id, order.userId, {
            notional: 0,
            openPositions: 0,
            symbol: null,
            closing: order.closing,
          });
          planned.push(order.planned);
        }
        pausedMembers.push({
          userId: follower.userId,
          reason: decision.reason,
          until: decision.flattenAndPauseUntil,
          locked: decision.lockAccount === true,
          lossPercent,
          limitPercent: Number(decision.details.limitPercent ?? 0),
        });
      }
      continue;
    }
    const entry = decision.intents.find((i) => i.leg === "entry" || i.leg === "exit") ?? decision.intents[0];
    if (!entry) continue;
    const orderId = crypto.randomUUID();
    members.reserve(orderId, follower.userId, decision.reservation);
    members.countOrders(follower.userId, decision.reservation.ordersToday || 1);
    counts.ordersQueued += 1;
    const awaitingConfirmation = awaitsConfirmation(follower, opensExposure(entry));
    if (awaitingConfirmation) counts.ordersAwaitingConfirmation = (counts.ordersAwaitingConfirmation ?? 0) + 1;
    if (decision.reductions.length > 0) counts.ordersReduced += 1;
    planned.push({
      id: orderId,
      signalId: input.signalId,
      userId: follower.userId,
      accountRef: decision.accountId,
      broker: "paper",
      leg: entry.leg,
      parentOrderId: null,
      symbol: entry.symbol,
      assetClass: entry.assetClass,
      intent: {
        ...entry,
        orderClass: decision.orderClass,
        exits: decision.intents.filter((i) => i !== entry),
        reductions: decision.reductions,
        notes: decision.notes,
        ...(decision.sizing ? { sizingNote: decision.sizing.explanation } : {}),
        closes: decision.closes,
        accountMode: account.mode,
        awaitingConfirmation,
      },
      side: entry.side,
      orderType: entry.orderType,
      quantity: entry.quantity,
      limitPrice: entry.limitPrice,
      stopPrice: entry.stopPrice,
      cause: "signal",
    });
  }

  if (!input.preview) members.write();
  return { orders: planned, pausedMembers, skipped };
}

/** A follower whose decision was a skip, with the member's words for it. */
export interface SkippedMember {
  userId: string;
  reason: string;
  message: string;
  /** The account the copy would have traded in. */
  mode: "paper" | "live";
  /** How the member hears about it: a DM now, or the daily digest. */
  notices: "each" | "digest";
  /** The skip tripped a limit that pauses the member (told by its own message, not as a skipped copy). */
  paused: boolean;
}

/** The lock comes first: it outlasts the day's pause, and only the member or an admin lifts it. */
function tradingHold(lock: AccountLock | null, paused: { until: number; reason: string } | null): TradingHold | null {
  if (lock && lock.unlockedAt === null) {
    return {
      reason: "account_locked",
      message: `Your account is locked since your circuit breaker tripped on ${lock.day} (down ${lock.lossPercent}% that day): nothing new is placed until you unlock it with /risk unlock or an admin does.`,
    };
  }
  if (!paused) return null;
  const reason = paused.reason === "circuit_breaker" ? "circuit_breaker" : "daily_loss_limit";
  const why =
    reason === "circuit_breaker" ? "your circuit breaker tripped today" : "your daily loss limit was reached today";
  return {
    reason,
    message: `Trading is paused until ${new Date(paused.until).toISOString()} (00:00 UTC): ${why}. Exits still go out.`,
  };
}

/** Members' own risk settings, parsed once per distinct settings in a step (most members share theirs). */
class MemberSettings {
  private readonly parsed = new Map<string, MemberRiskSettings | null>();

  of(settings: Record<string, unknown>): MemberRiskSettings | null {
    const key = JSON.stringify(settings);
    let member = this.parsed.get(key);
    if (member === undefined) {
      member = parseOrNull(settings);
      this.parsed.set(key, member);
    }
    return member;
  }
}

function parseOrNull(settings: Record<string, unknown>): MemberRiskSettings | null {
  try {
    return parseMemberRiskSettings(settings);
  } catch {
    return null;
  }
}

function sizingOf(follower: Follower): Sizing | null {
  const amount = follower.amount;
  if (!follower.sizingMode || amount === null || !(amount > 0)) return null;
  switch (follower.sizingMode) {
    case "fixed_quantity":
      return { mode: "fixed_quantity", quantity: amount };
    case "fixed_notional":
      return { mode: "fixed_notional", notional: amount };
    case "percent_of_equity":
      return { mode: "percent_of_equity", percent: amount };
    case "risk_percent":
      return { mode: "risk_percent", percent: amount };
    case "multiplier":
      return { mode: "multiplier", multiplier: amount };
  }
}

/**
 * Market orders that close every position of a member whose daily loss limit or circuit breaker tripped, less
 * what exits in flight (an earlier flatten included) are already closing.
 */
function flattenOrders(
  signalId: string,
  userId: string,
  paper: PaperDesk,
  reason: string,
  reserved: Pick<UserReservation, "closing">,
) {
  return openToClose(paper.positions(userId), reserved).map((toClose) => {
    const leg = `flatten-${toClose.position.symbol}`.slice(0, 40);
    const { planned, closing } = closeOrderFor(toClose, {
      signalId,
      userId,
      leg,
      cause: `flatten_${reason}`,
      flattenReason: reason,
    });
    return { id: planned.id, userId, planned, closing };
  });
}
