import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { billingContext } from "../../platform/billing/context";
import { loadConfig } from "../../shared/config";
import { rootLogger } from "../../shared/logging";
import worker from "../../workers/app";
import { refundPayment } from "../../workers/billing/refunds";
import {
  auditEvents,
  type BillingWorld,
  DAY,
  fakeBillingApis,
  newBillingWorld,
  newMember,
  polarCommunitySubscription,
  polarOrder,
  polarPayload,
  polarRefund,
  postPolar,
  postStripe,
  stripeCharge,
  stripeCommunitySubscription,
  stripeEvent,
  stripeInvoice,
  stripeInvoicePayment,
  stripePaymentIntent,
  stripeRefund,
  uid,
  useCapturedQueues,
  useEnv,
} from "../support/billing";
import { call, errorOf, opsHeaders } from "../support/http";

/**
 * Refunds by an admin through the provider that took the payment, faked at the HTTP boundary with the providers'
 * documented objects: Stripe's invoice (with its payments), payment intent, charge and refund; Polar's order and
 * refund.
 */

const refundRequest = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: opsHeaders({ "content-type": "application/json", ...headers }),
  body: typeof body === "string" ? body : JSON.stringify(body),
});

/** A community billed by Stripe, with a paid $299.00 invoice whose charge has `refunded` already refunded. */
async function stripeCustomer(world: BillingWorld) {
  const subscription = stripeCommunitySubscription(world, {
    price: "price_test_ent_month",
    periodEnd: Date.now() + 20 * DAY,
  });
  await subscription.send("customer.subscription.created", { status: "active" });
  return {
    customer: subscription.customer,
    sub: subscription.id,
    invoice: uid("in"),
    intent: uid("pi"),
    charge: uid("ch"),
  };
}

function fakeStripePayment(
  payment: { customer: string; sub: string; invoice: string; intent: string; charge: string },
  refunded: { total: number },
) {
  const amount = 29_900;
  return fakeBillingApis({
    [`GET api.stripe.com/v1/invoices/${payment.invoice}`]: () => {
      const invoice = stripeInvoice({
        id: payment.invoice,
        customer: payment.customer,
        subscription: payment.sub,
        amountPaid: amount,
        lines: [{ price: "price_test_ent_month", amount }],
      });
      const paid = stripeInvoicePayment({ invoice: payment.invoice, paymentIntent: payment.intent, amount });
      return {
        ...invoice,
        payments: { object: "list", data: [paid], has_more: false, url: `/v1/invoices/${payment.invoice}/payments` },
      };
    },
    [`GET api.stripe.com/v1/payment_intents/${payment.intent}`]: () =>
      stripePaymentIntent({
        id: payment.intent,
        customer: payment.customer,
        amount,
        latestCharge: stripeCharge({
          id: payment.charge,
          customer: payment.customer,
          amount,
          amountRefunded: refunded.total,
        }),
      }),
    "POST api.stripe.com/v1/refunds": (_url, body) => {
      const form = new URLSearchParams(body);
      const value = Number(form.get("amount"));
      refunded.total += value;
      return stripeRefund({ charge: form.get("charge") ?? "", paymentIntent: payment.intent, amount: value });
    },
  });
}

describe("refunds by an admin", () => {
  const queues = useCapturedQueues();

  it("Scenario: An operator refunds a Stripe payment in part and then in full", async () => {
    const world = await newBillingWorld("Refund Traders");
    const payment = await stripeCustomer(world);
    await queues.drain();
    const refunded = { total: 0 };
    const api = fakeStripePayment(payment, refunded);

    const partial = await call(
      `/api/v1/communities/${world.communityId}/billing/refunds`,
      refundRequest(
        { paymentId: payment.invoice, amount: 10_000, comment: "Outage on the 3rd" },
        {
          "idempotency-key": "refund-outage-3",
        },
      ),
    );
    expect(partial.status).toBe(201);
    expect(await partial.json()).toMatchObject({
      provider: "stripe",
      paymentId: payment.invoice,
      amount: 10_000,
      currency: "usd",
      status: "succeeded",
      full: false,
    });
    const create = api.calls.find((c) => c.method === "POST");
    expect(create?.url.pathname).toBe("/v1/refunds");
    expect(create?.idempotencyKey).toBe("refund-outage-3");
    const form = new URLSearchParams(create?.body);
    expect(form.get("charge")).toBe(payment.charge);
    expect(form.get("amount")).toBe("10000");
    expect(form.get("reason")).toBe("requested_by_customer");
    expect(form.get("metadata[dte_community_id]")).toBe(world.communityId);
    expect(form.get("metadata[dte_comment]")).toBe("Outage on the 3rd");

    const audited = await auditEvents(world.communityId, "billing.refund_issued");
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({
      target: payment.invoice,
      data: { provider: "stripe", amount: 10_000, full: false, reason: "customer_request" },
    });

    // The payer is told once: Stripe's charge.refunded for the same money carries the same notice key.
    await postStripe(
      stripeEvent(
        "charge.refunded",
        stripeCharge({ id: payment.charge, customer: payment.customer, amount: 29_900, amountRefunded: 10_000 }),
        { previousAttributes: { amount_refunded: 0 } },
      ),
    );
    await queues.drain();
    const notices = queues.dms.filter((dm) => dm.message.content?.startsWith("A refund of $100.00"));
    expect(notices).toHaveLength(2);
    expect(new Set(notices.map((dm) => dm.key)).size).toBe(1);
    expect(notices[0]?.discordUserId).toBe(world.ownerDiscordId);

    // The rest: no amount means everything still refundable.
    const rest = await call(
      `/api/v1/communities/${world.communityId}/billing/refunds`,
      refundRequest({ paymentId: payment.invoice, reason: "service_disruption" }),
    );
    expect(rest.status).toBe(201);
    expect(await rest.json()).toMatchObject({ amount: 19_900, full: true });
    expect(queues.dmsTo(world.ownerDiscordId).filter((text) => text.startsWith("A refund of $199.00"))).toHaveLength(1);

    const nothingLeft = await call(
      `/api/v1/communities/${world.communityId}/billing/refunds`,
      refundRequest({ paymentId: payment.invoice, amount: 1 }),
    );
    expect(nothingLeft.status).toBe(409);
    expect((await errorOf(nothingLeft)).code).toBe("ALREADY_REFUNDED");
    expect(api.calls.filter((c) => c.method === "POST")).toHaveLength(2);
  });

  it("Scenario: A refund larger than what is left is refused before the provider is asked", async () => {
    const world = await newBillingWorld();
    const payment = await stripeCustomer(world);
    await queues.drain();
    const api = fakeStripePayment(payment, { total: 29_000 });
    const tooMuch = await call(
      `/api/v1/communities/${world.communityId}/billing/refunds`,
      refundRequest({ paymentId: payment.invoice, amount: 1_000 }),
    );
    expect(tooMuch.status).toBe(422);
    expect(await errorOf(tooMuch)).toMatchObject({
      code: "REFUND_TOO_LARGE",
      details: [{ refundable: 900, currency: "usd" }],
    });
    expect(api.calls.filter((c) => c.method === "POST")).toEqual([]);
    expect(await auditEvents(world.communityId, "billing.refund_issued")).toEqual([]);
  });

  it("Scenario: An operator refunds a Polar order", async () => {
    const polarEnv = useEnv({ BILLING_PROVIDER: "polar" });
    const world = await newBillingWorld("Polar Refunds");
    const subscription = polarCommunitySubscription(world, { periodEnd: Date.now() + 20 * DAY });
    const { customerId, metadata, id: subscriptionId } = subscription;
    await subscription.send("subscription.active", { status: "active" });
    await queues.drain();
    const order = polarOrder({ customerId, subscriptionId, amount: 9_900, metadata });
    let refundId = "";
    const api = fakeBillingApis({
      [`GET api.polar.sh/v1/orders/${order.id}`]: () => order,
      "POST api.polar.sh/v1/refunds/": (_url, body) => {
        const sent = JSON.parse(body) as { amount: number };
        const refund = polarRefund({ customerId, orderId: order.id, subscriptionId, amount: sent.amount });
        refundId = refund.id;
        return new Response(JSON.stringify(refund), { status: 201, headers: { "content-type": "application/json" } });
      },
    });
    const res = await worker.fetch(
      new Request(`http://dte.test/api/v1/communities/${world.communityId}/billing/refunds`, {
        ...refundRequest({ paymentId: order.id, amount: 4_950, reason: "duplicate" }),
      }),
      polarEnv,
      createExecutionContext(),
    );
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ provider: "polar", refundId, amount: 4_950, full: false });
    const sent = JSON.parse(api.calls.find((c) => c.method === "POST")?.body ?? "{}");
    expect(sent).toMatchObject({ order_id: order.id, reason: "duplicate", amount: 4_950, revoke_benefits: false });
    expect(sent.metadata).toMatchObject({
      dte_community_id: world.communityId,
      dte_refunded_by: expect.stringMatching(/^ops:/),
    });
    expect(api.calls.every((c) => c.authorization?.startsWith("Bearer polar_oat_"))).toBe(true);

    // Polar's refund.created for that refund is announced under the same key: the payer hears once.
    await postPolar(
      polarPayload("refund.created", polarRefund({ id: refundId, customerId, orderId: order.id, amount: 4_950 })),
    );
    await queues.drain();
    const notices = queues.dms.filter((dm) => dm.message.content?.startsWith("A refund of $49.50"));
    expect(new Set(notices.map((dm) => dm.key)).size).toBe(1);
    expect(await auditEvents(world.communityId, "billing.refund_issued")).toHaveLength(1);
    api.restore();

    // Polar says the order is fully refunded already (403 RefundedAlready).
    fakeBillingApis({
      [`GET api.polar.sh/v1/orders/${order.id}`]: () => ({ ...order, refundable_amount: 4_950 }),
      "POST api.polar.sh/v1/refunds/": () =>
        new Response(JSON.stringify({ error: "RefundedAlready", detail: "Order is already fully refunded." }), {
          status: 403,
        }),
    });
    const refused = await worker.fetch(
      new Request(
        `http://dte.test/api/v1/communities/${world.communityId}/billing/refunds`,
        refundRequest({ paymentId: order.id }),
      ),
      polarEnv,
      createExecutionContext(),
    );
    expect(refused.status).toBe(409);
    expect((await errorOf(refused)).code).toBe("ALREADY_REFUNDED");
  });

  it("Scenario: Only operators and the community's owners and admins refund, and only its own payments", async () => {
    const world = await newBillingWorld();
    const payment = await stripeCustomer(world);
    await queues.drain();
    const noToken = await call(`/api/v1/communities/${world.communityId}/billing/refunds`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ paymentId: payment.invoice }),
    });
    expect(noToken.status).toBe(401);
    await noToken.body?.cancel();

    // Another community's invoice is not this community's to refund.
    const other = await newBillingWorld();
    const theirs = await stripeCustomer(other);
    await queues.drain();
    const api = fakeStripePayment(theirs, { total: 0 });
    const foreign = await call(
      `/api/v1/communities/${world.communityId}/billing/refunds`,
      refundRequest({ paymentId: theirs.invoice }),
    );
    expect(foreign.status).toBe(404);
    expect((await errorOf(foreign)).code).toBe("PAYMENT_NOT_FOUND");
    expect(api.calls.filter((c) => c.method === "POST")).toEqual([]);
    api.restore();

    // Members: the owner and admins may, a trader may not, and a stranger learns nothing.
    const configResult = loadConfig(env as never);
    if (!configResult.ok) throw new Error("test config invalid");
    const ctx = billingContext(env, configResult.config, rootLogger);
    const trader = await newMember(world);
    const adminMember = await newMember(world);
    await world.tenant.memberships.upsert(adminMember.userId, "admin");
    const stranger = await newMember(other);
    const ask = (userId: string, amount: number) =>
      refundPayment(ctx, {
        communityId: world.communityId,
        actor: { kind: "member", userId },
        paymentId: payment.invoice,
        amount,
        reason: "customer_request",
        comment: null,
        idempotencyKey: null,
      });
    fakeStripePayment(payment, { total: 0 });
    await expect(ask(trader.userId, 100)).rejects.toMatchObject({ status: 403, code: "FORBIDDEN" });
    await expect(ask(stranger.userId, 100)).rejects.toMatchObject({ status: 404 });
    await expect(ask(adminMember.userId, 100)).resolves.toMatchObject({ amount: 100 });
    await expect(ask(world.ownerId, 200)).resolves.toMatchObject({ amount: 200 });
    const actors = (await auditEvents(world.communityId, "billing.refund_issued")).map((entry) => entry.data.amount);
    expect(actors).toEqual([100, 200]);
  });

  it("Scenario: A refund request with bad input is refused", async () => {
    const world = await newBillingWorld();
    const payment = await stripeCustomer(world);
    await queues.drain();
    const api = fakeStripePayment(payment, { total: 0 });
    const path = `/api/v1/communities/${world.communityId}/billing/refunds`;
    for (const body of [
      {},
      { paymentId: payment.invoice, amount: 0 },
      { paymentId: payment.invoice, amount: -500 },
      { paymentId: payment.invoice, amount: 12.5 },
      { paymentId: payment.invoice, amount: "100" },
      { paymentId: payment.invoice, reason: "because" },
      { paymentId: payment.invoice, comment: "" },
      { paymentId: payment.invoice, coupon: "x" },
    ]) {
      const res = await call(path, refundRequest(body));
      expect(res.status, JSON.stringify(body)).toBe(400);
      await res.body?.cancel();
    }
    const badId = await call(path, refundRequest({ paymentId: "sub_123" }));
    expect(badId.status).toBe(400);
    expect((await errorOf(badId)).code).toBe("PAYMENT_ID_INVALID");
    const longKey = await call(
      path,
      refundRequest({ paymentId: payment.invoice }, { "idempotency-key": "k".repeat(256) }),
    );
    expect(longKey.status).toBe(400);
    await longKey.body?.cancel();
    const notJson = await call(path, refundRequest("paymentId=in_1"));
    expect(notJson.status).toBe(400);
    await notJson.body?.cancel();
    const unknown = await call(
      `/api/v1/communities/${crypto.randomUUID()}/billing/refunds`,
      refundRequest({ paymentId: payment.invoice }),
    );
    expect(unknown.status).toBe(404);
    await unknown.body?.cancel();
    expect(api.calls).toEqual([]);
  });

  it("Scenario: An admin lists the community's payments to pick one to refund", async () => {
    const world = await newBillingWorld();
    const payment = await stripeCustomer(world);
    await queues.drain();
    const api = fakeBillingApis({
      "GET api.stripe.com/v1/invoices": () => ({
        object: "list",
        url: "/v1/invoices",
        has_more: false,
        data: [
          stripeInvoice({
            id: payment.invoice,
            customer: payment.customer,
            subscription: payment.sub,
            amountPaid: 29_900,
          }),
        ],
      }),
    });
    const res = await call(`/api/v1/communities/${world.communityId}/billing/payments`, { headers: opsHeaders() });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      payments: [{ id: payment.invoice, provider: "stripe", status: "paid", amount: 29_900, currency: "usd" }],
    });
    expect(api.calls[0]?.url.searchParams.get("customer")).toBe(payment.customer);
  });
});
