import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../workers/app";
import {
  DAY,
  fireBillingCron,
  newBillingWorld,
  newMember,
  polarCommunitySubscription,
  polarOrder,
  polarPayload,
  polarRefund,
  polarSubscription,
  postPolar,
  postStripe,
  stripeCharge,
  stripeCommunitySubscription,
  stripeEvent,
  stripeInvoice,
  stripeSubscription,
  subscriptionRow,
  tierOf,
  traderMetadata,
  traderPlanOf,
  uid,
  useCapturedQueues,
} from "../support/billing";
import { POLAR_PRODUCTS } from "../support/test-vars";

/**
 * What the providers' own objects mean, read the way Stripe and Polar document them: scheduled plan changes,
 * ends that come before the period's, pauses, partial refunds, money that is not this product's, and which plan a
 * payment paid for.
 */

const HOUR = 60 * 60 * 1000;
const discordTime = (ms: number) => `<t:${Math.floor(ms / 1000)}:D>`;

async function webhookRow(provider: string, eventId: string) {
  return env.DB.prepare("SELECT processed_at, outcome FROM webhook_events WHERE provider = ? AND event_id = ?")
    .bind(provider, eventId)
    .first<{ processed_at: number | null; outcome: string | null }>();
}

describe("billing events read as the providers document them", () => {
  const queues = useCapturedQueues();

  async function tick(at: number) {
    await fireBillingCron(at);
    await queues.drain();
  }

  it("Scenario: A scheduled Polar downgrade waits for the period end, warns and then applies", async () => {
    const world = await newBillingWorld("Polar Downgrade");
    const trader = await newMember(world);
    const sub = crypto.randomUUID();
    const customerId = crypto.randomUUID();
    const periodEnd = Date.now() + 10 * DAY;
    const premium = POLAR_PRODUCTS["trader.premium.month"];
    const basic = POLAR_PRODUCTS["trader.basic.month"];
    const snapshot = (pendingUpdate: { productId: string; appliesAt: number } | null) =>
      polarSubscription({
        id: sub,
        customerId,
        status: "active",
        productId: premium,
        periodEnd,
        pendingUpdate,
        metadata: traderMetadata(trader.userId, "premium"),
      });
    const t0 = Date.now() - HOUR;
    await postPolar(polarPayload("subscription.active", snapshot(null), { timestamp: t0 }));
    // Premium → Basic at the next period: Polar keeps the product and announces the change in `pending_update`.
    await postPolar(
      polarPayload("subscription.updated", snapshot({ productId: basic, appliesAt: periodEnd }), {
        timestamp: t0 + 60_000,
      }),
    );
    await queues.drain();
    expect(await traderPlanOf(trader.userId)).toBe("premium");
    expect(await subscriptionRow("polar", sub)).toMatchObject({ plan: "premium", pending_plan: "basic" });
    const told = () => queues.dmsTo(trader.discordId);
    expect(
      told().filter((text) => text.includes(`changes from Premium to Basic on ${discordTime(periodEnd)}`)),
    ).toHaveLength(1);

    await tick(periodEnd - 7 * DAY + HOUR);
    expect(told().filter((text) => text.startsWith("Heads-up") && text.includes("from Premium to Basic"))).toHaveLength(
      1,
    );

    await tick(periodEnd + 60_000);
    expect(await traderPlanOf(trader.userId)).toBe("basic");
  });

  it("Scenario: A trial ended at once ends the plan at once", async () => {
    // Stripe: the trial is ended now (customer.subscription.deleted), two weeks before its planned end.
    const stripeWorld = await newBillingWorld("Trial Ended Now");
    const trialEnd = Date.now() + 14 * DAY;
    const trial = stripeCommunitySubscription(stripeWorld, { periodEnd: trialEnd, trialEnd });
    const t0 = Date.now() - HOUR;
    await trial.send("customer.subscription.created", { status: "trialing" }, { created: t0 });
    await queues.drain();
    expect(await tierOf(stripeWorld.communityId)).toBe("professional");
    const endedAt = Date.now() - 60_000;
    await trial.send("customer.subscription.deleted", { status: "canceled", endedAt }, { created: endedAt });
    await queues.drain();
    expect(await tierOf(stripeWorld.communityId)).toBe("free");
    const stripeTold = queues.dmsTo(stripeWorld.ownerDiscordId);
    expect(stripeTold.some((text) => text.includes("subscription has ended"))).toBe(true);
    expect(stripeTold.some((text) => text.includes("stays active until"))).toBe(false);

    // Polar: `subscription.revoked` means access ends now, whatever remains of the period.
    const polarWorld = await newBillingWorld("Revoked on Polar");
    const revoked = polarCommunitySubscription(polarWorld, { periodEnd: Date.now() + 20 * DAY });
    await revoked.send("subscription.active", { status: "active" }, { timestamp: t0 });
    await revoked.send("subscription.revoked", { status: "canceled", endedAt: Date.now() - 30_000 });
    await queues.drain();
    expect(await tierOf(polarWorld.communityId)).toBe("free");
    expect(queues.dmsTo(polarWorld.ownerDiscordId).some((text) => text.includes("subscription has ended"))).toBe(true);
  });

  it("Scenario: A paused subscription grants nothing on either provider", async () => {
    // Stripe pauses a trial that ends without a payment method: no payment was attempted, nothing failed.
    const stripeWorld = await newBillingWorld("Paused Trial");
    const trialEnd = Date.now() - 10 * 60_000;
    const trial = stripeCommunitySubscription(stripeWorld, { periodEnd: trialEnd, trialEnd });
    await trial.send("customer.subscription.created", { status: "trialing" }, { created: trialEnd - 14 * DAY });
    await trial.send("customer.subscription.paused", { status: "paused" }, { created: trialEnd + 60_000 });
    await queues.drain();
    expect(await tierOf(stripeWorld.communityId)).toBe("free");
    expect(await subscriptionRow("stripe", trial.id)).toMatchObject({ status: "paused", past_due_since: null });
    await tick(Date.now() + 3 * DAY);
    const stripeTold = queues.dmsTo(stripeWorld.ownerDiscordId);
    expect(stripeTold.filter((text) => text.includes("is paused"))).toHaveLength(1);
    expect(stripeTold.some((text) => text.includes("failed") || text.startsWith("Reminder"))).toBe(false);

    // Polar pauses a subscription: the same state, the same notice.
    const polarWorld = await newBillingWorld("Paused on Polar");
    const paused = polarCommunitySubscription(polarWorld, { periodEnd: Date.now() + 20 * DAY });
    await paused.send("subscription.active", { status: "active" }, { timestamp: Date.now() - HOUR });
    await paused.send("subscription.paused", { status: "paused" });
    await queues.drain();
    expect(await tierOf(polarWorld.communityId)).toBe("free");
    expect(await subscriptionRow("polar", paused.id)).toMatchObject({ status: "paused" });
    expect(queues.dmsTo(polarWorld.ownerDiscordId).filter((text) => text.includes("is paused"))).toHaveLength(1);
  });

  it("Scenario: A cancellation dated inside the period ends the plan on that date", async () => {
    const world = await newBillingWorld("Cancel At");
    const cancelAt = Date.now() + 5 * DAY;
    const subscription = stripeCommunitySubscription(world, { periodEnd: Date.now() + 30 * DAY });
    const t0 = Date.now() - HOUR;
    await subscription.send("customer.subscription.created", { status: "active" }, { created: t0 });
    await subscription.send("customer.subscription.updated", { status: "active", cancelAt }, { created: t0 + 60_000 });
    await queues.drain();
    expect(await subscriptionRow("stripe", subscription.id)).toMatchObject({
      cancel_at: Math.floor(cancelAt / 1000) * 1000,
      cancel_at_period_end: 1,
    });
    const told = queues.dmsTo(world.ownerDiscordId).filter((text) => text.includes("subscription is canceled"));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain(`stays active until ${discordTime(cancelAt)}`);

    await tick(cancelAt - HOUR);
    expect(await tierOf(world.communityId)).toBe("professional");
    await tick(cancelAt + 60_000);
    expect(await tierOf(world.communityId)).toBe("free");
  });

  it("Scenario: Partial refunds are announced by the amount refunded each time", async () => {
    const world = await newBillingWorld("Partial Refunds");
    const { customer, send } = stripeCommunitySubscription(world, { periodEnd: Date.now() + 20 * DAY });
    await send("customer.subscription.created", { status: "active" });
    await queues.drain();
    const chargeId = uid("ch");
    // `amount_refunded` is cumulative; `previous_attributes` holds what it was before this refund.
    await postStripe(
      stripeEvent("charge.refunded", stripeCharge({ id: chargeId, customer, amount: 29_900, amountRefunded: 10_000 }), {
        previousAttributes: { amount_refunded: 0, refunded: false },
      }),
    );
    await postStripe(
      stripeEvent("charge.refunded", stripeCharge({ id: chargeId, customer, amount: 29_900, amountRefunded: 15_000 }), {
        previousAttributes: { amount_refunded: 10_000 },
      }),
    );
    await queues.drain();
    const refunds = queues.dmsTo(world.ownerDiscordId).filter((text) => text.startsWith("A refund of"));
    expect(refunds).toHaveLength(2);
    expect(refunds.filter((text) => text.startsWith("A refund of $100.00 "))).toHaveLength(1);
    expect(refunds.filter((text) => text.startsWith("A refund of $50.00 "))).toHaveLength(1);
  });

  it("Scenario: Payments and refunds that are not this product's are recorded as unattributed", async () => {
    const alerts = vi.spyOn(console, "error");
    // Another product sold on the same Stripe account: a charge with no customer, an invoice of a stranger.
    const charge = stripeEvent("charge.refunded", stripeCharge({ customer: null, amountRefunded: 2_000 }));
    const invoice = stripeEvent(
      "invoice.paid",
      stripeInvoice({
        customer: uid("cus"),
        subscription: uid("sub"),
        amountPaid: 1_500,
        lines: [{ price: "price_another_product", amount: 1_500 }],
      }),
    );
    // And on Polar: an order and a refund for a customer this product never created.
    const stranger = crypto.randomUUID();
    const order = polarOrder({ customerId: stranger, amount: 2_500, productId: crypto.randomUUID() });
    const orderId = uid("msg");
    const refundId = uid("msg");
    // And a subscription of that other product (no metadata of ours, a customer we never created).
    const foreignSubscription = stripeEvent(
      "customer.subscription.created",
      stripeSubscription({ id: uid("sub"), customer: uid("cus"), status: "active", periodEnd: Date.now() + 20 * DAY }),
    );
    for (const event of [charge, invoice, foreignSubscription]) expect((await postStripe(event)).status).toBe(200);
    expect((await postPolar(polarPayload("order.paid", order), { id: orderId })).status).toBe(200);
    expect(
      (
        await postPolar(
          polarPayload("refund.created", polarRefund({ customerId: stranger, orderId: order.id, amount: 500 })),
          { id: refundId },
        )
      ).status,
    ).toBe(200);

    const { retried } = await queues.drain();
    expect(retried).toEqual([]);
    for (const [provider, eventId] of [
      ["stripe", charge.id],
      ["stripe", invoice.id],
      ["stripe", foreignSubscription.id],
      ["polar", orderId],
      ["polar", refundId],
    ] as const) {
      expect(await webhookRow(provider, eventId)).toMatchObject({
        processed_at: expect.any(Number),
        outcome: "unattributed",
      });
    }
    expect(queues.dms).toEqual([]);
    expect(alerts.mock.calls.some(([line]) => String(line).includes('"alert":true'))).toBe(false);

    // A refund of ours that overtakes the subscription event naming its customer waits for that event only.
    const world = await newBillingWorld("Overtaken");
    const subscription = stripeCommunitySubscription(world, { periodEnd: Date.now() + 20 * DAY });
    const refund = stripeEvent(
      "charge.refunded",
      stripeCharge({ customer: subscription.customer, amountRefunded: 9_900 }),
    );
    await postStripe(refund);
    const refundMessage = queues.billing.at(-1);
    await subscription.send("customer.subscription.created", { status: "active" });
    expect((await queues.drain()).retried).toHaveLength(1);
    expect(await webhookRow("stripe", refund.id)).toMatchObject({ processed_at: null });
    queues.billing.push(refundMessage);
    expect((await queues.drain()).retried).toEqual([]);
    expect(await webhookRow("stripe", refund.id)).toMatchObject({ outcome: "applied" });
    expect(queues.dmsTo(world.ownerDiscordId).filter((text) => text.startsWith("A refund of $99.00"))).toHaveLength(1);
  });

  it("Scenario: A dead-lettered billing message keeps its attempt count and last error", async () => {
    const world = await newBillingWorld("Dead Letter");
    const subscription = stripeCommunitySubscription(world, { periodEnd: Date.now() + 20 * DAY });
    const at = Date.now() - HOUR;
    await subscription.send("customer.subscription.created", { status: "active" }, { created: at });
    await queues.drain();
    // A same-second snapshot that disagrees needs Stripe's current state, and Stripe is down.
    const stripeDown = vi.spyOn(globalThis, "fetch").mockImplementation(
      async () =>
        new Response(JSON.stringify({ error: { type: "api_error", message: "An unknown error occurred." } }), {
          status: 500,
          headers: { "content-type": "application/json", "request-id": "req_down" },
        }),
    );
    const tie = stripeEvent("customer.subscription.updated", subscription.snapshot({ status: "past_due" }), {
      created: at,
    });
    await postStripe(tie);
    const body = queues.billing.at(-1);

    for (const attempts of [1, 2, 3]) {
      const batch = createMessageBatch("billing-events", [
        { id: `msg-${tie.id}`, timestamp: new Date(), attempts, body },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).retryMessages).toHaveLength(1);
    }
    // The queue gives up and moves the message to the DLQ, where attempts start again at 1.
    const dead = createMessageBatch("billing-events-dlq", [
      { id: `msg-${tie.id}`, timestamp: new Date(), attempts: 1, body },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(dead, env, ctx);
    await getQueueResult(dead, ctx);
    const row = await env.DB.prepare("SELECT attempts, last_error FROM dead_letters WHERE message_id = ?")
      .bind(`msg-${tie.id}`)
      .first<{ attempts: number; last_error: string | null }>();
    expect(row?.attempts).toBe(3);
    expect(row?.last_error).toMatch(/Stripe/);
    expect(stripeDown).toHaveBeenCalled();
  });

  it("Scenario: A payment notice names the plan the invoice paid for", async () => {
    const world = await newBillingWorld("Paid For");
    const periodEnd = Date.now() + 20 * DAY;
    const { id, customer, metadata, send } = stripeCommunitySubscription(world, { periodEnd });
    const t0 = Date.now() - HOUR;
    await send("customer.subscription.created", { status: "active", price: "price_test_pro_month" }, { created: t0 });
    await send(
      "customer.subscription.updated",
      { status: "active", price: "price_test_ent_month" },
      { created: t0 + 1000 },
    );
    // The Professional invoice is delivered after the upgrade to Enterprise.
    await postStripe(
      stripeEvent(
        "invoice.paid",
        stripeInvoice({
          customer,
          subscription: id,
          amountPaid: 9_900,
          metadata,
          lines: [{ price: "price_test_pro_month", amount: 9_900 }],
        }),
      ),
    );
    await queues.drain();
    expect(await tierOf(world.communityId)).toBe("enterprise");
    const paid = queues.dmsTo(world.ownerDiscordId).filter((text) => text.startsWith("Payment received"));
    expect(paid).toEqual(["Payment received: $99.00 for **Paid For**'s Professional plan. Thank you!"]);

    // Polar: the order's product names the plan.
    const polarWorld = await newBillingWorld("Polar Paid For");
    const polar = polarCommunitySubscription(polarWorld, {
      periodEnd,
      productId: POLAR_PRODUCTS["community.enterprise.month"],
    });
    await polar.send("subscription.active", { status: "active" });
    await postPolar(
      polarPayload(
        "order.paid",
        polarOrder({
          customerId: polar.customerId,
          subscriptionId: polar.id,
          productId: POLAR_PRODUCTS["community.professional.month"],
          amount: 9_900,
          metadata: polar.metadata,
        }),
      ),
    );
    await queues.drain();
    expect(queues.dmsTo(polarWorld.ownerDiscordId).filter((text) => text.startsWith("Payment received"))).toEqual([
      "Payment received: $99.00 for **Polar Paid For**'s Professional plan. Thank you!",
    ]);
  });
});
