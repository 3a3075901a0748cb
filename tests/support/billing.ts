import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { type MockInstance, vi } from "vitest";
import type { Notification } from "../../shared/notifications/message";
import worker from "../../workers/app";
import { database } from "../../workers/db/client";
import { communityDirectory, upsertUser } from "../../workers/db/directory";
import { forCommunity } from "../../workers/db/tenant";
import { BASE } from "./http";
import { TEST_VARS } from "./test-vars";

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
let snowflakeCounter = 0n;
export const snowflake = () =>
  String(((BigInt(Date.now()) - 1420070400000n) << 22n) | (++snowflakeCounter & 0x3fffffn));

// ---------------------------------------------------------------- senders

export async function stripeSignature(payload: string, options: { timestamp?: number; secret?: string } = {}) {
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
export function resetEnv(): void {
  currentEnv = billingEnv();
}

// ---------------------------------------------------------------- payloads

export interface StripeSubscriptionInput {
  id: string;
  customer: string;
  status: string;
  price?: string;
  /** Epoch ms. */
  periodEnd: number;
  cancelAtPeriodEnd?: boolean;
  trialEnd?: number | null;
  metadata?: Record<string, string>;
  /** Recent API versions put current_period_end on items only. */
  periodEndOnSubscription?: boolean;
}

export function stripeSubscription(input: StripeSubscriptionInput) {
  const periodEnd = seconds(input.periodEnd);
  const price = input.price ?? "price_test_pro_month";
  return {
    id: input.id,
    object: "subscription",
    application: null,
    billing_cycle_anchor: periodEnd - 30 * 86400,
    cancel_at: input.cancelAtPeriodEnd ? periodEnd : null,
    cancel_at_period_end: input.cancelAtPeriodEnd ?? false,
    canceled_at: null,
    collection_method: "charge_automatically",
    created: periodEnd - 30 * 86400,
    currency: "usd",
    ...(input.periodEndOnSubscription
      ? { current_period_end: periodEnd, current_period_start: periodEnd - 30 * 86400 }
      : {}),
    customer: input.customer,
    ended_at: null,
    items: {
      object: "list",
      data: [
        {
          id: `si_${input.id.slice(4)}`,
          object: "subscription_item",
          current_period_end: periodEnd,
          current_period_start: periodEnd - 30 * 86400,
          price: {
            id: price,
            object: "price",
            active: true,
            currency: "usd",
            product: "prod_test",
            recurring: { interval: price.endsWith("year") ? "year" : "month", interval_count: 1 },
            type: "recurring",
            unit_amount: 9900,
          },
          quantity: 1,
          subscription: input.id,
        },
      ],
      has_more: false,
    },
    livemode: false,
    metadata: input.metadata ?? {},
    status: input.status,
    trial_end: input.trialEnd ? seconds(input.trialEnd) : null,
    trial_start: input.trialEnd ? seconds(input.trialEnd) - 14 * 86400 : null,
  };
}

export function stripeEvent(type: string, object: unknown, options: { id?: string; created?: number } = {}) {
  return {
    id: options.id ?? uid("evt"),
    object: "event",
    api_version: "2026-10-28.endive",
    created: seconds(options.created ?? Date.now()),
    data: { object },
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
}) {
  return {
    id: input.id ?? uid("in"),
    object: "invoice",
    amount_due: input.amountPaid,
    amount_paid: input.amountPaid,
    billing_reason: "subscription_cycle",
    currency: "usd",
    customer: input.customer,
    hosted_invoice_url: "https://invoice.stripe.com/i/acct_test/test",
    parent: {
      type: "subscription_details",
      quote_details: null,
      subscription_details: { metadata: input.metadata ?? {}, subscription: input.subscription },
    },
    status: "paid",
  };
}

export function stripeCharge(input: { customer: string; amountRefunded: number }) {
  return {
    id: uid("ch"),
    object: "charge",
    amount: 9900,
    amount_refunded: input.amountRefunded,
    currency: "usd",
    customer: input.customer,
    refunded: input.amountRefunded >= 9900,
    status: "succeeded",
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
  metadata?: Record<string, string>;
  externalId?: string | null;
}

export function polarSubscription(input: PolarSubscriptionInput) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    created_at: iso(input.periodEnd - 30 * DAY),
    modified_at: iso(Date.now()),
    id: input.id,
    amount: 9900,
    currency: "usd",
    recurring_interval: "month",
    status: input.status,
    current_period_start: iso(input.periodEnd - 30 * DAY),
    current_period_end: iso(input.periodEnd),
    trial_start: input.trialEnd ? iso(input.trialEnd - 14 * DAY) : null,
    trial_end: input.trialEnd ? iso(input.trialEnd) : null,
    cancel_at_period_end: input.cancelAtPeriodEnd ?? false,
    canceled_at: null,
    started_at: iso(input.periodEnd - 30 * DAY),
    ends_at: input.cancelAtPeriodEnd ? iso(input.periodEnd) : null,
    ended_at: null,
    customer_id: input.customerId,
    product_id: input.productId ?? "polar_prod_pro_month",
    discount_id: null,
    checkout_id: null,
    customer_cancellation_reason: null,
    customer_cancellation_comment: null,
    metadata: input.metadata ?? {},
    customer: {
      id: input.customerId,
      external_id: input.externalId ?? null,
      email: "payer@example.com",
      name: "Payer",
      metadata: {},
    },
    product: { id: input.productId ?? "polar_prod_pro_month", name: "Professional", is_recurring: true },
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

/** A community with its owner (an admin in it). */
export async function newCommunity(name = "Billing test community"): Promise<BillingWorld> {
  const ownerDiscordId = snowflake();
  const owner = await upsertUser(db, { discordId: ownerDiscordId, username: "owner" });
  const { community } = await communityDirectory(db).create({ guildId: snowflake(), name, ownerUserId: owner.id });
  const tenant = forCommunity(db, community.id);
  await tenant.memberships.upsert(owner.id, "owner");
  return { communityId: community.id, ownerId: owner.id, ownerDiscordId, tenant };
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

export const traderMetadata = (userId: string, plan = "basic") => ({
  dte_subject: "trader",
  dte_user_id: userId,
  dte_plan: plan,
});

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
export function captureQueues(): CapturedQueues {
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

/** Fires the billing cron as Cloudflare would, at `scheduledTime`. */
export async function fireBillingCron(scheduledTime = Date.now(), withEnv: Env = currentEnv): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled({ cron: "*/15 * * * *", scheduledTime, noRetry() {} } as ScheduledController, withEnv, ctx);
}

// ---------------------------------------------------------------- outside APIs

export interface FakeApi {
  calls: { method: string; url: URL; body: string; authorization: string | null }[];
  restore(): void;
}

/** Fakes Stripe and Polar at the HTTP boundary; `routes` answers by "METHOD path-prefix". */
export function fakeBillingApis(routes: Record<string, (url: URL, body: string) => unknown>): FakeApi {
  const calls: FakeApi["calls"] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const body = request.method === "GET" ? "" : new TextDecoder().decode(await request.arrayBuffer());
    calls.push({ method: request.method, url, body, authorization: request.headers.get("authorization") });
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
    return new Response(JSON.stringify(entry[1](url, body)), {
      status: 200,
      headers: { "content-type": "application/json", "request-id": "req_test" },
    });
  });
  return { calls, restore: () => spy.mockRestore() };
}
