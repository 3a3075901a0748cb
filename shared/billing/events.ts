import { z } from "zod";
import { BILLING_PROVIDERS, SUBSCRIPTION_STATUSES } from "../db/schema";
import { BILLING_INTERVALS, BILLING_SUBJECT_KINDS } from "./plans";

/**
 * The provider-neutral shape every verified webhook is turned into. It is what
 * `webhook_events.payload` stores and what the billing-events consumer applies,
 * so both providers share one state machine.
 */

/** A subscription as the provider described it at the event's time. Times are epoch ms. */
const SubscriptionSnapshotSchema = z.object({
  providerSubscriptionId: z.string().min(1),
  providerCustomerId: z.string().min(1),
  status: z.enum(SUBSCRIPTION_STATUSES),
  /** Our plan id, from the price/product id or the checkout metadata; null when neither is ours. */
  plan: z.string().nullable(),
  interval: z.enum(BILLING_INTERVALS).nullable(),
  currentPeriodEnd: z.number().int().nullable(),
  /** A cancellation is scheduled inside the current period (at `cancelAt`, else at the period end). */
  cancelAtPeriodEnd: z.boolean(),
  /** When a scheduled cancellation takes effect (Stripe `cancel_at`, Polar `ends_at`); may precede the period end. */
  cancelAt: z.number().int().nullable().default(null),
  /** When the provider ended the subscription (`ended_at`; a Polar revoke ends it at the event). */
  endedAt: z.number().int().nullable().default(null),
  trialEnd: z.number().int().nullable(),
  /** Our plan of a change the provider applies at the next period (Polar `pending_update.product_id`). */
  pendingPlan: z.string().nullable().default(null),
});
export type SubscriptionSnapshot = z.infer<typeof SubscriptionSnapshotSchema>;

/** Who the subscription is for, as our checkout recorded it in the provider's metadata. */
const SubjectRefSchema = z.object({
  subject: z.enum(BILLING_SUBJECT_KINDS),
  communityId: z.string().min(1).nullable(),
  userId: z.string().min(1).nullable(),
});
export type SubjectRef = z.infer<typeof SubjectRefSchema>;

const BILLING_EVENT_KINDS = [
  /** A subscription snapshot to apply. */
  "subscription",
  /** A payment went through (the payer is told). */
  "payment_succeeded",
  /** Money went back to the payer (the payer is told). */
  "refund",
  /** Verified and recorded, but nothing to apply (unknown or uninteresting types). */
  "ignored",
] as const;
export type BillingEventKind = (typeof BILLING_EVENT_KINDS)[number];

export const BillingEventSchema = z.object({
  provider: z.enum(BILLING_PROVIDERS),
  /** The provider's event id (Stripe `evt_...`, Polar's `webhook-id`): unique per provider. */
  eventId: z.string().min(1).max(255),
  /** The provider's own event type, e.g. `customer.subscription.updated` or `subscription.active`. */
  type: z.string().min(1).max(255),
  kind: z.enum(BILLING_EVENT_KINDS),
  /** When the provider says the event happened (epoch ms): orders snapshots of one subscription. */
  occurredAt: z.number().int(),
  subject: SubjectRefSchema.nullable(),
  providerCustomerId: z.string().nullable(),
  providerSubscriptionId: z.string().nullable(),
  subscription: SubscriptionSnapshotSchema.nullable(),
  /** Payments: our plan the money paid for (the invoice line's price, the order's product); null when unknown. */
  paidPlan: z.string().nullable().default(null),
  /** Payments and refunds: the amount in the smallest currency unit (a refund's own amount, not a running total). */
  amount: z.object({ value: z.number().int(), currency: z.string().min(3).max(3) }).nullable(),
  /** The invoice, order, charge or refund the event is about. */
  objectId: z.string().nullable(),
});
export type BillingEvent = z.infer<typeof BillingEventSchema>;

const METADATA_SUBJECT = "dte_subject";
const METADATA_COMMUNITY = "dte_community_id";
const METADATA_USER = "dte_user_id";
const METADATA_PLAN = "dte_plan";

/** Metadata our checkouts attach, so a webhook can name the community or trader it is for. */
export function checkoutMetadata(subject: SubjectRef, plan: string): Record<string, string> {
  return {
    [METADATA_SUBJECT]: subject.subject,
    ...(subject.communityId ? { [METADATA_COMMUNITY]: subject.communityId } : {}),
    ...(subject.userId ? { [METADATA_USER]: subject.userId } : {}),
    [METADATA_PLAN]: plan,
  };
}

export function subjectFromMetadata(metadata: unknown): SubjectRef | null {
  if (!metadata || typeof metadata !== "object") return null;
  const record = metadata as Record<string, unknown>;
  const subject = record[METADATA_SUBJECT];
  const communityId = stringOrNull(record[METADATA_COMMUNITY]);
  const userId = stringOrNull(record[METADATA_USER]);
  if (subject === "community" && communityId) return { subject, communityId, userId };
  if (subject === "trader" && userId) return { subject, communityId: null, userId };
  return null;
}

export function planFromMetadata(metadata: unknown): string | null {
  if (!metadata || typeof metadata !== "object") return null;
  return stringOrNull((metadata as Record<string, unknown>)[METADATA_PLAN]);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}
