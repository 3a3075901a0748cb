import type { BillingContext } from "../../platform/billing/context";
import { loadEntitlements } from "../../platform/billing/load-entitlements";
import { type SubscriptionRow, stateOf } from "../../platform/db/cross-community/billing-directory";
import { billingFor } from "../../platform/db/tenant/billing";
import { traderPlanGrantStore } from "../../platform/db/trader-plan-grants";
import { signalsCountedToday } from "../../platform/execution/signal-usage";
import { memberEntitlements } from "../../shared/billing/entitlements";
import type { SubjectRef } from "../../shared/billing/events";
import {
  BILLING_INTERVALS,
  type BillingInterval,
  type BillingSubjectKind,
  nextPlanUp,
  planIdsOf,
  planName,
  priceOf,
  trialDaysOf,
} from "../../shared/billing/plans";
import { entitledPlan } from "../../shared/billing/subscription-state";
import { traderPlanGrantView } from "./trader-plan-grants";

/** What the billing API and /subscription show: plan, limits, usage and subscriptions. */

export interface SubscriptionView {
  provider: string;
  providerSubscriptionId: string;
  plan: string;
  /** The plan this subscription grants right now. */
  entitledPlan: string;
  status: string;
  interval: string | null;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  /** When a scheduled cancellation takes effect (may precede the period end). */
  cancelAt: number | null;
  /** When the provider ended the subscription. */
  endedAt: number | null;
  trialEnd: number | null;
  pastDueSince: number | null;
  pendingPlan: string | null;
}

export interface PlanOffer {
  plan: string;
  name: string;
  prices: Partial<Record<BillingInterval, number>>;
  /** The trial a checkout of this plan gets now: 0 once the subject has had a subscription. */
  trialDays: number;
}

function subscriptionView(row: SubscriptionRow, now: number): SubscriptionView {
  return {
    provider: row.provider,
    providerSubscriptionId: row.providerSubscriptionId,
    plan: row.plan,
    entitledPlan: entitledPlan(stateOf(row), now),
    status: row.status,
    interval: row.interval,
    currentPeriodEnd: row.currentPeriodEnd,
    cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    cancelAt: row.cancelAt,
    endedAt: row.endedAt,
    trialEnd: row.trialEnd,
    pastDueSince: row.pastDueSince,
    pendingPlan: row.pendingPlan,
  };
}

function planOffers(ctx: BillingContext, subject: BillingSubjectKind, firstSubscription: boolean): PlanOffer[] {
  return planIdsOf(subject).map((plan) => {
    const prices: Partial<Record<BillingInterval, number>> = {};
    for (const interval of BILLING_INTERVALS) {
      const price = priceOf(ctx.catalog, subject, plan, interval);
      if (price !== null) prices[interval] = price;
    }
    const trialDays = firstSubscription ? trialDaysOf(ctx.catalog, subject, plan) : 0;
    return { plan, name: planName(ctx.catalog, subject, plan), prices, trialDays };
  });
}

/** The trial of the plan a subject is offered first (the next one up), as `trialDays` on the summary. */
function nextTrialDays(ctx: BillingContext, subject: BillingSubjectKind, plan: string, firstSubscription: boolean) {
  const next = nextPlanUp(subject, plan);
  return firstSubscription && next ? trialDaysOf(ctx.catalog, subject, next) : 0;
}

export async function communityBilling(ctx: BillingContext, communityId: string) {
  const ent = await loadEntitlements(ctx.db, { communityId }, { config: ctx.config });
  const subject: SubjectRef = { subject: "community", communityId, userId: null };
  const [usage, signalsToday, rows] = await Promise.all([
    billingFor(ctx.db, communityId).usage(),
    signalsCountedToday(ctx.env, communityId),
    ctx.dir.subscriptions.forSubject(subject),
  ]);
  return {
    communityId,
    plan: ent.communityPlan,
    planName: ent.communityPlanName,
    limits: ent.limits,
    usage: { members: usage.followingMembers, providers: usage.providers, signalsToday },
    subscriptions: rows.map((row) => subscriptionView(row, ctx.now())),
    checkoutProvider: ctx.config.BILLING_PROVIDER,
    plans: planOffers(ctx, "community", rows.length === 0),
    trialDays: nextTrialDays(ctx, "community", ent.communityPlan, rows.length === 0),
  };
}

export async function traderBilling(ctx: BillingContext, userId: string) {
  const subject: SubjectRef = { subject: "trader", communityId: null, userId };
  const now = ctx.now();
  const [paid, grant, rows, live] = await Promise.all([
    ctx.dir.traders.plan(userId),
    traderPlanGrantStore(ctx.db).get(userId),
    ctx.dir.subscriptions.forSubject(subject),
    ctx.dir.traders.liveConnectionsOf(userId),
  ]);
  const member = memberEntitlements(userId, paid?.plan ?? "free", ctx.catalog, {
    grant: grant ? { plan: grant.plan, until: grant.until } : null,
    now,
  });
  const { liveTrading, maxLiveConnections, analytics, priorityExecution } = member;
  const plan = member.traderPlan;
  return {
    userId,
    plan,
    planName: member.traderPlanName,
    paidPlan: member.paidTraderPlan,
    complimentary:
      member.complimentaryUntil !== null && grant
        ? { ...traderPlanGrantView(grant), planName: member.traderPlanName }
        : null,
    features: { liveTrading, maxLiveConnections, analytics, priorityExecution },
    usage: { liveConnections: live.length },
    subscriptions: rows.map((row) => subscriptionView(row, now)),
    checkoutProvider: ctx.config.BILLING_PROVIDER,
    plans: planOffers(ctx, "trader", rows.length === 0),
    trialDays: nextTrialDays(ctx, "trader", plan, rows.length === 0),
  };
}
