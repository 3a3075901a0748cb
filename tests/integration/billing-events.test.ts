import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../workers/app";
import {
  activeSubscriptionCreated,
  auditEvents,
  communityMetadata,
  DAY,
  fakeBillingApis,
  fireBillingCron,
  newBillingWorld,
  polarOrder,
  polarPayload,
  polarRefund,
  polarSubscription,
  postPolar,
  postStripe,
  stripeCharge,
  stripeEvent,
  stripeInvoice,
  stripeSubscription,
  subscriptionRow,
  tierOf,
  uid,
  useCapturedQueues,
  useEnv,
} from "../support/billing";
import { BASE, opsHeaders } from "../support/http";
import { POLAR_PRODUCTS } from "../support/test-vars";

describe("billing-events consumer", () => {
  const queues = useCapturedQueues();

  it("Scenario: Out-of-order events cannot move a plan backwards", async () => {
    const world = await newBillingWorld();
    const sub = uid("sub");
    const customer = uid("cus");
    const periodEnd = Date.now() + 20 * DAY;
    const start = Date.now() - 60 * 60_000;
    const at = (offsetMinutes: number) => start + offsetMinutes * 60_000;
    const snapshot = (price: string, cancelAtPeriodEnd = false) =>
      stripeSubscription({
        id: sub,
        customer,
        status: "active",
        price,
        periodEnd,
        cancelAtPeriodEnd,
        metadata: communityMetadata(world.communityId, world.ownerId),
      });
    const created = stripeEvent("customer.subscription.created", snapshot("price_test_pro_month"), { created: at(0) });
    const upgraded = stripeEvent("customer.subscription.updated", snapshot("price_test_ent_month"), {
      created: at(10),
    });
    const canceled = stripeEvent("customer.subscription.updated", snapshot("price_test_ent_month", true), {
      created: at(20),
    });

    // Delivered newest first: the upgrade, then the cancellation, then the creation arrives late.
    for (const event of [upgraded, canceled, created]) expect((await postStripe(event)).status).toBe(200);
    await queues.drain();

    expect(await tierOf(world.communityId)).toBe("enterprise");
    expect(await subscriptionRow("stripe", sub)).toMatchObject({
      plan: "enterprise",
      cancel_at_period_end: 1,
      last_event_at: Math.floor(at(20) / 1000) * 1000,
    });
    const changes = await auditEvents(world.communityId, "billing.plan_changed");
    expect(changes.map((entry) => [entry.data.from, entry.data.to])).toEqual([["free", "enterprise"]]);

    // Two snapshots in the same second (Stripe's resolution) cannot be ordered: Stripe's current state decides.
    const api = fakeBillingApis({
      [`GET api.stripe.com/v1/subscriptions/${sub}`]: () => snapshot("price_test_ent_month", true),
    });
    const sameSecond = stripeEvent(
      "customer.subscription.updated",
      { ...snapshot("price_test_ent_month"), status: "incomplete" },
      { created: at(20) },
    );
    expect((await postStripe(sameSecond)).status).toBe(200);
    await queues.drain();
    expect(api.calls.map((call) => `${call.method} ${call.url.pathname}`)).toEqual([`GET /v1/subscriptions/${sub}`]);
    expect(await subscriptionRow("stripe", sub)).toMatchObject({ status: "active", cancel_at_period_end: 1 });
    expect(await tierOf(world.communityId)).toBe("enterprise");
  });

  it("Scenario: A duplicate billing delivery through the queue changes nothing", async () => {
    const world = await newBillingWorld();
    const event = activeSubscriptionCreated(communityMetadata(world.communityId, world.ownerId));
    expect((await postStripe(event)).status).toBe(200);
    const message = queues.billing[0];
    // The queue delivers the same message three times, two of them at once.
    queues.billing.push(message, message);
    await queues.drain();
    queues.billing.push(message);
    await queues.drain();

    expect(await tierOf(world.communityId)).toBe("professional");
    expect(await auditEvents(world.communityId, "billing.plan_changed")).toHaveLength(1);
    const planDms = queues.dms.filter((dm) => dm.message.content?.includes("plan is now"));
    expect(new Set(planDms.map((dm) => dm.key)).size).toBe(1);
  });

  it("Scenario: The payer is told about payments, failures, renewals, cancellations and refunds", async () => {
    const world = await newBillingWorld("Notice Traders");
    const sub = uid("sub");
    const customer = uid("cus");
    const periodEnd = Date.now() + 2 * DAY + 12 * 60 * 60_000;
    const metadata = communityMetadata(world.communityId, world.ownerId);
    const snapshot = (status: string, cancelAtPeriodEnd = false) =>
      stripeSubscription({ id: sub, customer, status, periodEnd, cancelAtPeriodEnd, metadata });
    const t0 = Date.now() - 10 * 60_000;

    await postStripe(stripeEvent("customer.subscription.created", snapshot("active"), { created: t0 }));
    await postStripe(
      stripeEvent("invoice.paid", stripeInvoice({ customer, subscription: sub, amountPaid: 9900, metadata }), {
        created: t0,
      }),
    );
    await queues.drain();
    // The renewal reminder: the period ends in two and a half days.
    await fireBillingCron(Date.now());
    await queues.drain();
    await postStripe(stripeEvent("customer.subscription.updated", snapshot("past_due"), { created: t0 + 60_000 }));
    await postStripe(stripeEvent("customer.subscription.updated", snapshot("active", true), { created: t0 + 120_000 }));
    await postStripe(stripeEvent("charge.refunded", stripeCharge({ customer, amountRefunded: 9900 }), { created: t0 }));
    await queues.drain();

    const told = queues.dmsTo(world.ownerDiscordId);
    expect(told.filter((text) => text.startsWith("Payment received: $99.00"))).toHaveLength(1);
    expect(told.filter((text) => /renews on <t:\d+:D>/.test(text))).toHaveLength(1);
    expect(
      told.filter((text) => text.includes("payment for **Notice Traders**'s Professional plan failed")),
    ).toHaveLength(1);
    expect(told.filter((text) => text.includes("subscription is canceled"))).toHaveLength(1);
    expect(told.filter((text) => text.startsWith("A refund of $99.00"))).toHaveLength(1);
    expect(queues.dms.every((dm) => dm.kind === "dm" && dm.communityId === world.communityId)).toBe(true);

    // Polar: a paid order and its refund reach the payer too.
    const polarWorld = await newBillingWorld("Polar Notice Traders");
    const polarCustomer = uid("polar_cus");
    const polarSub = uid("polar_sub");
    const polarMetadata = communityMetadata(polarWorld.communityId, polarWorld.ownerId);
    await postPolar(
      polarPayload(
        "subscription.active",
        polarSubscription({
          id: polarSub,
          customerId: polarCustomer,
          status: "active",
          periodEnd: Date.now() + 25 * DAY,
          metadata: polarMetadata,
        }),
      ),
    );
    const order = polarOrder({
      customerId: polarCustomer,
      subscriptionId: polarSub,
      amount: 9900,
      metadata: polarMetadata,
      billingReason: "subscription_create",
    });
    await postPolar(polarPayload("order.paid", order));
    await postPolar(
      polarPayload(
        "refund.created",
        polarRefund({ customerId: polarCustomer, orderId: order.id, subscriptionId: polarSub, amount: 4950 }),
      ),
    );
    await postPolar(polarPayload("order.refunded", { ...order, status: "partially_refunded", refunded_amount: 4950 }));
    await queues.drain();
    const polarTold = queues.dmsTo(polarWorld.ownerDiscordId);
    expect(polarTold.filter((text) => text.startsWith("Payment received: $99.00"))).toHaveLength(1);
    expect(polarTold.filter((text) => text.startsWith("A refund of $49.50"))).toHaveLength(1);
  });

  it("Scenario: Switching BILLING_PROVIDER mid-stream loses no events", async () => {
    const world = await newBillingWorld();
    const stripeSub = uid("sub");
    const stripeCustomer = uid("cus");
    const periodEnd = Date.now() + 5 * DAY;
    const metadata = communityMetadata(world.communityId, world.ownerId);
    const t0 = Date.now() - 30 * 60_000;
    await postStripe(
      stripeEvent(
        "customer.subscription.created",
        stripeSubscription({ id: stripeSub, customer: stripeCustomer, status: "active", periodEnd, metadata }),
        { created: t0 },
      ),
    );
    await queues.drain();
    expect(await tierOf(world.communityId)).toBe("professional");

    // The operator switches new checkouts to Polar.
    const polarEnv = useEnv({ BILLING_PROVIDER: "polar" });
    // The host moves: the Stripe subscription is set to end with its period (a Stripe event, still accepted)...
    const cancelAtEnd = stripeEvent(
      "customer.subscription.updated",
      stripeSubscription({
        id: stripeSub,
        customer: stripeCustomer,
        status: "active",
        periodEnd,
        cancelAtPeriodEnd: true,
        metadata,
      }),
      { created: t0 + 60_000 },
    );
    expect((await postStripe(cancelAtEnd)).status).toBe(200);
    await queues.drain();

    // ...and a new checkout goes to Polar, not Stripe.
    const api = fakeBillingApis({
      "POST api.polar.sh/v1/checkouts/": () => ({ id: "chk_1", url: "https://buy.polar.sh/chk_1" }),
    });
    const checkout = await worker.fetch(
      new Request(`${BASE}/api/v1/communities/${world.communityId}/billing/checkout`, {
        method: "POST",
        headers: opsHeaders({ "content-type": "application/json" }),
        body: JSON.stringify({ plan: "enterprise", interval: "month" }),
      }),
      polarEnv,
      createExecutionContext(),
    );
    expect(checkout.status).toBe(200);
    expect(await checkout.json()).toMatchObject({ provider: "polar", url: "https://buy.polar.sh/chk_1" });
    expect(api.calls.map((call) => call.url.host)).toEqual(["api.polar.sh"]);
    expect(JSON.parse(api.calls[0]?.body ?? "{}")).toMatchObject({
      products: [POLAR_PRODUCTS["community.enterprise.month"]],
      metadata: { dte_subject: "community", dte_community_id: world.communityId },
      external_customer_id: `community:${world.communityId}`,
    });
    api.restore();

    // Events keep arriving from both providers, interleaved.
    const polarSub = uid("polar_sub");
    await postPolar(
      polarPayload(
        "subscription.active",
        polarSubscription({
          id: polarSub,
          customerId: uid("polar_cus"),
          status: "active",
          productId: POLAR_PRODUCTS["community.enterprise.month"],
          periodEnd: Date.now() + 30 * DAY,
          metadata: { ...metadata, dte_plan: "enterprise" },
          externalId: `community:${world.communityId}`,
        }),
      ),
    );
    const lateInvoice = stripeEvent(
      "invoice.paid",
      stripeInvoice({ customer: stripeCustomer, subscription: stripeSub, amountPaid: 9900, metadata }),
    );
    expect((await postStripe(lateInvoice)).status).toBe(200);
    await queues.drain();
    expect(await tierOf(world.communityId)).toBe("enterprise");

    // The Stripe subscription ends with its period; the community stays on its Polar plan.
    await postStripe(
      stripeEvent(
        "customer.subscription.deleted",
        stripeSubscription({ id: stripeSub, customer: stripeCustomer, status: "canceled", periodEnd, metadata }),
        { created: t0 + 120_000 },
      ),
    );
    await queues.drain();
    await fireBillingCron(periodEnd + 60_000, polarEnv);
    await queues.drain();
    expect(await tierOf(world.communityId)).toBe("enterprise");
    expect(await subscriptionRow("stripe", stripeSub)).toMatchObject({ status: "canceled" });
    expect(await subscriptionRow("polar", polarSub)).toMatchObject({ status: "active", plan: "enterprise" });
    // Every event from both providers was applied.
    const { results } = await (await import("cloudflare:workers")).env.DB.prepare(
      "SELECT count(*) AS pending FROM webhook_events WHERE payload IS NOT NULL AND processed_at IS NULL AND community_id = ?",
    )
      .bind(world.communityId)
      .all<{ pending: number }>();
    expect(results[0]?.pending).toBe(0);
  });
});
