import type { BillingContext } from "../../platform/billing/context";
import { type BillingCustomerRow, stateOf, subjectOf } from "../../platform/db/cross-community/billing-directory";
import {
  type BillingEvent,
  BillingEventSchema,
  type SubjectRef,
  type SubscriptionSnapshot,
} from "../../shared/billing/events";
import {
  cancellationText,
  downgradeScheduledText,
  type NoticeContext,
  pausedText,
  paymentFailedText,
  paymentSucceededText,
  refundText,
} from "../../shared/billing/notices";
import type { BillingProvider } from "../../shared/billing/provider";
import {
  accessEndsAt,
  applySnapshot,
  GRACE_PERIOD_MS,
  type SubscriptionState,
  type Transition,
} from "../../shared/billing/subscription-state";
import type { BillingProviderName, SubscriptionStatus, WebhookOutcome } from "../../shared/db/schema";
import { ServiceUnavailableError } from "../../shared/errors";
import { MANAGE_HINT, payerOf, sendDirectMessage } from "./notify";
import { billingProvider } from "./providers";
import { reconcileSubject } from "./reconcile";

/**
 * Applies one recorded webhook event (the billing-events consumer calls this
 * with the reference from the queue). Idempotent: a processed event is
 * skipped, and every step can run again after a failure without doing
 * anything twice (state writes are guarded by event time, notices carry
 * deterministic keys, plan changes re-check the applied plan).
 */

/** Thrown when an event cannot be applied yet (its subscription event has not arrived): retry later. */
export class BillingNotReadyError extends Error {}

/**
 * Events about money or subscriptions this product did not sell (no metadata of ours, a customer we never
 * created): recorded as processed with outcome `unattributed`, never retried, never an alert, because a Stripe
 * account or Polar organization may sell other things too.
 */
function unattributed(ctx: BillingContext, event: BillingEvent, reason: string): WebhookOutcome {
  ctx.logger.info("billing.event_unattributed", {
    reason,
    providerCustomerId: event.providerCustomerId ?? undefined,
    providerSubscriptionId: event.providerSubscriptionId ?? undefined,
  });
  return "unattributed";
}

export async function processBillingEvent(
  ctx: BillingContext,
  provider: BillingProviderName,
  eventId: string,
): Promise<WebhookOutcome | "already_processed" | "missing"> {
  const row = await ctx.dir.webhooks.find(provider, eventId);
  if (!row) {
    ctx.logger.warn("billing.event_missing", { provider, eventId });
    return "missing";
  }
  if (row.processedAt !== null) return "already_processed";
  const event = BillingEventSchema.parse(row.payload);
  const log = ctx.logger.child({ provider, eventId, eventType: event.type });

  let outcome: WebhookOutcome;
  switch (event.kind) {
    case "subscription":
      outcome = await applySubscriptionEvent({ ...ctx, logger: log }, event);
      break;
    case "payment_succeeded":
    case "refund":
      outcome = await announcePayment({ ...ctx, logger: log }, event);
      break;
    case "ignored":
      outcome = "ignored";
      break;
  }
  await ctx.dir.webhooks.markProcessed(provider, eventId, ctx.now(), outcome);
  return outcome;
}

async function applySubscriptionEvent(ctx: BillingContext, event: BillingEvent): Promise<WebhookOutcome> {
  if (!event.subscription) throw new Error(`Event ${event.eventId} has no subscription snapshot.`);
  const existing = await ctx.dir.subscriptions.find(event.provider, event.subscription.providerSubscriptionId);
  const snapshot = await tieBroken(ctx, event, existing ? stateOf(existing) : null);
  const knownCustomer = await ctx.dir.customers.find(event.provider, snapshot.providerCustomerId);
  const subject = existing
    ? subjectOf(existing)
    : (event.subject ?? (knownCustomer ? customerSubject(knownCustomer) : null));
  if (!subject) return unattributed(ctx, event, "no metadata of ours and an unknown customer");
  if (!(await subjectExists(ctx, subject))) return subjectMissing(ctx, event, subject);

  const previous = existing ? stateOf(existing) : null;
  const result = applySnapshot(subject.subject, previous, snapshot, event.occurredAt);
  if (result.outcome === "stale") {
    ctx.logger.info("billing.stale_event_ignored", {
      providerSubscriptionId: snapshot.providerSubscriptionId,
      occurredAt: event.occurredAt,
      lastEventAt: existing?.lastEventAt,
    });
    return "stale";
  }
  const customer =
    knownCustomer ??
    (await ctx.dir.customers.upsert({
      provider: event.provider,
      providerCustomerId: snapshot.providerCustomerId,
      subject,
    }));

  await announceTransitions(ctx, {
    subject,
    previousStatus: previous?.status ?? null,
    state: result.state,
    transitions: result.transitions,
    keyPrefix: `billing:${event.provider}:${snapshot.providerSubscriptionId}`,
    customerUserId: customer.userId,
  });
  await ctx.dir.subscriptions.save({
    provider: event.provider,
    providerSubscriptionId: snapshot.providerSubscriptionId,
    subject,
    customerId: customer.id,
    state: result.state,
  });
  await reconcileSubject(ctx, subject, {
    reason: event.type,
    provider: event.provider,
    subscriptionId: snapshot.providerSubscriptionId,
  });
  return "applied";
}

/** Our metadata names a community or user that no longer exists: someone may still be paying for it. */
function subjectMissing(ctx: BillingContext, event: BillingEvent, subject: SubjectRef): WebhookOutcome {
  ctx.logger.error("billing.subject_missing", {
    alert: true,
    subject,
    providerCustomerId: event.providerCustomerId ?? undefined,
    providerSubscriptionId: event.providerSubscriptionId ?? undefined,
  });
  return "unattributed";
}

async function announceTransitions(
  ctx: BillingContext,
  input: {
    subject: SubjectRef;
    previousStatus: SubscriptionStatus | null;
    state: SubscriptionState;
    transitions: readonly Transition[];
    keyPrefix: string;
    customerUserId: string | null;
  },
): Promise<void> {
  const { state, subject } = input;
  const endsAt = accessEndsAt(state);
  const notices: { key: string; content: (context: NoticeContext) => string }[] = [];
  for (const transition of input.transitions) {
    switch (transition) {
      case "entered_past_due":
        notices.push({
          key: `payment_failed:${state.pastDueSince}`,
          content: (context) => paymentFailedText((state.pastDueSince ?? ctx.now()) + GRACE_PERIOD_MS, context),
        });
        break;
      case "cancel_scheduled":
        notices.push({
          key: `cancel_scheduled:${endsAt}`,
          content: (context) => cancellationText(endsAt, context),
        });
        break;
      case "ended":
        notices.push({
          key: "ended",
          content: (context) => cancellationText(endsAt !== null && endsAt > ctx.now() ? endsAt : null, context),
        });
        break;
      case "paused":
        notices.push({
          key: `paused:${state.lastEventAt}`,
          content: (context) => pausedText(context, { afterTrial: input.previousStatus === "trialing" }),
        });
        break;
      case "downgrade_scheduled":
        notices.push({
          key: `downgrade:${state.pendingPlan}:${state.currentPeriodEnd}`,
          content: (context) => downgradeScheduledText(state.pendingPlan ?? "free", state.currentPeriodEnd, context),
        });
        break;
      default:
        break;
    }
  }
  if (notices.length === 0) return;
  const payer = await payerOf(ctx, subject, input.customerUserId);
  if (!payer) return;
  const context: NoticeContext = {
    catalog: ctx.catalog,
    subject: subject.subject,
    communityName: await communityNameOf(ctx, subject),
    plan: state.plan,
    manageHint: MANAGE_HINT,
  };
  for (const notice of notices) {
    await sendDirectMessage(ctx, {
      key: `${input.keyPrefix}:${notice.key}`,
      userId: payer,
      communityId: subject.communityId,
      content: notice.content(context),
    });
  }
}

/** Payment succeeded and refund notices go to the payer of the subscription or customer they belong to. */
async function announcePayment(ctx: BillingContext, event: BillingEvent): Promise<WebhookOutcome> {
  const amount = event.amount;
  if (!amount) return "ignored";
  const customer = event.providerCustomerId
    ? await ctx.dir.customers.find(event.provider, event.providerCustomerId)
    : null;
  const subscription = event.providerSubscriptionId
    ? await ctx.dir.subscriptions.find(event.provider, event.providerSubscriptionId)
    : null;
  const subject = subscription ? subjectOf(subscription) : customer ? customerSubject(customer) : event.subject;
  if (!subject) {
    // A payment can overtake the subscription event that names its customer: wait for that one only.
    const customerId = event.providerCustomerId;
    if (customerId && (await ctx.dir.webhooks.subscriptionEventPendingFor(event.provider, customerId))) {
      throw new BillingNotReadyError(`${event.provider} event ${event.eventId} waits for its customer's events.`);
    }
    return unattributed(ctx, event, customerId ? "an unknown customer" : "no customer");
  }
  if (!(await subjectExists(ctx, subject))) return subjectMissing(ctx, event, subject);
  const payer = await payerOf(ctx, subject, customer?.userId ?? subject.userId);
  if (!payer) return "applied";
  const communityName = await communityNameOf(ctx, subject);
  const content =
    event.kind === "refund"
      ? refundText(amount, { subject: subject.subject, communityName })
      : paymentSucceededText(amount, {
          catalog: ctx.catalog,
          subject: subject.subject,
          communityName,
          plan: event.paidPlan,
          manageHint: MANAGE_HINT,
        });
  await sendDirectMessage(ctx, {
    key: `billing:${event.provider}:${event.kind}:${event.objectId ?? event.eventId}`,
    userId: payer,
    communityId: subject.communityId,
    content,
  });
  return "applied";
}

/**
 * Stripe's event times have one-second resolution: two different snapshots of
 * one subscription can carry the same time, and their order is then unknown.
 * The provider's current state breaks the tie.
 */
async function tieBroken(
  ctx: BillingContext,
  event: BillingEvent,
  stored: SubscriptionState | null,
): Promise<SubscriptionSnapshot> {
  const snapshot = event.subscription as SubscriptionSnapshot;
  if (!stored || event.occurredAt !== stored.lastEventAt || sameState(stored, snapshot)) return snapshot;
  let provider: BillingProvider;
  try {
    provider = billingProvider(ctx.config, event.provider, "api");
  } catch (error) {
    if (!(error instanceof ServiceUnavailableError)) throw error;
    ctx.logger.warn("billing.tie_unresolved", { providerSubscriptionId: snapshot.providerSubscriptionId });
    return snapshot;
  }
  const current = await provider.getSubscription(snapshot.providerSubscriptionId);
  ctx.logger.info("billing.tie_resolved_from_provider", { providerSubscriptionId: snapshot.providerSubscriptionId });
  return { ...current, plan: current.plan ?? snapshot.plan };
}

function sameState(stored: SubscriptionState, snapshot: SubscriptionSnapshot): boolean {
  return (
    stored.status === snapshot.status &&
    stored.cancelAtPeriodEnd === snapshot.cancelAtPeriodEnd &&
    stored.trialEnd === snapshot.trialEnd &&
    (snapshot.plan === null || stored.plan === snapshot.plan || stored.pendingPlan === snapshot.plan)
  );
}

function customerSubject(customer: BillingCustomerRow): SubjectRef {
  return { subject: customer.subject, communityId: customer.communityId, userId: customer.userId };
}

async function subjectExists(ctx: BillingContext, subject: SubjectRef): Promise<boolean> {
  if (subject.subject === "community") {
    return subject.communityId !== null && (await ctx.dir.people.community(subject.communityId)) !== null;
  }
  return subject.userId !== null && (await ctx.dir.people.userExists(subject.userId));
}

async function communityNameOf(ctx: BillingContext, subject: SubjectRef): Promise<string | null> {
  if (subject.subject !== "community" || !subject.communityId) return null;
  return (await ctx.dir.people.community(subject.communityId))?.name ?? null;
}
