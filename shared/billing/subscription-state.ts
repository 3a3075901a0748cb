import type { SubscriptionStatus } from "../db/schema";
import type { SubscriptionSnapshot } from "./events";
import { type BillingInterval, type BillingSubjectKind, FREE_PLAN, normalizePlan, planRank } from "./plans";

/**
 * The subscription state machine, pure. A provider snapshot moves the stored
 * state (never backwards in time), and `entitledPlan` says which plan the state
 * grants at a given moment:
 *
 *   trialing ─► active ─► past_due ─► (7-day grace) ─► free
 *      │           │  ▲        │
 *      │           │  └────────┘ payment recovered
 *      │           └─► cancel at period end / downgrade ─► at period end: free / lower plan
 *      └─► trial over without payment (canceled) ─► free
 *   incomplete, paused, unpaid after the grace, canceled after the paid period ─► free
 *
 * A cancellation dated inside the period (`cancelAt`) ends the plan then, and a subscription the provider
 * ended (`endedAt`: a trial ended early, a Polar revoke) grants nothing from that moment on.
 */

export const DAY_MS = 24 * 60 * 60 * 1000;
/** past_due keeps the plan this long after the first failed payment. */
export const GRACE_PERIOD_MS = 7 * DAY_MS;
/** A trial past its end with no news from the provider keeps its plan this much longer. */
export const TRIAL_SETTLE_MS = DAY_MS;

export interface SubscriptionState {
  status: SubscriptionStatus;
  /** The plan paid for in the current period. */
  plan: string;
  interval: BillingInterval | null;
  currentPeriodEnd: number | null;
  /** A cancellation is scheduled inside the current period: at `cancelAt`, else at `currentPeriodEnd`. */
  cancelAtPeriodEnd: boolean;
  /** When a scheduled cancellation takes effect, when the provider dates it (it may precede the period end). */
  cancelAt: number | null;
  /** When the provider ended the subscription: nothing is granted from then on. */
  endedAt: number | null;
  trialEnd: number | null;
  /** When the subscription first fell behind on payment (start of the grace period). */
  pastDueSince: number | null;
  /** A downgrade that takes effect at `currentPeriodEnd`. */
  pendingPlan: string | null;
  /** The provider's time of the last applied event. */
  lastEventAt: number;
}

export type Transition =
  | "started"
  | "entered_past_due"
  | "payment_recovered"
  | "cancel_scheduled"
  | "cancel_withdrawn"
  | "ended"
  | "downgrade_scheduled"
  | "plan_raised"
  | "paused";

export type ApplyResult =
  | { outcome: "stale" }
  | { outcome: "applied"; state: SubscriptionState; transitions: Transition[] };

const DUNNING = new Set<SubscriptionStatus>(["past_due", "unpaid"]);
const PAYING = new Set<SubscriptionStatus>(["trialing", "active", "past_due", "unpaid"]);

/**
 * Applies a provider snapshot taken at `occurredAt`. Snapshots older than the
 * stored state are stale (out-of-order delivery cannot move a plan back); one
 * at the same time is applied again, which changes nothing (redelivery).
 */
export function applySnapshot(
  subject: BillingSubjectKind,
  previous: SubscriptionState | null,
  snapshot: SubscriptionSnapshot,
  occurredAt: number,
): ApplyResult {
  if (previous && occurredAt < previous.lastEventAt) return { outcome: "stale" };

  const status = snapshot.status;
  const offered = normalizePlan(subject, snapshot.plan ?? previous?.plan);
  const samePeriod =
    previous?.currentPeriodEnd != null &&
    (snapshot.currentPeriodEnd === null || snapshot.currentPeriodEnd <= previous.currentPeriodEnd);
  const paidPlan = previous?.plan ?? offered;
  // A lower plan inside a paid period waits for the period's end; an upgrade applies now.
  const downgradeWaits =
    previous !== null &&
    samePeriod &&
    PAYING.has(status) &&
    planRank(subject, offered) < planRank(subject, paidPlan) &&
    previous.currentPeriodEnd !== null &&
    occurredAt < previous.currentPeriodEnd;
  // A change the provider itself schedules for the next period (Polar's pending_update).
  const scheduled =
    snapshot.pendingPlan !== null && PAYING.has(status) ? normalizePlan(subject, snapshot.pendingPlan) : null;

  const state: SubscriptionState = {
    status,
    plan: downgradeWaits ? paidPlan : offered,
    interval: snapshot.interval ?? previous?.interval ?? null,
    currentPeriodEnd: downgradeWaits ? (previous?.currentPeriodEnd ?? null) : snapshot.currentPeriodEnd,
    cancelAtPeriodEnd: snapshot.cancelAtPeriodEnd,
    cancelAt: snapshot.cancelAt,
    endedAt: snapshot.endedAt,
    trialEnd: snapshot.trialEnd,
    pastDueSince: DUNNING.has(status)
      ? (previous?.pastDueSince ?? occurredAt)
      : status === "canceled"
        ? (previous?.pastDueSince ?? null)
        : null,
    pendingPlan: downgradeWaits ? offered : scheduled !== null && scheduled !== offered ? scheduled : null,
    lastEventAt: Math.max(previous?.lastEventAt ?? occurredAt, occurredAt),
  };
  return { outcome: "applied", state, transitions: transitionsBetween(subject, previous, state) };
}

function transitionsBetween(
  subject: BillingSubjectKind,
  before: SubscriptionState | null,
  after: SubscriptionState,
): Transition[] {
  const transitions: Transition[] = [];
  if (!before) {
    if (after.status !== "canceled") transitions.push("started");
  } else if (planRank(subject, after.plan) > planRank(subject, before.plan)) {
    transitions.push("plan_raised");
  }
  const wasDunning = before !== null && DUNNING.has(before.status);
  if (DUNNING.has(after.status) && !wasDunning) transitions.push("entered_past_due");
  if (wasDunning && (after.status === "active" || after.status === "trialing")) transitions.push("payment_recovered");
  const cancelMoved = before?.cancelAtPeriodEnd === true && before.cancelAt !== after.cancelAt;
  if (after.cancelAtPeriodEnd && (!before?.cancelAtPeriodEnd || cancelMoved) && after.status !== "canceled") {
    transitions.push("cancel_scheduled");
  }
  if (!after.cancelAtPeriodEnd && before?.cancelAtPeriodEnd && after.status !== "canceled") {
    transitions.push("cancel_withdrawn");
  }
  // A cancellation the payer scheduled was announced already; an unannounced end (revoked, trial over) is news.
  if (after.status === "canceled" && before !== null && before.status !== "canceled" && !before.cancelAtPeriodEnd) {
    transitions.push("ended");
  }
  if (
    after.pendingPlan &&
    after.pendingPlan !== before?.pendingPlan &&
    planRank(subject, after.pendingPlan) < planRank(subject, after.plan)
  ) {
    transitions.push("downgrade_scheduled");
  }
  if (after.status === "paused" && before?.status !== "paused") transitions.push("paused");
  return transitions;
}

/** The plan the state grants at `now` (free when it grants nothing). */
export function entitledPlan(state: SubscriptionState, now: number): string {
  if (state.endedAt !== null && now >= state.endedAt) return FREE_PLAN;
  switch (state.status) {
    case "incomplete":
    case "paused":
      return FREE_PLAN;
    case "past_due":
    case "unpaid":
      return withinGrace(state, now) ? planForPeriod(state, now) : FREE_PLAN;
    case "canceled": {
      if (state.pastDueSince !== null) return withinGrace(state, now) ? planForPeriod(state, now) : FREE_PLAN;
      const end = earliest(state.currentPeriodEnd, state.cancelAt);
      return end !== null && now < end ? state.plan : FREE_PLAN;
    }
    case "trialing": {
      const end = state.trialEnd ?? state.currentPeriodEnd;
      if (end !== null && now >= end + TRIAL_SETTLE_MS) return FREE_PLAN;
      return planForPeriod(state, now);
    }
    case "active":
      return planForPeriod(state, now);
  }
}

/**
 * When the plan stops because of a cancellation or an end: the provider's end, else the scheduled
 * cancellation (dated, or at the period end), else the paid period of a canceled subscription; null: none known.
 */
export function accessEndsAt(state: SubscriptionState): number | null {
  const scheduled = state.cancelAt ?? (state.cancelAtPeriodEnd ? state.currentPeriodEnd : null);
  return earliest(state.endedAt, scheduled, state.status === "canceled" ? state.currentPeriodEnd : null);
}

function earliest(...times: (number | null)[]): number | null {
  const known = times.filter((time): time is number => time !== null);
  return known.length === 0 ? null : Math.min(...known);
}

function withinGrace(state: SubscriptionState, now: number): boolean {
  return state.pastDueSince !== null && now < state.pastDueSince + GRACE_PERIOD_MS;
}

function planForPeriod(state: SubscriptionState, now: number): string {
  if (state.cancelAt !== null && now >= state.cancelAt) return FREE_PLAN;
  if (state.currentPeriodEnd === null || now < state.currentPeriodEnd) return state.plan;
  if (state.cancelAtPeriodEnd) return FREE_PLAN;
  return state.pendingPlan ?? state.plan;
}

/** The next scheduled change of the entitled plan after `now`, if one is known. */
export function nextScheduledChange(state: SubscriptionState, now: number): { at: number; plan: string } | null {
  const current = entitledPlan(state, now);
  const candidates: number[] = [];
  if (state.currentPeriodEnd !== null && state.currentPeriodEnd > now) candidates.push(state.currentPeriodEnd);
  for (const at of [state.cancelAt, state.endedAt]) if (at !== null && at > now) candidates.push(at);
  if (state.pastDueSince !== null && state.pastDueSince + GRACE_PERIOD_MS > now) {
    candidates.push(state.pastDueSince + GRACE_PERIOD_MS);
  }
  for (const at of candidates.sort((a, b) => a - b)) {
    const plan = entitledPlan(state, at);
    if (plan !== current) return { at, plan };
  }
  return null;
}

/** The highest plan a set of subscriptions grants (free for none). */
export function highestEntitledPlan(
  subject: BillingSubjectKind,
  states: readonly SubscriptionState[],
  now: number,
): string {
  let best = FREE_PLAN;
  for (const state of states) {
    const plan = entitledPlan(state, now);
    if (planRank(subject, plan) > planRank(subject, best)) best = plan;
  }
  return best;
}

/** Statuses of a subscription that still runs (a new checkout would be a second subscription). */
export function isLive(state: Pick<SubscriptionState, "status">): boolean {
  return PAYING.has(state.status);
}
