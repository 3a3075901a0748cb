import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { afterEach, beforeEach, type MockInstance, vi } from "vitest";
import { database } from "../../platform/db/client";
import type { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import type { Notification } from "../../shared/notifications/message";
import worker from "../../workers/app";
import polarCustomerSessionDoc from "./billing-fixtures/polar/CustomerSession.json";
import polarOrderDoc from "./billing-fixtures/polar/Order.json";
import polarOrderProductDoc from "./billing-fixtures/polar/OrderProduct.json";
import polarOrderSubscriptionDoc from "./billing-fixtures/polar/OrderSubscription.json";
import polarRefundDoc from "./billing-fixtures/polar/Refund.json";
import polarSubscriptionDoc from "./billing-fixtures/polar/Subscription.json";
import stripeChargeDoc from "./billing-fixtures/stripe/charge.json";
import stripeEventDoc from "./billing-fixtures/stripe/event.json";
import stripeInvoiceDoc from "./billing-fixtures/stripe/invoice.json";
import stripeInvoicePaymentDoc from "./billing-fixtures/stripe/invoice_payment.json";
import stripePaymentIntentDoc from "./billing-fixtures/stripe/payment_intent.json";
import stripeRefundDoc from "./billing-fixtures/stripe/refund.json";
import stripeSubscriptionDoc from "./billing-fixtures/stripe/subscription.json";
import { newCommunity } from "./communities";
import { snowflake } from "./discord";
import { BASE } from "./http";
import { POLAR_PRODUCTS, TEST_VARS } from "./test-vars";

/**
 * Billing providers as the tests' senders: Stripe events signed with Stripe's
 * own test-header helper, Polar events signed per the Standard Webhooks spec
 * (built here from the spec, independently of the code under test), and
 * payloads shaped like the providers' documented objects.
 */

export const db = database(env.DB);
export const DAY = 24 * 60 * 60 * 1000;
const encoder = new TextEncoder();

let counter = 0;
export const uid = (prefix: string) =>
  `${prefix}_${Date.now().toString(36)}${(++counter).toString(36)}${crypto.randomUUID().slice(0, 8)}`;
const seconds = (ms: number) => Math.floor(ms / 1000);

// ---------------------------------------------------------------- senders

async function stripeSignature(payload: string, options: { timestamp?: number; secret?: string } = {}) {
  return Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: options.secret ?? TEST_VARS.STRIPE_WEBHOOK_SECRET,
    timestamp: options.timestamp ?? seconds(Date.now()),
    cryptoProvider: Stripe.createSubtleCryptoProvider(),
  });
}

/** Standard Webhooks: base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")); Polar's key is the secret's UTF-8 bytes. */
export async function standardWebhookHeaders(
  id: string,
  body: string,
  options: { timestamp?: number; secret?: string; keyBytes?: Uint8Array; extraSignatures?: string[] } = {},
): Promise<Record<string, string>> {
  const timestamp = options.timestamp ?? seconds(Date.now());
  const keyBytes = options.keyBytes ?? encoder.encode(options.secret ?? POLAR_TEST_SECRETS.POLAR_WEBHOOK_SECRET);
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestamp}.${body}`)));
  const signature = btoa(String.fromCharCode(...mac));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": [...(options.extraSignatures ?? []), `v1,${signature}`].join(" "),
  };
}

export async function postStripe(
  event: unknown,
  options: { timestamp?: number; secret?: string; signature?: string; targetEnv?: object; ip?: string } = {},
): Promise<Response> {
  const body = typeof event === "string" ? event : JSON.stringify(event);
  const signature = options.signature ?? (await stripeSignature(body, options));
  return send("/webhooks/stripe", body, {
    "stripe-signature": signature,
    "cf-connecting-ip": options.ip ?? "203.0.113.10",
  });
}

export async function postPolar(
  payload: unknown,
  options: { id?: string; timestamp?: number; headers?: Record<string, string>; ip?: string } = {},
): Promise<Response> {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  const id = options.id ?? uid("msg");
  const headers = options.headers ?? (await standardWebhookHeaders(id, body, { timestamp: options.timestamp }));
  return send("/webhooks/polar", body, { ...headers, "cf-connecting-ip": options.ip ?? "203.0.113.20" });
}

async function send(path: string, body: string, headers: Record<string, string>): Promise<Response> {
  return worker.fetch(
    new Request(`${BASE}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        ...headers,
      },
      body,
    }),
    currentEnv,
    createExecutionContext(),
  );
}

/**
 * Polar's secrets for billing tests. They are not in TEST_VARS: the Worker's
 * default test config selects Stripe and has no Polar secrets, as production would.
 */
export const POLAR_TEST_SECRETS = {
  POLAR_ACCESS_TOKEN: "polar_oat_test0000000000000000000000",
  /** As Polar shows it: the HMAC key is these UTF-8 bytes (not base64-decoded). */
  POLAR_WEBHOOK_SECRET: "polar_whs_test0000000000000000000000",
} as const;

/** The env the webhook routes and consumer run with (tests swap it to change BILLING_PROVIDER). */
const billingEnv = (next: Partial<Record<string, unknown>> = {}) => ({ ...env, ...POLAR_TEST_SECRETS, ...next }) as Env;
let currentEnv: Env = billingEnv();
export function useEnv(next: Partial<Record<string, unknown>>): Env {
  currentEnv = billingEnv(next);
  return currentEnv;
}
function resetEnv(): void {
  currentEnv = billingEnv();
}

// ---------------------------------------------------------------- payloads
// Each builder starts from the provider's documented object (./billing-fixtures/README.md says where each came
// from) and sets only what a scenario needs; every other field stays as documented.

const copy = <T>(value: T): T => structuredClone(value);
const iso = (ms: number) => new Date(ms).toISOString();
const STRIPE_PRODUCT = "prod_test_plans";
/** Amounts of the test prices (STRIPE_PRICE_IDS in test-vars.ts), as Stripe would report them. */
const STRIPE_PRICE_AMOUNTS: Record<string, number> = {
  price_test_pro_month: 9_900,
  price_test_pro_year: 99_000,
  price_test_ent_month: 29_900,
  price_test_ent_year: 299_000,
  price_test_basic_month: 4_900,
  price_test_traderpro_month: 9_900,
  price_test_premium_month: 29_900,
};
const priceAmount = (price: string) => STRIPE_PRICE_AMOUNTS[price] ?? 9_900;
const intervalOfPrice = (price: string) => (price.endsWith("year") ? "year" : "month");

export interface StripeSubscriptionInput {
  id: string;
  customer: string;
  status: string;
  price?: string;
  /** Epoch ms. */
  periodEnd: number;
  cancelAtPeriodEnd?: boolean;
  /** Epoch ms: a cancellation scheduled for this moment (`cancel_at`), which may fall inside the period. */
  cancelAt?: number | null;
  /** Epoch ms: when the subscription ended (`ended_at`); a canceled subscription defaults to now (or its period end). */
  endedAt?: number | null;
  trialEnd?: number | null;
  metadata?: Record<string, string>;
  /** API versions before 2025-03-31 (e.g. 2024-06-20) also put current_period_end on the subscription. */
  periodEndOnSubscription?: boolean;
}

export function stripeSubscription(input: StripeSubscriptionInput) {
  const doc = copy(stripeSubscriptionDoc);
  const now = seconds(Date.now());
  const periodEnd = seconds(input.periodEnd);
  const periodStart = periodEnd - 30 * 86400;
  const price = input.price ?? "price_test_pro_month";
  const interval = intervalOfPrice(price);
  const amount = priceAmount(price);
  const item = doc.items.data[0];
  const cancelAt = input.cancelAt != null ? seconds(input.cancelAt) : input.cancelAtPeriodEnd ? periodEnd : null;
  const canceled = input.status === "canceled";
  const endedAt = input.endedAt != null ? seconds(input.endedAt) : canceled ? Math.min(now, periodEnd) : null;
  return {
    ...doc,
    id: input.id,
    billing_cycle_anchor: periodStart,
    billing_cycle_anchor_config: null,
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: cancelAt,
    cancel_at_period_end: input.cancelAtPeriodEnd ?? false,
    canceled_at: cancelAt !== null || canceled ? now : null,
    cancellation_details: {
      comment: null,
      feedback: null,
      reason: cancelAt !== null || canceled ? "cancellation_requested" : null,
    },
    created: periodStart,
    customer: input.customer,
    ended_at: endedAt,
    items: {
      ...doc.items,
      url: `/v1/subscription_items?subscription=${input.id}`,
      data: [
        {
          ...item,
          id: `si_${input.id.slice(4)}`,
          created: periodStart,
          current_period_start: periodStart,
          current_period_end: periodEnd,
          subscription: input.id,
          billing_thresholds: null,
          price: {
            ...item?.price,
            id: price,
            created: periodStart,
            custom_unit_amount: null,
            product: STRIPE_PRODUCT,
            recurring: { ...item?.price.recurring, interval, interval_count: 1 },
            transform_quantity: null,
            unit_amount: amount,
            unit_amount_decimal: String(amount),
          },
          plan: {
            ...item?.plan,
            id: price,
            amount,
            amount_decimal: String(amount),
            billing_scheme: "per_unit",
            created: periodStart,
            currency: "usd",
            interval,
            interval_count: 1,
            livemode: false,
            product: STRIPE_PRODUCT,
            transform_usage: null,
          },
        },
      ],
    },
    latest_invoice: null,
    managed_payments: null,
    metadata: input.metadata ?? {},
    next_pending_invoice_item_invoice: null,
    pause_collection: null,
    pending_invoice_item_interval: null,
    pending_update: null,
    start_date: periodStart,
    status: input.status,
    transfer_data: null,
    trial_end: input.trialEnd ? seconds(input.trialEnd) : null,
    trial_start: input.trialEnd ? seconds(input.trialEnd) - 14 * 86400 : null,
    ...(input.periodEndOnSubscription ? { current_period_end: periodEnd, current_period_start: periodStart } : {}),
  };
}

export function stripeEvent(
  type: string,
  object: unknown,
  options: { id?: string; created?: number; previousAttributes?: Record<string, unknown> } = {},
) {
  return {
    ...copy(stripeEventDoc),
    id: options.id ?? uid("evt"),
    api_version: "2026-10-28.endive",
    created: seconds(options.created ?? Date.now()),
    data: { object, ...(options.previousAttributes ? { previous_attributes: options.previousAttributes } : {}) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

export function stripeInvoice(input: {
  id?: string;
  customer: string;
  subscription: string;
  amountPaid: number;
  metadata?: Record<string, string>;
  /** The invoice's lines (default: one line for the amount at the Professional monthly price). */
  lines?: { price: string; amount: number; proration?: boolean }[];
  billingReason?: string;
}) {
  const doc = copy(stripeInvoiceDoc);
  const id = input.id ?? uid("in");
  const now = seconds(Date.now());
  const lineDoc = doc.lines.data[0];
  const lines = input.lines ?? [{ price: "price_test_pro_month", amount: input.amountPaid }];
  return {
    ...doc,
    id,
    amount_due: input.amountPaid,
    amount_overpaid: 0,
    amount_paid: input.amountPaid,
    amount_remaining: 0,
    attempt_count: 1,
    attempted: true,
    billing_reason: input.billingReason ?? "subscription_cycle",
    created: now,
    currency: "usd",
    customer: input.customer,
    due_date: null,
    effective_at: now,
    from_invoice: null,
    hosted_invoice_url: "https://invoice.stripe.com/i/acct_test/test",
    last_finalization_error: null,
    lines: {
      ...doc.lines,
      url: `/v1/invoices/${id}/lines`,
      data: lines.map((line, index) => ({
        ...lineDoc,
        id: `il_${id.slice(3)}_${index}`,
        invoice: id,
        amount: line.amount,
        currency: "usd",
        description: `1 × plan (${line.price})`,
        period: { start: now, end: now + 30 * 86400 },
        subscription: input.subscription,
        subtotal: line.amount,
        parent: {
          type: "subscription_item_details",
          invoice_item_details: null,
          subscription_item_details: {
            invoice_item: null,
            proration: line.proration ?? false,
            proration_details: { credited_items: null },
            subscription: input.subscription,
            subscription_item: `si_${input.subscription.slice(4)}`,
          },
        },
        pricing: {
          type: "price_details",
          price_details: { price: line.price, product: STRIPE_PRODUCT },
          unit_amount_decimal: String(priceAmount(line.price)),
        },
      })),
    },
    next_payment_attempt: null,
    number: `TEST-${id.slice(-6).toUpperCase()}`,
    parent: {
      type: "subscription_details",
      quote_details: null,
      subscription_details: { metadata: input.metadata ?? {}, subscription: input.subscription },
    },
    period_end: now,
    period_start: now - 30 * 86400,
    shipping_cost: null,
    status: "paid",
    status_transitions: { finalized_at: now, marked_uncollectible_at: null, paid_at: now, voided_at: null },
    subtotal: input.amountPaid,
    subtotal_excluding_tax: input.amountPaid,
    total: input.amountPaid,
    total_excluding_tax: input.amountPaid,
    webhooks_delivered_at: null,
  };
}

export function stripeCharge(input: { id?: string; customer: string | null; amount?: number; amountRefunded: number }) {
  const doc = copy(stripeChargeDoc);
  const id = input.id ?? uid("ch");
  const amount = input.amount ?? 9_900;
  return {
    ...doc,
    id,
    amount,
    amount_captured: amount,
    amount_refunded: input.amountRefunded,
    balance_transaction: `txn_${id.slice(3)}`,
    captured: true,
    created: seconds(Date.now()) - 86400,
    customer: input.customer,
    description: "Subscription update",
    paid: true,
    payment_intent: `pi_${id.slice(3)}`,
    refunded: input.amountRefunded >= amount,
    refunds: { ...doc.refunds, url: `/v1/charges/${id}/refunds` },
    source: null,
    status: "succeeded",
    transfer_data: null,
  };
}

export function stripeRefund(input: { id?: string; charge: string; paymentIntent: string; amount: number }) {
  return {
    ...copy(stripeRefundDoc),
    id: input.id ?? uid("re"),
    amount: input.amount,
    charge: input.charge,
    created: seconds(Date.now()),
    payment_intent: input.paymentIntent,
    reason: "requested_by_customer",
    status: "succeeded",
  };
}

export function stripeInvoicePayment(input: { invoice: string; paymentIntent: string; amount: number }) {
  return {
    ...copy(stripeInvoicePaymentDoc),
    id: uid("inpay"),
    amount_paid: input.amount,
    amount_requested: input.amount,
    created: seconds(Date.now()),
    currency: "usd",
    invoice: input.invoice,
    livemode: false,
    payment: { type: "payment_intent", payment_intent: input.paymentIntent },
    status: "paid",
    status_transitions: { canceled_at: null, paid_at: seconds(Date.now()) },
  };
}

export function stripePaymentIntent(input: { id: string; customer: string; amount: number; latestCharge: unknown }) {
  return {
    ...copy(stripePaymentIntentDoc),
    id: input.id,
    amount: input.amount,
    amount_received: input.amount,
    canceled_at: null,
    customer: input.customer,
    last_payment_error: null,
    latest_charge: input.latestCharge,
    next_action: null,
    processing: null,
    status: "succeeded",
    transfer_data: null,
  };
}

/** Polar's organization in every payload (any UUID: the product does not read it). */
const POLAR_ORGANIZATION = "1dbfc517-0bbf-4301-9ba8-555ca42b9737";
const POLAR_PRODUCT_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(POLAR_PRODUCTS).map(([key, id]) => [id, key.split(".")[1] ?? key]),
);

function polarCustomer(customerId: string, externalId: string | null | undefined) {
  return {
    ...copy(polarSubscriptionDoc.customer),
    id: customerId,
    external_id: externalId ?? null,
    email: "payer@example.com",
    name: "Payer",
    billing_name: "Payer",
    organization_id: POLAR_ORGANIZATION,
  };
}

function polarProduct(productId: string) {
  const doc = copy(polarSubscriptionDoc.product);
  const price = doc.prices[0];
  return {
    ...doc,
    id: productId,
    name: POLAR_PRODUCT_NAMES[productId] ?? "Plan",
    visibility: "public",
    recurring_interval: "month",
    recurring_interval_count: 1,
    is_recurring: true,
    organization_id: POLAR_ORGANIZATION,
    prices: [
      { ...price, product_id: productId, price_currency: "usd", recurring_interval: "month", price_amount: 9_900 },
    ],
  };
}

export interface PolarSubscriptionInput {
  id: string;
  customerId: string;
  status: string;
  productId?: string;
  periodEnd: number;
  cancelAtPeriodEnd?: boolean;
  trialEnd?: number | null;
  /** Epoch ms: when the subscription ended (`ended_at`). */
  endedAt?: number | null;
  /** A plan change Polar applies at the next period (`pending_update`). */
  pendingUpdate?: { productId: string; appliesAt: number } | null;
  metadata?: Record<string, string>;
  externalId?: string | null;
}

export function polarSubscription(input: PolarSubscriptionInput) {
  const doc = copy(polarSubscriptionDoc);
  const productId = input.productId ?? POLAR_PRODUCTS["community.professional.month"];
  const start = input.periodEnd - 30 * DAY;
  const now = Date.now();
  const ends = input.endedAt ?? (input.cancelAtPeriodEnd ? input.periodEnd : null);
  const product = polarProduct(productId);
  return {
    ...doc,
    created_at: iso(start),
    modified_at: iso(now),
    id: input.id,
    amount: 9_900,
    currency: "usd",
    recurring_interval: "month",
    recurring_interval_count: 1,
    status: input.status,
    current_period_start: iso(start),
    current_period_end: iso(input.periodEnd),
    trial_start: input.trialEnd ? iso(input.trialEnd - 14 * DAY) : null,
    trial_end: input.trialEnd ? iso(input.trialEnd) : null,
    cancel_at_period_end: input.cancelAtPeriodEnd ?? false,
    canceled_at: input.cancelAtPeriodEnd || input.status === "canceled" ? iso(now) : null,
    started_at: iso(start),
    ends_at: ends === null ? null : iso(ends),
    ended_at: input.endedAt ? iso(input.endedAt) : null,
    past_due_at: input.status === "past_due" ? iso(now) : null,
    paused_at: input.status === "paused" ? iso(now) : null,
    customer_id: input.customerId,
    product_id: productId,
    metadata: input.metadata ?? {},
    customer: polarCustomer(input.customerId, input.externalId),
    product,
    prices: product.prices,
    meters: [],
    pending_update: input.pendingUpdate
      ? {
          created_at: iso(now),
          modified_at: null,
          id: crypto.randomUUID(),
          applies_at: iso(input.pendingUpdate.appliesAt),
          product_id: input.pendingUpdate.productId,
          seats: null,
        }
      : null,
  };
}

export function polarOrder(input: {
  id?: string;
  customerId: string;
  subscriptionId?: string | null;
  productId?: string;
  amount: number;
  refundedAmount?: number;
  metadata?: Record<string, string>;
  externalId?: string | null;
  billingReason?: string;
  status?: string;
}) {
  const doc = copy(polarOrderDoc);
  const productId = input.productId ?? POLAR_PRODUCTS["community.professional.month"];
  const now = Date.now();
  const refunded = input.refundedAmount ?? 0;
  const item = doc.items[0];
  return {
    ...doc,
    id: input.id ?? crypto.randomUUID(),
    created_at: iso(now),
    modified_at: iso(now),
    status: input.status ?? (refunded === 0 ? "paid" : refunded < input.amount ? "partially_refunded" : "refunded"),
    paid: true,
    subtotal_amount: input.amount,
    discount_amount: 0,
    net_amount: input.amount,
    tax_amount: 0,
    total_amount: input.amount,
    refunded_amount: refunded,
    currency: "usd",
    billing_reason: input.billingReason ?? (input.subscriptionId ? "subscription_cycle" : "purchase"),
    invoice_number: `POLAR-${now.toString(36).toUpperCase()}`,
    customer_id: input.customerId,
    product_id: productId,
    subscription_id: input.subscriptionId ?? null,
    metadata: input.metadata ?? {},
    customer: polarCustomer(input.customerId, input.externalId),
    product: { ...copy(polarOrderProductDoc), ...polarProduct(productId), prices: undefined },
    subscription: input.subscriptionId
      ? {
          ...copy(polarOrderSubscriptionDoc),
          id: input.subscriptionId,
          amount: input.amount,
          recurring_interval: "month",
          recurring_interval_count: 1,
          status: "active",
          customer_id: input.customerId,
          product_id: productId,
          metadata: input.metadata ?? {},
        }
      : null,
    items: [
      {
        ...item,
        created_at: iso(now),
        id: crypto.randomUUID(),
        label: POLAR_PRODUCT_NAMES[productId] ?? "Plan",
        amount: input.amount,
        tax_amount: 0,
      },
    ],
    description: POLAR_PRODUCT_NAMES[productId] ?? "Plan",
    refundable_amount: input.amount - refunded,
    refundable_tax_amount: 0,
  };
}

export function polarRefund(input: {
  id?: string;
  customerId: string;
  orderId: string;
  subscriptionId?: string | null;
  amount: number;
  status?: string;
}) {
  return {
    ...copy(polarRefundDoc),
    created_at: iso(Date.now()),
    id: input.id ?? crypto.randomUUID(),
    status: input.status ?? "succeeded",
    reason: "customer_request",
    amount: input.amount,
    tax_amount: 0,
    currency: "usd",
    organization_id: POLAR_ORGANIZATION,
    order_id: input.orderId,
    subscription_id: input.subscriptionId ?? null,
    customer_id: input.customerId,
  };
}

export function polarCustomerSession(input: { customerId: string; url: string }) {
  const token = new URL(input.url).searchParams.get("customer_session_token") ?? "polar_cst_test";
  return {
    ...copy(polarCustomerSessionDoc),
    created_at: iso(Date.now()),
    id: crypto.randomUUID(),
    token,
    expires_at: iso(Date.now() + 60 * 60_000),
    customer_portal_url: input.url,
    customer_id: input.customerId,
    customer: polarCustomer(input.customerId, null),
  };
}

export function polarPayload(type: string, data: unknown, options: { timestamp?: number } = {}) {
  return { type, timestamp: new Date(options.timestamp ?? Date.now()).toISOString(), data };
}

// ---------------------------------------------------------------- world

export interface BillingWorld {
  communityId: string;
  ownerId: string;
  ownerDiscordId: string;
  tenant: ReturnType<typeof forCommunity>;
}

/** A community with its owner (an admin in it), for billing it. */
export async function newBillingWorld(name = "Billing test community"): Promise<BillingWorld> {
  const ownerDiscordId = snowflake();
  const owner = await upsertUser(db, { discordId: ownerDiscordId, username: "owner" });
  const { communityId, tenant } = await newCommunity({ name, ownerUserId: owner.id });
  await tenant.memberships.upsert(owner.id, "owner");
  return { communityId, ownerId: owner.id, ownerDiscordId, tenant };
}

export async function newMember(world: BillingWorld, role: "trader" | "provider" = "trader") {
  const discordId = snowflake();
  const user = await upsertUser(db, { discordId, username: `member-${discordId.slice(-4)}` });
  await world.tenant.memberships.upsert(user.id, role);
  return { userId: user.id, discordId };
}

export const communityMetadata = (communityId: string, userId?: string) => ({
  dte_subject: "community",
  dte_community_id: communityId,
  ...(userId ? { dte_user_id: userId } : {}),
  dte_plan: "professional",
});

/** Stripe's event for a new subscription made by our checkout (`metadata` says for whom), active for 20 more days. */
export function activeSubscriptionCreated(
  metadata: Record<string, string>,
  changes: Partial<StripeSubscriptionInput> = {},
) {
  return stripeEvent(
    "customer.subscription.created",
    stripeSubscription({
      id: uid("sub"),
      customer: uid("cus"),
      status: "active",
      periodEnd: Date.now() + 20 * DAY,
      metadata,
      ...changes,
    }),
  );
}

/** Stripe announcing a community's Professional subscription, active for 20 more days. */
export function postActiveCommunitySubscription(communityId: string, userId?: string) {
  return postStripe(activeSubscriptionCreated(communityMetadata(communityId, userId)));
}

export const traderMetadata = (userId: string, plan = "basic") => ({
  dte_subject: "trader",
  dte_user_id: userId,
  dte_plan: plan,
});

/**
 * A community's subscription made by our checkout (its metadata names the community): `snapshot` builds the
 * provider's object as it is at one moment, `send` posts it as a signed event.
 */
export function stripeCommunitySubscription(
  world: BillingWorld,
  base: Omit<StripeSubscriptionInput, "id" | "customer" | "metadata" | "status">,
) {
  const id = uid("sub");
  const customer = uid("cus");
  const metadata = communityMetadata(world.communityId, world.ownerId);
  const snapshot = (changes: Partial<StripeSubscriptionInput> & { status: string }) =>
    stripeSubscription({ id, customer, metadata, ...base, ...changes });
  return {
    id,
    customer,
    metadata,
    snapshot,
    send: (
      type: string,
      changes: Partial<StripeSubscriptionInput> & { status: string },
      options: { created?: number } = {},
    ) => postStripe(stripeEvent(type, snapshot(changes), options)),
  };
}

export function polarCommunitySubscription(
  world: BillingWorld,
  base: Omit<PolarSubscriptionInput, "id" | "customerId" | "metadata" | "status">,
) {
  const id = crypto.randomUUID();
  const customerId = crypto.randomUUID();
  const metadata = communityMetadata(world.communityId, world.ownerId);
  const snapshot = (changes: Partial<PolarSubscriptionInput> & { status: string }) =>
    polarSubscription({ id, customerId, metadata, ...base, ...changes });
  return {
    id,
    customerId,
    metadata,
    snapshot,
    send: (
      type: string,
      changes: Partial<PolarSubscriptionInput> & { status: string },
      options: { timestamp?: number } = {},
    ) => postPolar(polarPayload(type, snapshot(changes), options)),
  };
}

export async function tierOf(communityId: string): Promise<string | undefined> {
  const row = await env.DB.prepare("SELECT tier FROM communities WHERE id = ?")
    .bind(communityId)
    .first<{ tier: string }>();
  return row?.tier;
}

export async function traderPlanOf(userId: string): Promise<string | undefined> {
  const row = await env.DB.prepare("SELECT plan FROM trader_plans WHERE user_id = ?")
    .bind(userId)
    .first<{ plan: string }>();
  return row?.plan;
}

export async function subscriptionRow(provider: string, providerSubscriptionId: string) {
  return env.DB.prepare("SELECT * FROM subscriptions WHERE provider = ? AND provider_subscription_id = ?")
    .bind(provider, providerSubscriptionId)
    .first<Record<string, unknown>>();
}

export async function auditEvents(communityId: string, event: string) {
  const { results } = await env.DB.prepare(
    "SELECT event, target, data FROM audit_log WHERE community_id = ? AND event = ? ORDER BY seq",
  )
    .bind(communityId, event)
    .all<{ event: string; target: string; data: string }>();
  return results.map((row) => ({ ...row, data: JSON.parse(row.data) as Record<string, unknown> }));
}

// ---------------------------------------------------------------- queues

export interface CapturedQueues {
  billing: unknown[];
  dms: Extract<Notification, { kind: "dm" }>[];
  spies: MockInstance[];
  /** Runs every captured billing message through the real consumer, until no new ones appear. */
  drain(withEnv?: Env): Promise<{ retried: string[] }>;
  /** DM texts sent to one Discord user. */
  dmsTo(discordUserId: string): string[];
  restore(): void;
}

/**
 * Captures what the Worker sends to BILLING_QUEUE and NOTIFY_QUEUE (tests run
 * in the Worker's isolate, so the bindings are the same objects), so a test
 * can run the consumer deterministically and read every DM.
 */
function captureQueues(): CapturedQueues {
  const billing: unknown[] = [];
  const dms: Extract<Notification, { kind: "dm" }>[] = [];
  const spies: MockInstance[] = [
    vi.spyOn(env.BILLING_QUEUE, "send").mockImplementation(async (body: unknown) => {
      billing.push(body);
      return undefined as never;
    }),
    vi.spyOn(env.BILLING_QUEUE, "sendBatch").mockImplementation(async (messages: Iterable<MessageSendRequest>) => {
      for (const message of messages) billing.push(message.body);
      return undefined as never;
    }),
    vi.spyOn(env.NOTIFY_QUEUE, "send").mockImplementation(async (body: unknown) => {
      const notification = body as Notification;
      if (notification.kind === "dm") dms.push(notification);
      return undefined as never;
    }),
  ];
  let consumed = 0;
  return {
    billing,
    dms,
    spies,
    async drain(withEnv = currentEnv) {
      const retried: string[] = [];
      while (consumed < billing.length) {
        const pending = billing.slice(consumed);
        consumed = billing.length;
        const batch = createMessageBatch(
          "billing-events",
          pending.map((body) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body })),
        );
        const ctx = createExecutionContext();
        await worker.queue(batch, withEnv, ctx);
        const result = await getQueueResult(batch, ctx);
        retried.push(...result.retryMessages.map((m) => m.msgId));
      }
      return { retried };
    },
    dmsTo(discordUserId: string) {
      return dms.filter((dm) => dm.discordUserId === discordUserId).map((dm) => dm.message.content ?? "");
    },
    restore() {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/**
 * Captures the queues around each test of the calling suite (fresh captures per test; the env, spies and mocks
 * are put back after it). The returned object always speaks for the running test's capture.
 */
export function useCapturedQueues(): CapturedQueues {
  let current: CapturedQueues | null = null;
  beforeEach(() => {
    current = captureQueues();
  });
  afterEach(() => {
    current?.restore();
    current = null;
    resetEnv();
    vi.restoreAllMocks();
  });
  const now = () => {
    if (!current) throw new Error("Queues are captured only while a test runs.");
    return current;
  };
  return {
    get billing() {
      return now().billing;
    },
    get dms() {
      return now().dms;
    },
    get spies() {
      return now().spies;
    },
    drain: (withEnv) => now().drain(withEnv),
    dmsTo: (discordUserId) => now().dmsTo(discordUserId),
    restore: () => now().restore(),
  };
}

/** Fires the billing cron as Cloudflare would, at `scheduledTime`. */
export async function fireBillingCron(scheduledTime = Date.now(), withEnv: Env = currentEnv): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled({ cron: "*/15 * * * *", scheduledTime, noRetry() {} } as ScheduledController, withEnv, ctx);
}

// ---------------------------------------------------------------- outside APIs

export interface FakeApi {
  calls: {
    method: string;
    url: URL;
    body: string;
    authorization: string | null;
    idempotencyKey: string | null;
  }[];
  restore(): void;
}

/**
 * Fakes Stripe and Polar at the HTTP boundary; `routes` answers by "METHOD host/path-prefix". A route returns the
 * JSON body of a 200, or a Response for any other status (Polar answers a created refund with 201).
 */
export function fakeBillingApis(routes: Record<string, (url: URL, body: string) => unknown>): FakeApi {
  const calls: FakeApi["calls"] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const body = request.method === "GET" ? "" : new TextDecoder().decode(await request.arrayBuffer());
    calls.push({
      method: request.method,
      url,
      body,
      authorization: request.headers.get("authorization"),
      idempotencyKey: request.headers.get("idempotency-key"),
    });
    const entry = Object.entries(routes)
      .sort(([a], [b]) => b.length - a.length)
      .find(([key]) => {
        const [method, prefix] = key.split(" ");
        return method === request.method && `${url.host}${url.pathname}`.startsWith(prefix ?? "");
      });
    if (!entry)
      return new Response(JSON.stringify({ error: { message: `no fake for ${request.method} ${url}` } }), {
        status: 404,
      });
    const answer = entry[1](url, body);
    if (answer instanceof Response) return answer;
    return new Response(JSON.stringify(answer), {
      status: 200,
      headers: { "content-type": "application/json", "request-id": "req_test" },
    });
  });
  return { calls, restore: () => spy.mockRestore() };
}
