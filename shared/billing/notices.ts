import { applyingTraderPlan, type ComplimentaryGrant } from "./entitlements";
import { type BillingSubjectKind, formatPrice, isTraderPlan, type PlanCatalog, planName } from "./plans";
import {
  DAY_MS,
  GRACE_PERIOD_MS,
  highestEntitledPlan,
  nextScheduledChange,
  type SubscriptionState,
} from "./subscription-state";

/**
 * What the payer and members are told, and when. Time-based notices (dunning
 * reminders, renewal and trial reminders, the 7-day warning before live
 * features go) are recomputed by the lifecycle cron from the stored state; each
 * has a stable key recorded in `subscriptions.notices`, so it goes out once.
 */

/** Dunning reminders on days 3, 5 and 7 of the 7-day grace period (day 1 starts at the failed payment). */
const DUNNING_REMINDER_DAYS = [3, 5, 7] as const;
const RENEWAL_NOTICE_MS = 3 * DAY_MS;
const TRIAL_NOTICE_MS = 3 * DAY_MS;
const LIVE_FEATURES_WARNING_MS = 7 * DAY_MS;

export type ScheduledNotice =
  | { kind: "dunning_reminder"; key: string; supersedes: string[]; day: number; graceEndsAt: number }
  | { kind: "renewal_soon"; key: string; supersedes: string[]; renewsAt: number }
  | { kind: "trial_ending"; key: string; supersedes: string[]; endsAt: number }
  | { kind: "live_features_warning"; key: string; supersedes: string[]; at: number; fromPlan: string; toPlan: string };

export function dunningKey(pastDueSince: number, day: number): string {
  return `dunning:${pastDueSince}:day${day}`;
}

/**
 * Notices due at `now` that `sent` (the subscription's notices record) does not
 * hold yet. `siblings` are the subject's other subscriptions: a warning is only
 * due when the subject as a whole loses live features.
 */
export function dueNotices(input: {
  subject: BillingSubjectKind;
  state: SubscriptionState;
  siblings?: readonly SubscriptionState[];
  sent: Record<string, unknown>;
  now: number;
  catalog: PlanCatalog;
  /** A trader's complimentary grant: the plan they keep counts it while it runs. */
  grant?: ComplimentaryGrant | null;
}): ScheduledNotice[] {
  const { state, now, sent } = input;
  const due: ScheduledNotice[] = [];

  const since = state.pastDueSince;
  if ((state.status === "past_due" || state.status === "unpaid") && since !== null) {
    const graceEndsAt = since + GRACE_PERIOD_MS;
    const reached = DUNNING_REMINDER_DAYS.filter((day) => now >= since + (day - 1) * DAY_MS);
    const latest = reached.at(-1);
    if (latest !== undefined && now < graceEndsAt) {
      const key = dunningKey(since, latest);
      const earlier = reached.slice(0, -1).map((day) => dunningKey(since, day));
      if (!(key in sent)) due.push({ kind: "dunning_reminder", key, supersedes: earlier, day: latest, graceEndsAt });
    }
  }

  if (state.status === "active" && !state.cancelAtPeriodEnd && state.currentPeriodEnd !== null) {
    const renewsAt = state.currentPeriodEnd;
    const key = `renewal:${renewsAt}`;
    if (now >= renewsAt - RENEWAL_NOTICE_MS && now < renewsAt && !(key in sent)) {
      due.push({ kind: "renewal_soon", key, supersedes: [], renewsAt });
    }
  }

  if (state.status === "trialing" && state.trialEnd !== null) {
    const endsAt = state.trialEnd;
    const key = `trial_ending:${endsAt}`;
    if (now >= endsAt - TRIAL_NOTICE_MS && now < endsAt && !(key in sent)) {
      due.push({ kind: "trial_ending", key, supersedes: [], endsAt });
    }
  }

  if (input.subject === "trader") {
    const change = nextScheduledChange(state, now);
    if (change && change.at - now <= LIVE_FEATURES_WARNING_MS) {
      const all = [state, ...(input.siblings ?? [])];
      const applying = (at: number) => applyingTraderPlan(highestEntitledPlan("trader", all, at), input.grant, at).plan;
      const fromPlan = applying(now);
      const toPlan = applying(change.at);
      const key = `live_warning:${change.at}:${toPlan}`;
      if (losesLiveFeatures(input.catalog, fromPlan, toPlan) && !(key in sent)) {
        due.push({ kind: "live_features_warning", key, supersedes: [], at: change.at, fromPlan, toPlan });
      }
    }
  }
  return due;
}

/** True when going from one trader plan to another takes live trading away or lowers the connection cap. */
export function losesLiveFeatures(catalog: PlanCatalog, fromPlan: string, toPlan: string): boolean {
  const from = catalog.trader[isTraderPlan(fromPlan) ? fromPlan : "free"].features;
  const to = catalog.trader[isTraderPlan(toPlan) ? toPlan : "free"].features;
  if (from.liveTrading && !to.liveTrading) return true;
  if (!to.liveTrading) return false;
  const cap = (value: number | null) => value ?? Number.POSITIVE_INFINITY;
  return cap(to.maxLiveConnections) < cap(from.maxLiveConnections);
}

/** Discord renders `<t:unix:D>` as a date in the reader's own locale. */
export function discordDate(ms: number): string {
  return `<t:${Math.floor(ms / 1000)}:D>`;
}

function subjectLabel(subject: BillingSubjectKind, communityName: string | null): string {
  return subject === "community" ? `**${communityName ?? "your community"}**'s` : "your trader";
}

export interface NoticeContext {
  catalog: PlanCatalog;
  subject: BillingSubjectKind;
  communityName: string | null;
  plan: string;
  /** Where to manage billing: a portal link or the /subscription command. */
  manageHint: string;
}

export function scheduledNoticeText(notice: ScheduledNotice, context: NoticeContext): string {
  const label = subjectLabel(context.subject, context.communityName);
  const name = planName(context.catalog, context.subject, context.plan);
  switch (notice.kind) {
    case "dunning_reminder":
      return notice.day === 7
        ? `Reminder: the payment for ${label} ${name} plan is still outstanding. Today is the last day of the grace period; after ${discordDate(notice.graceEndsAt)} the plan falls to Free. ${context.manageHint}`
        : `Reminder (day ${notice.day} of 7): the payment for ${label} ${name} plan failed and is still outstanding. The plan stays active until ${discordDate(notice.graceEndsAt)}. ${context.manageHint}`;
    case "renewal_soon":
      return `${capitalize(label)} ${name} plan renews on ${discordDate(notice.renewsAt)}. ${context.manageHint}`;
    case "trial_ending":
      return `The trial of ${label} ${name} plan ends on ${discordDate(notice.endsAt)}. Add a payment method to keep it. ${context.manageHint}`;
    case "live_features_warning":
      return `Heads-up: on ${discordDate(notice.at)} your trader plan changes from ${planName(context.catalog, "trader", notice.fromPlan)} to ${planName(context.catalog, "trader", notice.toPlan)}. Live trading beyond what that plan allows will be switched off and extra broker connections disabled (open positions stay as they are). ${context.manageHint}`;
  }
}

/** `plan` may be unknown when a payment overtakes its subscription event. */
export function paymentSucceededText(
  amount: { value: number; currency: string },
  context: Omit<NoticeContext, "plan"> & { plan: string | null },
): string {
  const name = context.plan ? `${planName(context.catalog, context.subject, context.plan)} ` : "";
  return `Payment received: ${formatPrice(amount.value, undefined, amount.currency)} for ${subjectLabel(context.subject, context.communityName)} ${name}plan. Thank you!`;
}

export function refundText(
  amount: { value: number; currency: string },
  context: Pick<NoticeContext, "subject" | "communityName">,
): string {
  return `A refund of ${formatPrice(amount.value, undefined, amount.currency)} was issued for ${subjectLabel(context.subject, context.communityName)} plan. It can take 5–10 days to reach your account.`;
}

export function paymentFailedText(graceEndsAt: number, context: NoticeContext): string {
  return `The payment for ${subjectLabel(context.subject, context.communityName)} ${planName(context.catalog, context.subject, context.plan)} plan failed. The plan stays active until ${discordDate(graceEndsAt)}; please update the payment method before then. ${context.manageHint}`;
}

export function cancellationText(endsAt: number | null, context: NoticeContext): string {
  const name = planName(context.catalog, context.subject, context.plan);
  return endsAt && endsAt > 0
    ? `${capitalize(subjectLabel(context.subject, context.communityName))} ${name} subscription is canceled. The plan stays active until ${discordDate(endsAt)}, then falls to Free. ${context.manageHint}`
    : `${capitalize(subjectLabel(context.subject, context.communityName))} ${name} subscription has ended. ${context.manageHint}`;
}

/** A paused subscription grants nothing; after a trial that ended without a payment method, nothing was charged. */
export function pausedText(context: NoticeContext, options: { afterTrial: boolean }): string {
  const what = `${capitalize(subjectLabel(context.subject, context.communityName))} ${planName(context.catalog, context.subject, context.plan)} subscription is paused`;
  return options.afterTrial
    ? `${what}: the trial ended without a payment method, so nothing was charged and the plan is Free until it resumes. Add a payment method in the billing portal to resume it. ${context.manageHint}`
    : `${what}, so the plan is Free until it resumes. ${context.manageHint}`;
}

export function downgradeScheduledText(toPlan: string, at: number | null, context: NoticeContext): string {
  const when = at ? `on ${discordDate(at)}` : "at the end of the paid period";
  return `${capitalize(subjectLabel(context.subject, context.communityName))} plan changes from ${planName(context.catalog, context.subject, context.plan)} to ${planName(context.catalog, context.subject, toPlan)} ${when}. ${context.manageHint}`;
}

export function planChangedText(fromPlan: string, toPlan: string, context: NoticeContext): string {
  return `${capitalize(subjectLabel(context.subject, context.communityName))} plan is now ${planName(context.catalog, context.subject, toPlan)} (was ${planName(context.catalog, context.subject, fromPlan)}).`;
}

/** An operator's complimentary trader plan, told to the trader when it raises their plan or changes its end. */
export function complimentaryGrantedText(
  catalog: PlanCatalog,
  fromPlan: string,
  toPlan: string,
  until: number,
): string {
  const name = planName(catalog, "trader", toPlan);
  return fromPlan === toPlan
    ? `Your complimentary ${name} trader plan now runs until ${discordDate(until)}.`
    : `Your trader plan is now ${name}, complimentary until ${discordDate(until)} (was ${planName(catalog, "trader", fromPlan)}). Nothing is charged for it.`;
}

/** A paid plan changed while a complimentary one still applies above it. */
export function complimentaryStillAppliesText(catalog: PlanCatalog, plan: string, until: number): string {
  return `Your complimentary ${planName(catalog, "trader", plan)} plan still applies until ${discordDate(until)}.`;
}

/** An operator ended a complimentary trader plan before its time. */
export function complimentaryEndedText(catalog: PlanCatalog, endedPlan: string, nowPlan: string): string {
  return `Your complimentary ${planName(catalog, "trader", endedPlan)} trader plan has ended; your trader plan is now ${planName(catalog, "trader", nowPlan)}. Run /subscription to see your options.`;
}

export function liveFeaturesRemovedText(input: {
  catalog: PlanCatalog;
  toPlan: string;
  communitiesSwitchedToPaper: number;
  connectionsDisabled: number;
}): string {
  const parts: string[] = [];
  if (input.communitiesSwitchedToPaper > 0) {
    parts.push(
      `live trading is switched off (paper trading) in ${input.communitiesSwitchedToPaper} ${input.communitiesSwitchedToPaper === 1 ? "community" : "communities"}`,
    );
  }
  if (input.connectionsDisabled > 0) {
    parts.push(
      `${input.connectionsDisabled} broker connection${input.connectionsDisabled === 1 ? " was" : "s were"} disabled (not deleted)`,
    );
  }
  const what = parts.length > 0 ? `: ${parts.join(" and ")}` : "";
  return `Your trader plan is now ${planName(input.catalog, "trader", input.toPlan)}${what}. Open positions are left as they are. Run /subscription to upgrade again.`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
