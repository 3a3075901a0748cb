import type { BillingProviderName } from "../db/schema";
import { AppError, ConflictError, NotFoundError, UnprocessableError } from "../errors";
import type { BillingEvent, SubjectRef, SubscriptionSnapshot } from "./events";
import { type BillingInterval, formatPrice } from "./plans";

/**
 * One interface over the payment providers (Stripe, Polar). BILLING_PROVIDER
 * picks the one new checkouts use; webhooks and existing customers always go
 * to the provider that owns them, so a migration loses nothing.
 */

export interface BillingCustomer {
  subject: SubjectRef;
  /** The customer's id at this provider, when one exists (re-subscribing, the portal). */
  providerCustomerId: string | null;
  email?: string | null;
}

export interface ReturnUrls {
  successUrl: string;
  cancelUrl: string;
}

export interface CheckoutOptions {
  /** A trial for a first subscription; null or 0: none. */
  trialDays?: number | null;
}

export interface CheckoutSession {
  id: string;
  url: string;
}

export interface Invoice {
  id: string;
  status: string;
  amount: number;
  currency: string;
  createdAt: number;
  url: string | null;
}

/** Why money goes back (Polar's manual refund reasons; Stripe's three are derived from them). */
export const REFUND_REASONS = [
  "customer_request",
  "duplicate",
  "fraudulent",
  "service_disruption",
  "satisfaction_guarantee",
  "other",
] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

export interface RefundRequest {
  /** The payment: a Stripe invoice (`in_`), payment intent (`pi_`) or charge (`ch_`), or a Polar order id. */
  paymentId: string;
  /** The provider customers the payment must belong to (the subject's); any other payment is not found. */
  customerIds: readonly string[];
  /** Smallest currency unit; null refunds everything still refundable. */
  amount: number | null;
  reason: RefundReason;
  comment?: string | null;
  metadata: Record<string, string>;
  /** Passed to providers that dedupe requests by it (Stripe's Idempotency-Key). */
  idempotencyKey?: string | null;
}

export interface RefundResult {
  refundId: string;
  paymentId: string;
  providerCustomerId: string;
  amount: number;
  currency: string;
  /** The provider's refund status (`succeeded`, `pending`, …). */
  status: string;
  /** Nothing of the payment is left to refund. */
  full: boolean;
  /** The object key the provider's refund webhook is announced under, so the payer hears of it once. */
  noticeKey: string;
}

export interface WebhookRequest {
  rawBody: string;
  headers: Headers;
}

export interface BillingProvider {
  readonly name: BillingProviderName;
  createCheckout(
    customer: BillingCustomer,
    plan: string,
    interval: BillingInterval,
    returnUrls: ReturnUrls,
    options?: CheckoutOptions,
  ): Promise<CheckoutSession>;
  createPortalSession(providerCustomerId: string, returnUrl: string): Promise<{ url: string }>;
  getSubscription(providerSubscriptionId: string): Promise<SubscriptionSnapshot>;
  cancelSubscription(providerSubscriptionId: string, atPeriodEnd: boolean): Promise<SubscriptionSnapshot>;
  listInvoices(providerCustomerId: string): Promise<Invoice[]>;
  /**
   * Refunds all or part of a payment through the provider's refund endpoint, after checking it belongs to one of
   * `customerIds` (else 404 PAYMENT_NOT_FOUND) and that the amount is still refundable (409 ALREADY_REFUNDED,
   * 422 REFUND_TOO_LARGE).
   */
  refund(request: RefundRequest): Promise<RefundResult>;
  /** Verifies the raw body against the signature headers, then normalizes the event. */
  verifyWebhook(request: WebhookRequest): Promise<BillingEvent>;
}

/** 401: the signature is missing or wrong. */
export class WebhookSignatureError extends AppError {
  constructor(message = "The webhook signature is missing or does not match.") {
    super(401, "WEBHOOK_SIGNATURE_INVALID", message);
  }
}

/** 401: the signed timestamp is outside the 5-minute tolerance (a replay or a skewed clock). */
export class WebhookTimestampError extends AppError {
  constructor() {
    super(401, "WEBHOOK_TIMESTAMP_STALE", "The webhook timestamp is outside the 5-minute tolerance.");
  }
}

export function paymentNotFound(paymentId: string): AppError {
  return new NotFoundError(`No payment ${paymentId} of this billing account was found.`, "PAYMENT_NOT_FOUND");
}

export function alreadyRefunded(paymentId: string): AppError {
  return new ConflictError(`Payment ${paymentId} is already fully refunded.`, "ALREADY_REFUNDED");
}

export function refundTooLarge(amount: number, refundable: number, currency: string): AppError {
  return new UnprocessableError(
    `A refund of ${formatPrice(amount, undefined, currency)} is more than the ${formatPrice(refundable, undefined, currency)} still refundable on this payment.`,
    { code: "REFUND_TOO_LARGE", details: [{ refundable, currency }] },
  );
}

/** Ends every provider failure's message: the provider's own text is logged under that request id, never shown. */
export const QUOTE_REQUEST_ID = "Quote the request id when reporting it.";

/** Standard Webhooks and Stripe both allow five minutes of clock difference. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
