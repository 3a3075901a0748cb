import { z } from "zod";
import type { SubscriptionStatus } from "../db/schema";
import { type AppError, InvalidJsonError, UnprocessableError, UpstreamError, ValidationError } from "../errors";
import {
  type BillingEvent,
  checkoutMetadata,
  planFromMetadata,
  type SubjectRef,
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
  type RefundRequest,
  type RefundResult,
  type ReturnUrls,
  refundTooLarge,
  type WebhookRequest,
} from "./provider";
import { verifyStandardWebhook } from "./standard-webhooks";

/**
 * Polar through its REST API (bearer POLAR_ACCESS_TOKEN) with fetch, and its
 * webhooks through Standard Webhooks verification. A Polar product is one plan
 * at one interval, so POLAR_PRODUCT_IDS maps "<subject>.<plan>.<interval>" to
 * product ids.
 */

export interface PolarProviderConfig {
  accessToken?: string;
  webhookSecret?: string;
  /** POLAR_API_BASE, e.g. https://api.polar.sh (sandbox: https://sandbox-api.polar.sh). */
  apiBase: string;
  productIds: ProviderPriceIds;
}

const isoTime = z.string().nullish();
/** Polar's ids are UUIDs (`format: uuid4` in its OpenAPI). */
export const POLAR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const PolarSubscriptionSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  customer_id: z.string(),
  customer: z.looseObject({ external_id: z.string().nullish(), email: z.string().nullish() }).nullish(),
  product_id: z.string().nullish(),
  recurring_interval: z.string().nullish(),
  current_period_end: isoTime,
  cancel_at_period_end: z.boolean().nullish(),
  ends_at: isoTime,
  ended_at: isoTime,
  trial_end: isoTime,
  modified_at: isoTime,
  metadata: z.record(z.string(), z.unknown()).nullish(),
  /** A change Polar applies at the beginning of the next period (a downgrade chosen in the portal). */
  pending_update: z.looseObject({ product_id: z.string().nullish(), applies_at: isoTime }).nullish(),
});
type PolarSubscription = z.infer<typeof PolarSubscriptionSchema>;

const PolarOrderSchema = z.looseObject({
  id: z.string(),
  status: z.string().nullish(),
  customer_id: z.string(),
  subscription_id: z.string().nullish(),
  total_amount: z.number().int().nullish(),
  amount: z.number().int().nullish(),
  currency: z.string(),
  created_at: isoTime,
  metadata: z.record(z.string(), z.unknown()).nullish(),
  product_id: z.string().nullish(),
  customer: z.looseObject({ external_id: z.string().nullish() }).nullish(),
  refunded_amount: z.number().int().nullish(),
  refundable_amount: z.number().int().nullish(),
});

const PolarRefundSchema = z.looseObject({
  id: z.string(),
  status: z.string().nullish(),
  amount: z.number().int(),
  currency: z.string(),
  customer_id: z.string(),
  subscription_id: z.string().nullish(),
  order_id: z.string().nullish(),
});

const EnvelopeSchema = z.looseObject({
  type: z.string().min(1),
  timestamp: isoTime,
  data: z.record(z.string(), z.unknown()),
});

const SUBSCRIPTION_EVENTS = new Set([
  "subscription.created",
  "subscription.updated",
  "subscription.active",
  "subscription.canceled",
  "subscription.uncanceled",
  "subscription.cycled",
  "subscription.revoked",
  "subscription.past_due",
  "subscription.paused",
  "subscription.resumed",
]);
/** "Sent when a subscription is revoked and the user loses access immediately" (Polar's webhook reference). */
const REVOKED = "subscription.revoked";

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

export class PolarBillingProvider implements BillingProvider {
  readonly name = "polar" as const;

  constructor(private readonly config: PolarProviderConfig) {}

  async createCheckout(
    customer: BillingCustomer,
    plan: string,
    interval: BillingInterval,
    returnUrls: ReturnUrls,
    options: CheckoutOptions = {},
  ): Promise<CheckoutSession> {
    const key = priceKey(customer.subject.subject, plan, interval);
    const product = this.config.productIds[key];
    if (!product) {
      throw new ValidationError(`The ${plan} plan is not sold per ${interval} here (no Polar product for ${key}).`, {
        code: "PLAN_NOT_AVAILABLE",
      });
    }
    const checkout = await this.request("create a checkout session", "POST", "/v1/checkouts/", {
      products: [product],
      success_url: returnUrls.successUrl,
      return_url: returnUrls.cancelUrl,
      metadata: checkoutMetadata(customer.subject, plan),
      ...(customer.providerCustomerId
        ? { customer_id: customer.providerCustomerId }
        : { external_customer_id: externalCustomerId(customer.subject) }),
      ...(customer.email ? { customer_email: customer.email } : {}),
      ...(options.trialDays
        ? { allow_trial: true, trial_interval: "day", trial_interval_count: options.trialDays }
        : { allow_trial: false }),
    });
    const parsed = z.looseObject({ id: z.string(), url: z.string().url() }).safeParse(checkout);
    if (!parsed.success) {
      throw new UpstreamError("Polar", `Polar created a checkout session without a URL. ${QUOTE_REQUEST_ID}`);
    }
    return { id: parsed.data.id, url: parsed.data.url };
  }

  async createPortalSession(providerCustomerId: string, returnUrl: string): Promise<{ url: string }> {
    const session = await this.request("create a customer portal session", "POST", "/v1/customer-sessions/", {
      customer_id: providerCustomerId,
      return_url: returnUrl,
    });
    const parsed = z.looseObject({ customer_portal_url: z.string().url() }).safeParse(session);
    if (!parsed.success) {
      throw new UpstreamError("Polar", `Polar created a customer session without a portal URL. ${QUOTE_REQUEST_ID}`);
    }
    return { url: parsed.data.customer_portal_url };
  }

  async getSubscription(providerSubscriptionId: string): Promise<SubscriptionSnapshot> {
    const body = await this.request(
      "read a subscription",
      "GET",
      `/v1/subscriptions/${encodeURIComponent(providerSubscriptionId)}`,
    );
    return this.snapshotOf(parseOrThrow(PolarSubscriptionSchema, body, "subscription"));
  }

  async cancelSubscription(providerSubscriptionId: string, atPeriodEnd: boolean): Promise<SubscriptionSnapshot> {
    const path = `/v1/subscriptions/${encodeURIComponent(providerSubscriptionId)}`;
    const body = atPeriodEnd
      ? await this.request("cancel a subscription", "PATCH", path, { cancel_at_period_end: true })
      : await this.request("revoke a subscription", "DELETE", path);
    return this.snapshotOf(parseOrThrow(PolarSubscriptionSchema, body, "subscription"));
  }

  async listInvoices(providerCustomerId: string): Promise<Invoice[]> {
    const query = new URLSearchParams({ customer_id: providerCustomerId, limit: "24", sorting: "-created_at" });
    const body = await this.request("list orders", "GET", `/v1/orders/?${query}`);
    const page = parseOrThrow(z.looseObject({ items: z.array(PolarOrderSchema) }), body, "order list");
    return page.items.map((order) => ({
      id: order.id,
      status: order.status ?? "unknown",
      amount: order.total_amount ?? order.amount ?? 0,
      currency: order.currency.toLowerCase(),
      createdAt: order.created_at ? Date.parse(order.created_at) : 0,
      url: null,
    }));
  }

  /** `POST /v1/refunds/` for an order of one of the customers, after checking what is left to refund. */
  async refund(request: RefundRequest): Promise<RefundResult> {
    const notFound = () => paymentNotFound(request.paymentId);
    if (!POLAR_ID.test(request.paymentId)) throw notFound();
    const read = await this.request(
      "read an order",
      "GET",
      `/v1/orders/${encodeURIComponent(request.paymentId)}`,
      undefined,
      { 404: notFound },
    );
    const parsed = PolarOrderSchema.safeParse(read);
    if (!parsed.success || !request.customerIds.includes(parsed.data.customer_id)) throw notFound();
    const order = parsed.data;
    const currency = order.currency.toLowerCase();
    const refundable =
      order.refundable_amount ?? (order.total_amount ?? order.amount ?? 0) - (order.refunded_amount ?? 0);
    if (refundable <= 0) throw alreadyRefunded(request.paymentId);
    const amount = request.amount ?? refundable;
    if (amount > refundable) throw refundTooLarge(amount, refundable, currency);
    const created = await this.request(
      "create a refund",
      "POST",
      "/v1/refunds/",
      {
        order_id: order.id,
        reason: request.reason,
        amount,
        comment: request.comment ?? null,
        metadata: request.metadata,
        // Subscriptions lose their benefits when revoked, not when refunded (Polar allows this only for purchases).
        revoke_benefits: false,
      },
      { 403: () => alreadyRefunded(request.paymentId) },
    );
    const refund = PolarRefundSchema.safeParse(created);
    if (!refund.success)
      throw new UpstreamError("Polar", `Polar answered a refund of another shape. ${QUOTE_REQUEST_ID}`);
    return {
      refundId: refund.data.id,
      paymentId: order.id,
      providerCustomerId: order.customer_id,
      amount: refund.data.amount,
      currency: refund.data.currency.toLowerCase(),
      status: refund.data.status ?? "pending",
      full: refund.data.amount >= refundable,
      // refund.created is announced under the refund's id.
      noticeKey: refund.data.id,
    };
  }

  async verifyWebhook(request: WebhookRequest): Promise<BillingEvent> {
    const secret = this.config.webhookSecret;
    if (!secret) throw new Error("POLAR_WEBHOOK_SECRET is not configured.");
    const verified = await verifyStandardWebhook({ secret, rawBody: request.rawBody, headers: request.headers });
    let payload: unknown;
    try {
      payload = JSON.parse(request.rawBody);
    } catch (error) {
      throw new InvalidJsonError(error instanceof Error ? error.message : String(error));
    }
    return this.normalize(payload, verified.id, verified.timestamp * 1000);
  }

  /** Turns a verified Polar payload into the provider-neutral BillingEvent. */
  normalize(raw: unknown, eventId: string, signedAtMs: number): BillingEvent {
    const envelope = parseOrThrow(EnvelopeSchema, raw, "webhook");
    const data = envelope.data;
    const occurredAt =
      parseTime(envelope.timestamp) ??
      parseTime(typeof data.modified_at === "string" ? data.modified_at : null) ??
      signedAtMs;
    const base = {
      provider: "polar" as const,
      eventId,
      type: envelope.type,
      occurredAt,
      subject: null,
      providerCustomerId: null,
      providerSubscriptionId: null,
      subscription: null,
      paidPlan: null,
      amount: null,
      objectId: null,
    };
    if (SUBSCRIPTION_EVENTS.has(envelope.type)) {
      const subscription = parseOrThrow(PolarSubscriptionSchema, data, envelope.type);
      const read = this.snapshotOf(subscription);
      // A revoke ends access now, whatever remains of the period or the grace (status `canceled` or `unpaid`).
      const snapshot =
        envelope.type === REVOKED
          ? { ...read, status: "canceled" as const, endedAt: read.endedAt ?? occurredAt }
          : read;
      return {
        ...base,
        kind: "subscription",
        subject:
          subjectFromMetadata(subscription.metadata) ?? subjectFromExternalId(subscription.customer?.external_id),
        providerCustomerId: subscription.customer_id,
        providerSubscriptionId: subscription.id,
        subscription: snapshot,
        objectId: subscription.id,
      };
    }
    if (envelope.type === "order.paid") {
      const order = parseOrThrow(PolarOrderSchema, data, envelope.type);
      const value = order.total_amount ?? order.amount ?? 0;
      return {
        ...base,
        kind: value > 0 ? "payment_succeeded" : "ignored",
        subject: subjectFromMetadata(order.metadata) ?? subjectFromExternalId(order.customer?.external_id),
        paidPlan: planForPriceId(this.config.productIds, order.product_id)?.plan ?? null,
        providerCustomerId: order.customer_id,
        providerSubscriptionId: order.subscription_id ?? null,
        amount: { value, currency: order.currency.toLowerCase() },
        objectId: order.id,
      };
    }
    if (envelope.type === "refund.created") {
      const refund = parseOrThrow(PolarRefundSchema, data, envelope.type);
      return {
        ...base,
        kind: "refund",
        providerCustomerId: refund.customer_id,
        providerSubscriptionId: refund.subscription_id ?? null,
        amount: { value: refund.amount, currency: refund.currency.toLowerCase() },
        objectId: refund.id,
      };
    }
    // order.refunded repeats refund.created for the same money: recorded, not told twice.
    return { ...base, kind: "ignored" };
  }

  private snapshotOf(subscription: PolarSubscription): SubscriptionSnapshot {
    const priced = planForPriceId(this.config.productIds, subscription.product_id);
    const interval = priced?.interval ?? intervalOf(subscription.recurring_interval);
    return {
      providerSubscriptionId: subscription.id,
      providerCustomerId: subscription.customer_id,
      status: STATUS_MAP[subscription.status] ?? "incomplete",
      plan: priced?.plan ?? planFromMetadata(subscription.metadata),
      interval,
      currentPeriodEnd: parseTime(subscription.current_period_end),
      cancelAtPeriodEnd: subscription.cancel_at_period_end === true,
      cancelAt: subscription.cancel_at_period_end === true ? parseTime(subscription.ends_at) : null,
      endedAt: parseTime(subscription.ended_at),
      trialEnd: parseTime(subscription.trial_end),
      // Applied at `applies_at`, the start of the next period (our period end).
      pendingPlan: planForPriceId(this.config.productIds, subscription.pending_update?.product_id)?.plan ?? null,
    };
  }

  /** `statusErrors` turn a provider status that means something to the caller (404, 403) into our own error. */
  private async request(
    what: string,
    method: string,
    path: string,
    body?: unknown,
    statusErrors: Partial<Record<number, () => AppError>> = {},
  ): Promise<unknown> {
    if (!this.config.accessToken) throw new Error("POLAR_ACCESS_TOKEN is not configured.");
    const url = new URL(path, this.config.apiBase.endsWith("/") ? this.config.apiBase : `${this.config.apiBase}/`);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.config.accessToken}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new UpstreamError("Polar", `Polar could not be reached to ${what}. ${QUOTE_REQUEST_ID}`, error);
    }
    const text = await response.text();
    const mapped = statusErrors[response.status];
    if (mapped) throw mapped();
    if (!response.ok) {
      // Polar's status and error body go to the log as the cause, never to the caller.
      const cause = new Error(`Polar answered ${response.status}: ${text.slice(0, 500)}`);
      throw new UpstreamError("Polar", `Polar could not ${what}. ${QUOTE_REQUEST_ID}`, cause);
    }
    try {
      return text === "" ? {} : (JSON.parse(text) as unknown);
    } catch (error) {
      throw new UpstreamError(
        "Polar",
        `Polar answered malformed JSON when asked to ${what}. ${QUOTE_REQUEST_ID}`,
        error,
      );
    }
  }
}

/** Polar customers are created by checkout with our external id: one per community and one per trader. */
function externalCustomerId(subject: SubjectRef): string {
  return subject.subject === "community" ? `community:${subject.communityId}` : `user:${subject.userId}`;
}

function subjectFromExternalId(externalId: string | null | undefined): SubjectRef | null {
  const match = externalId ? /^(community|user):(.+)$/.exec(externalId) : null;
  if (!match?.[2]) return null;
  return match[1] === "community"
    ? { subject: "community", communityId: match[2], userId: null }
    : { subject: "trader", communityId: null, userId: match[2] };
}

function parseTime(value: string | null | undefined): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

function intervalOf(value: string | null | undefined): BillingInterval | null {
  return value === "month" || value === "year" ? value : null;
}

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new UnprocessableError(`The Polar ${what} payload does not have the expected shape.`, {
      code: "WEBHOOK_PAYLOAD_UNSUPPORTED",
      details: parsed.error.issues.slice(0, 5).map((issue) => ({ path: issue.path.join("."), message: issue.message })),
    });
  }
  return parsed.data;
}
