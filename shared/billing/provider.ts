import type { BillingProviderName } from "../db/schema";
import { AppError } from "../errors";
import type { BillingEvent, SubjectRef, SubscriptionSnapshot } from "./events";
import type { BillingInterval } from "./plans";

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

/** Ends every provider failure's message: the provider's own text is logged under that request id, never shown. */
export const QUOTE_REQUEST_ID = "Quote the request id when reporting it.";

/** Standard Webhooks and Stripe both allow five minutes of clock difference. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export const BILLING_PROVIDER_NAMES: readonly BillingProviderName[] = ["stripe", "polar"];
