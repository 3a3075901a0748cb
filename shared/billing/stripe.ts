import Stripe from "stripe";
import { z } from "zod";
import type { SubscriptionStatus } from "../db/schema";
import {
  type AppError,
  ConflictError,
  InvalidJsonError,
  UnprocessableError,
  UpstreamError,
  ValidationError,
} from "../errors";
import {
  type BillingEvent,
  type BillingEventKind,
  checkoutMetadata,
  planFromMetadata,
  type SubscriptionSnapshot,
  subjectFromMetadata,
} from "./events";
import { type BillingInterval, type ProviderPriceIds, planForPriceId, priceKey } from "./plans";
import {
  alreadyRefunded,
  type BillingCustomer,
  type BillingProvider,
  type CheckoutOptions,
  type CheckoutSession,
  type Invoice,
  paymentNotFound,
  QUOTE_REQUEST_ID,
  type RefundReason,
  type RefundRequest,
  type RefundResult,
  type ReturnUrls,
  refundTooLarge,
  WEBHOOK_TOLERANCE_SECONDS,
  type WebhookRequest,
  WebhookSignatureError,
  WebhookTimestampError,
} from "./provider";

/**
 * Stripe through its SDK on Workers: the fetch HTTP client, and webhook
 * verification with the SubtleCrypto provider (the sync form throws on Workers).
 * Subscription objects are read with a lenient schema, because fields moved
 * between API versions (`current_period_end` now lives on subscription items,
 * an invoice's subscription under `parent.subscription_details`).
 */

export interface StripeProviderConfig {
  secretKey?: string;
  webhookSecret?: string;
  /** STRIPE_API_BASE, e.g. https://api.stripe.com or http://localhost:12111 for a fake. */
  apiBase: string;
  priceIds: ProviderPriceIds;
}

const idOrObject = z.union([z.string(), z.looseObject({ id: z.string() })]);
const idOf = (value: z.infer<typeof idOrObject> | null | undefined): string | null =>
  value == null ? null : typeof value === "string" ? value : value.id;

const StripeSubscriptionSchema = z.looseObject({
  id: z.string(),
  customer: idOrObject,
  status: z.string(),
  current_period_end: z.number().nullish(),
  cancel_at_period_end: z.boolean().nullish(),
  cancel_at: z.number().nullish(),
  ended_at: z.number().nullish(),
  trial_end: z.number().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  items: z.looseObject({
    data: z.array(
      z.looseObject({
        current_period_end: z.number().nullish(),
        price: z.looseObject({
          id: z.string(),
          recurring: z.looseObject({ interval: z.string() }).nullish(),
        }),
      }),
    ),
  }),
});
type StripeSubscriptionObject = z.infer<typeof StripeSubscriptionSchema>;

const StripeInvoiceSchema = z.looseObject({
  id: z.string(),
  customer: idOrObject.nullish(),
  amount_paid: z.number().int(),
  currency: z.string(),
  subscription: idOrObject.nullish(),
  parent: z
    .looseObject({
      subscription_details: z
        .looseObject({ subscription: idOrObject.nullish(), metadata: z.record(z.string(), z.string()).nullish() })
        .nullish(),
    })
    .nullish(),
  subscription_details: z.looseObject({ metadata: z.record(z.string(), z.string()).nullish() }).nullish(),
  lines: z
    .looseObject({
      data: z.array(
        z.looseObject({
          amount: z.number().int(),
          // API versions from 2025-03-31 on name the price here; older ones in `price` (and `plan`).
          pricing: z.looseObject({ price_details: z.looseObject({ price: idOrObject }).nullish() }).nullish(),
          price: idOrObject.nullish(),
          plan: idOrObject.nullish(),
        }),
      ),
    })
    .nullish(),
});

const StripeChargeSchema = z.looseObject({
  id: z.string(),
  customer: idOrObject.nullish(),
  amount: z.number().int(),
  amount_captured: z.number().int().nullish(),
  amount_refunded: z.number().int(),
  currency: z.string(),
});
type StripeChargeObject = z.infer<typeof StripeChargeSchema>;

/** What a Stripe payment id looks like: an invoice, a payment intent or a charge. */
export const STRIPE_PAYMENT_ID = /^(in|pi|ch)_[A-Za-z0-9]+$/;

const StripeRefundSchema = z.looseObject({
  id: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  status: z.string().nullish(),
});

/** An invoice with its payments expanded (API versions from 2025-03-31 on). */
const StripeInvoicePaymentsSchema = z.looseObject({
  id: z.string(),
  customer: idOrObject.nullish(),
  payments: z
    .looseObject({
      data: z.array(
        z.looseObject({
          status: z.string(),
          payment: z.looseObject({ charge: idOrObject.nullish(), payment_intent: idOrObject.nullish() }),
        }),
      ),
    })
    .nullish(),
});

/** Stripe takes three refund reasons; ours are kept in the refund's metadata. */
const STRIPE_REFUND_REASON: Record<RefundReason, "duplicate" | "fraudulent" | "requested_by_customer"> = {
  customer_request: "requested_by_customer",
  duplicate: "duplicate",
  fraudulent: "fraudulent",
  service_disruption: "requested_by_customer",
  satisfaction_guarantee: "requested_by_customer",
  other: "requested_by_customer",
};

const EventEnvelopeSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  created: z.number().int(),
  data: z.looseObject({
    object: z.record(z.string(), z.unknown()),
    /** The changed fields' values before this event (update events only). */
    previous_attributes: z.record(z.string(), z.unknown()).nullish(),
  }),
});

const SUBSCRIPTION_EVENTS = new Set([
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
  "customer.subscription.trial_will_end",
]);
/** Stripe sends both for one invoice; the notice key (the invoice id) makes the payer hear it once. */
const PAYMENT_SUCCEEDED_EVENTS = new Set(["invoice.paid", "invoice.payment_succeeded"]);
const REFUND_EVENTS = new Set(["charge.refunded"]);

/**
 * `incomplete_expired` has ended; `paused` (a trial that ended without a payment method, or the pause endpoint)
 * is its own state: no payment was attempted, so it is not dunning, and it grants nothing until resumed.
 */
const STATUS_MAP: Record<string, SubscriptionStatus> = {
  trialing: "trialing",
  active: "active",
  past_due: "past_due",
  canceled: "canceled",
  incomplete: "incomplete",
  incomplete_expired: "canceled",
  unpaid: "unpaid",
  paused: "paused",
};

export class StripeBillingProvider implements BillingProvider {
  readonly name = "stripe" as const;

  constructor(private readonly config: StripeProviderConfig) {}

  async createCheckout(
    customer: BillingCustomer,
    plan: string,
    interval: BillingInterval,
    returnUrls: ReturnUrls,
    options: CheckoutOptions = {},
  ): Promise<CheckoutSession> {
    const price = this.priceIdFor(customer, plan, interval);
    const metadata = checkoutMetadata(customer.subject, plan);
    const session = await this.call("create a checkout session", (stripe) =>
      stripe.checkout.sessions.create({
        mode: "subscription",
        line_items: [{ price, quantity: 1 }],
        success_url: returnUrls.successUrl,
        cancel_url: returnUrls.cancelUrl,
        client_reference_id: customer.subject.communityId ?? customer.subject.userId ?? undefined,
        ...(customer.providerCustomerId
          ? { customer: customer.providerCustomerId }
          : customer.email
            ? { customer_email: customer.email }
            : {}),
        metadata,
        subscription_data: {
          metadata,
          ...(options.trialDays ? { trial_period_days: options.trialDays } : {}),
        },
      }),
    );
    if (!session.url) {
      throw new UpstreamError("Stripe", `Stripe created a checkout session without a URL. ${QUOTE_REQUEST_ID}`);
    }
    return { id: session.id, url: session.url };
  }

  async createPortalSession(providerCustomerId: string, returnUrl: string): Promise<{ url: string }> {
    const session = await this.call("create a billing portal session", (stripe) =>
      stripe.billingPortal.sessions.create({ customer: providerCustomerId, return_url: returnUrl }),
    );
    return { url: session.url };
  }

  async getSubscription(providerSubscriptionId: string): Promise<SubscriptionSnapshot> {
    const subscription = await this.call("read a subscription", (stripe) =>
      stripe.subscriptions.retrieve(providerSubscriptionId),
    );
    return this.snapshotOf(parseOrThrow(StripeSubscriptionSchema, subscription, "subscription"));
  }

  async cancelSubscription(providerSubscriptionId: string, atPeriodEnd: boolean): Promise<SubscriptionSnapshot> {
    const subscription = await this.call("cancel a subscription", (stripe) =>
      atPeriodEnd
        ? stripe.subscriptions.update(providerSubscriptionId, { cancel_at_period_end: true })
        : stripe.subscriptions.cancel(providerSubscriptionId),
    );
    return this.snapshotOf(parseOrThrow(StripeSubscriptionSchema, subscription, "subscription"));
  }

  async listInvoices(providerCustomerId: string): Promise<Invoice[]> {
    const page = await this.call("list invoices", (stripe) =>
      stripe.invoices.list({ customer: providerCustomerId, limit: 24 }),
    );
    return page.data.map((invoice) => ({
      id: invoice.id ?? "",
      status: invoice.status ?? "unknown",
      amount: invoice.total,
      currency: invoice.currency,
      createdAt: invoice.created * 1000,
      url: invoice.hosted_invoice_url ?? null,
    }));
  }

  /** `POST /v1/refunds` against the payment's charge, after checking whose it is and what is left. */
  async refund(request: RefundRequest): Promise<RefundResult> {
    const charge = await this.chargeOf(request);
    const customerId = idOf(charge.customer);
    if (!customerId || !request.customerIds.includes(customerId)) throw paymentNotFound(request.paymentId);
    const refundable = (charge.amount_captured ?? charge.amount) - charge.amount_refunded;
    if (refundable <= 0) throw alreadyRefunded(request.paymentId);
    const amount = request.amount ?? refundable;
    if (amount > refundable) throw refundTooLarge(amount, refundable, charge.currency);
    const created = await this.call("create a refund", (stripe) =>
      stripe.refunds.create(
        {
          charge: charge.id,
          amount,
          reason: STRIPE_REFUND_REASON[request.reason],
          metadata: {
            ...request.metadata,
            dte_reason: request.reason,
            ...(request.comment ? { dte_comment: request.comment.slice(0, 500) } : {}),
          },
        },
        request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : undefined,
      ),
    );
    const refund = StripeRefundSchema.safeParse(created);
    if (!refund.success)
      throw new UpstreamError("Stripe", `Stripe answered a refund of another shape. ${QUOTE_REQUEST_ID}`);
    return {
      refundId: refund.data.id,
      paymentId: request.paymentId,
      providerCustomerId: customerId,
      amount: refund.data.amount,
      currency: refund.data.currency.toLowerCase(),
      status: refund.data.status ?? "pending",
      full: refund.data.amount >= refundable,
      // charge.refunded is announced under the charge and its new running total.
      noticeKey: `${charge.id}:${charge.amount_refunded + refund.data.amount}`,
    };
  }

  /** The charge behind a payment id: a charge, a payment intent's latest charge, or an invoice's paid payment. */
  private async chargeOf(request: RefundRequest): Promise<StripeChargeObject> {
    const id = request.paymentId;
    const notFound = () => paymentNotFound(id);
    const asCharge = (value: unknown) => {
      const parsed = StripeChargeSchema.safeParse(value);
      if (!parsed.success) throw notFound();
      return parsed.data;
    };
    if (id.startsWith("ch_")) {
      return asCharge(await this.call("read a charge", (stripe) => stripe.charges.retrieve(id), notFound));
    }
    let intentId: string | null = id.startsWith("pi_") ? id : null;
    if (id.startsWith("in_")) {
      const read = await this.call(
        "read an invoice",
        (stripe) => stripe.invoices.retrieve(id, { expand: ["payments"] }),
        notFound,
      );
      const invoice = StripeInvoicePaymentsSchema.safeParse(read);
      const customerId = invoice.success ? idOf(invoice.data.customer) : null;
      if (!invoice.success || !customerId || !request.customerIds.includes(customerId)) throw notFound();
      const paid = invoice.data.payments?.data.find((payment) => payment.status === "paid");
      if (!paid) throw new ConflictError(`Invoice ${id} has no paid payment to refund.`, "PAYMENT_NOT_PAID");
      const chargeId = idOf(paid.payment.charge);
      if (chargeId) {
        return asCharge(await this.call("read a charge", (stripe) => stripe.charges.retrieve(chargeId), notFound));
      }
      intentId = idOf(paid.payment.payment_intent);
    }
    if (!intentId) throw notFound();
    const paymentIntentId = intentId;
    const intent = await this.call(
      "read a payment",
      (stripe) => stripe.paymentIntents.retrieve(paymentIntentId, { expand: ["latest_charge"] }),
      notFound,
    );
    return asCharge(intent.latest_charge);
  }

  async verifyWebhook(request: WebhookRequest): Promise<BillingEvent> {
    const secret = this.config.webhookSecret;
    if (!secret) throw new Error("STRIPE_WEBHOOK_SECRET is not configured.");
    const signature = request.headers.get("stripe-signature");
    if (!signature) throw new WebhookSignatureError("The Stripe-Signature header is required.");
    // Stripe's library only refuses old timestamps; one from the future is refused here, before verifying.
    const signedAt = /(?:^|,)\s*t=(\d{1,12})(?:,|$)/.exec(signature)?.[1];
    if (signedAt !== undefined && Number(signedAt) > Math.floor(Date.now() / 1000) + WEBHOOK_TOLERANCE_SECONDS) {
      throw new WebhookTimestampError();
    }
    let event: unknown;
    try {
      event = await Stripe.webhooks.constructEventAsync(
        request.rawBody,
        signature,
        secret,
        WEBHOOK_TOLERANCE_SECONDS,
        Stripe.createSubtleCryptoProvider(),
      );
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
        if (/tolerance/i.test(error.message)) throw new WebhookTimestampError();
        throw new WebhookSignatureError();
      }
      if (error instanceof SyntaxError) throw new InvalidJsonError(error.message);
      throw error;
    }
    return this.normalize(event);
  }

  /** Turns a verified Stripe event into the provider-neutral BillingEvent. */
  normalize(raw: unknown): BillingEvent {
    const envelope = parseOrThrow(EventEnvelopeSchema, raw, "event");
    const base = {
      provider: "stripe" as const,
      eventId: envelope.id,
      type: envelope.type,
      occurredAt: envelope.created * 1000,
      subject: null,
      providerCustomerId: null,
      providerSubscriptionId: null,
      subscription: null,
      paidPlan: null,
      amount: null,
      objectId: null,
    };
    const object = envelope.data.object;
    if (SUBSCRIPTION_EVENTS.has(envelope.type)) {
      const subscription = parseOrThrow(StripeSubscriptionSchema, object, envelope.type);
      const snapshot = this.snapshotOf(subscription);
      return {
        ...base,
        kind: "subscription",
        subject: subjectFromMetadata(subscription.metadata),
        providerCustomerId: snapshot.providerCustomerId,
        providerSubscriptionId: snapshot.providerSubscriptionId,
        subscription: snapshot,
        objectId: subscription.id,
      };
    }
    if (PAYMENT_SUCCEEDED_EVENTS.has(envelope.type)) {
      const invoice = parseOrThrow(StripeInvoiceSchema, object, envelope.type);
      const kind: BillingEventKind = invoice.amount_paid > 0 ? "payment_succeeded" : "ignored";
      return {
        ...base,
        kind,
        paidPlan: this.planPaidBy(invoice),
        // The subscription's metadata rides along, so a payment that overtakes its subscription event is attributed.
        subject: subjectFromMetadata(
          invoice.parent?.subscription_details?.metadata ?? invoice.subscription_details?.metadata,
        ),
        providerCustomerId: idOf(invoice.customer),
        providerSubscriptionId: idOf(invoice.parent?.subscription_details?.subscription) ?? idOf(invoice.subscription),
        amount: { value: invoice.amount_paid, currency: invoice.currency.toLowerCase() },
        objectId: invoice.id,
      };
    }
    if (REFUND_EVENTS.has(envelope.type)) {
      const charge = parseOrThrow(StripeChargeSchema, object, envelope.type);
      // `amount_refunded` is the charge's running total; this event's refund is the change from before it.
      const before = envelope.data.previous_attributes?.amount_refunded;
      const refunded = charge.amount_refunded - (typeof before === "number" ? before : 0);
      return {
        ...base,
        kind: refunded > 0 ? "refund" : "ignored",
        providerCustomerId: idOf(charge.customer),
        amount: { value: refunded, currency: charge.currency.toLowerCase() },
        objectId: `${charge.id}:${charge.amount_refunded}`,
      };
    }
    return { ...base, kind: "ignored" };
  }

  private snapshotOf(subscription: StripeSubscriptionObject): SubscriptionSnapshot {
    const item = subscription.items.data[0];
    const priced = planForPriceId(this.config.priceIds, item?.price.id);
    const interval = priced?.interval ?? intervalOf(item?.price.recurring?.interval);
    const periodEnd = subscription.current_period_end ?? item?.current_period_end ?? null;
    // The portal may schedule a cancellation with `cancel_at` instead of the flag, on any date.
    const cancelAt = subscription.cancel_at ?? null;
    const cancelAtPeriodEnd =
      subscription.cancel_at_period_end === true || (cancelAt !== null && periodEnd !== null && cancelAt <= periodEnd);
    return {
      providerSubscriptionId: subscription.id,
      providerCustomerId: idOf(subscription.customer) ?? "",
      status: STATUS_MAP[subscription.status] ?? "incomplete",
      plan: priced?.plan ?? planFromMetadata(subscription.metadata),
      interval,
      currentPeriodEnd: periodEnd === null ? null : periodEnd * 1000,
      cancelAtPeriodEnd,
      cancelAt:
        cancelAt === null
          ? subscription.cancel_at_period_end && periodEnd
            ? periodEnd * 1000
            : null
          : cancelAt * 1000,
      endedAt: subscription.ended_at ? subscription.ended_at * 1000 : null,
      trialEnd: subscription.trial_end ? subscription.trial_end * 1000 : null,
      // Stripe's `pending_update` is a change waiting for a payment, not a scheduled one: it grants nothing yet.
      pendingPlan: null,
    };
  }

  /** The plan an invoice paid for: the first charged line whose price is ours (not the subscription's plan now). */
  private planPaidBy(invoice: z.infer<typeof StripeInvoiceSchema>): string | null {
    for (const line of invoice.lines?.data ?? []) {
      if (line.amount <= 0) continue;
      const price = idOf(line.pricing?.price_details?.price) ?? idOf(line.price) ?? idOf(line.plan);
      const priced = planForPriceId(this.config.priceIds, price);
      if (priced) return priced.plan;
    }
    return null;
  }

  private priceIdFor(customer: BillingCustomer, plan: string, interval: BillingInterval): string {
    const key = priceKey(customer.subject.subject, plan, interval);
    const id = this.config.priceIds[key];
    if (!id) {
      throw new ValidationError(`The ${plan} plan is not sold per ${interval} here (no Stripe price for ${key}).`, {
        code: "PLAN_NOT_AVAILABLE",
      });
    }
    return id;
  }

  /** Stripe's own error text (it may quote a masked key) goes to the log as the cause, never to the caller. */
  private async call<T>(what: string, run: (stripe: Stripe) => Promise<T>, notFound?: () => AppError): Promise<T> {
    try {
      return await run(this.client());
    } catch (error) {
      if (notFound && error instanceof Stripe.errors.StripeError && error.statusCode === 404) throw notFound();
      if (error instanceof Stripe.errors.StripeError) {
        throw new UpstreamError("Stripe", `Stripe could not ${what}. ${QUOTE_REQUEST_ID}`, error);
      }
      throw error;
    }
  }

  private client(): Stripe {
    if (!this.config.secretKey) throw new Error("STRIPE_SECRET_KEY is not configured.");
    const base = new URL(this.config.apiBase);
    const protocol = base.protocol === "http:" ? "http" : "https";
    return new Stripe(this.config.secretKey, {
      // Late-bound so the Worker's (and tests') current fetch is used.
      httpClient: Stripe.createFetchHttpClient((input, init) => fetch(input, init)),
      host: base.hostname,
      port: base.port || (protocol === "http" ? 80 : 443),
      protocol,
      maxNetworkRetries: 1,
      timeout: 10_000,
      telemetry: false,
    });
  }
}

function intervalOf(value: string | undefined): BillingInterval | null {
  return value === "month" || value === "year" ? value : null;
}

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new UnprocessableError(`The Stripe ${what} payload does not have the expected shape.`, {
      code: "WEBHOOK_PAYLOAD_UNSUPPORTED",
      details: parsed.error.issues.slice(0, 5).map((issue) => ({ path: issue.path.join("."), message: issue.message })),
    });
  }
  return parsed.data;
}
