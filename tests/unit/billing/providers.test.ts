import { afterEach, describe, expect, it, vi } from "vitest";
import { PolarBillingProvider } from "../../../shared/billing/polar";
import { StripeBillingProvider } from "../../../shared/billing/stripe";
import {
  polarCustomerSession,
  polarOrder,
  polarPayload,
  polarRefund,
  polarSubscription,
  stripeCharge,
  stripeEvent,
  stripeInvoice,
  stripeSubscription,
} from "../../support/billing";

const DAY = 24 * 60 * 60 * 1000;
const stripe = new StripeBillingProvider({
  secretKey: "sk_test_unit",
  webhookSecret: "whsec_unit",
  apiBase: "http://localhost:12111",
  priceIds: { "community.professional.month": "price_pro_m", "trader.basic.month": "price_basic_m" },
});
const polar = new PolarBillingProvider({
  accessToken: "polar_oat_unit",
  webhookSecret: "polar_whs_unit",
  apiBase: "https://sandbox-api.polar.sh",
  productIds: { "community.enterprise.year": "prod_ent_y" },
});
const PERIOD_END = Math.floor((Date.now() + 20 * DAY) / 1000) * 1000;

function fakeFetch(answer: (request: Request) => unknown) {
  const requests: Request[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push(request);
    return new Response(JSON.stringify(answer(request)), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  });
  return requests;
}

describe("billing providers", () => {
  afterEach(() => vi.restoreAllMocks());

  it("Scenario: Stripe and Polar events normalize to one shape", () => {
    const metadata = { dte_subject: "community", dte_community_id: "c1", dte_user_id: "u1", dte_plan: "professional" };
    const itemsOnly = stripeSubscription({
      id: "sub_1",
      customer: "cus_1",
      status: "active",
      price: "price_pro_m",
      periodEnd: PERIOD_END,
      metadata,
    });
    const topLevel = stripeSubscription({
      ...{ id: "sub_1", customer: "cus_1", status: "active", price: "price_pro_m" },
      periodEnd: PERIOD_END,
      periodEndOnSubscription: true,
      metadata,
    });
    for (const object of [itemsOnly, topLevel]) {
      expect(
        stripe.normalize(
          stripeEvent("customer.subscription.updated", object, { id: "evt_1", created: 1_800_000_000_000 }),
        ),
      ).toEqual({
        provider: "stripe",
        eventId: "evt_1",
        type: "customer.subscription.updated",
        kind: "subscription",
        occurredAt: 1_800_000_000_000,
        subject: { subject: "community", communityId: "c1", userId: "u1" },
        providerCustomerId: "cus_1",
        providerSubscriptionId: "sub_1",
        subscription: {
          providerSubscriptionId: "sub_1",
          providerCustomerId: "cus_1",
          status: "active",
          plan: "professional",
          interval: "month",
          currentPeriodEnd: PERIOD_END,
          cancelAtPeriodEnd: false,
          cancelAt: null,
          endedAt: null,
          trialEnd: null,
          pendingPlan: null,
        },
        paidPlan: null,
        amount: null,
        objectId: "sub_1",
      });
    }
    // An unknown price falls back to the checkout's metadata; Stripe-only statuses map onto ours.
    const expired = stripe.normalize(
      stripeEvent(
        "customer.subscription.deleted",
        stripeSubscription({
          id: "sub_1",
          customer: "cus_1",
          status: "incomplete_expired",
          price: "price_legacy",
          periodEnd: PERIOD_END,
          metadata,
        }),
      ),
    );
    expect(expired.subscription).toMatchObject({ status: "canceled", plan: "professional", interval: "month" });
    const cancelAt = stripe.normalize(
      stripeEvent("customer.subscription.updated", {
        ...itemsOnly,
        cancel_at_period_end: false,
        cancel_at: PERIOD_END / 1000,
      }),
    );
    expect(cancelAt.subscription).toMatchObject({ cancelAtPeriodEnd: true, cancelAt: PERIOD_END });
    // Paused is its own state (no payment was attempted), not dunning.
    expect(
      stripe.normalize(stripeEvent("customer.subscription.paused", { ...itemsOnly, status: "paused" })).subscription
        ?.status,
    ).toBe("paused");

    const paid = stripe.normalize(
      stripeEvent(
        "invoice.paid",
        stripeInvoice({ customer: "cus_1", subscription: "sub_1", amountPaid: 4900, metadata }),
      ),
    );
    expect(paid).toMatchObject({
      kind: "payment_succeeded",
      providerSubscriptionId: "sub_1",
      amount: { value: 4900, currency: "usd" },
      subject: { communityId: "c1" },
      // The line's price is not one of this test's prices: the plan paid for is unknown, never guessed.
      paidPlan: null,
    });
    const legacyLine = stripeInvoice({ customer: "cus_1", subscription: "sub_1", amountPaid: 4900, metadata });
    const line = { ...legacyLine.lines.data[0], pricing: null, price: { id: "price_basic_m" } };
    expect(
      stripe.normalize(stripeEvent("invoice.paid", { ...legacyLine, lines: { ...legacyLine.lines, data: [line] } }))
        .paidPlan,
    ).toBe("basic");
    expect(
      stripe.normalize(
        stripeEvent("invoice.paid", stripeInvoice({ customer: "cus_1", subscription: "sub_1", amountPaid: 0 })),
      ).kind,
    ).toBe("ignored");
    expect(
      stripe.normalize(stripeEvent("charge.refunded", stripeCharge({ customer: "cus_1", amountRefunded: 2500 }))),
    ).toMatchObject({
      kind: "refund",
      providerCustomerId: "cus_1",
      amount: { value: 2500 },
    });
    // A second partial refund: the amount is the difference from `previous_attributes`, not the running total.
    expect(
      stripe.normalize(
        stripeEvent("charge.refunded", stripeCharge({ customer: "cus_1", amountRefunded: 4000 }), {
          previousAttributes: { amount_refunded: 2500 },
        }),
      ).amount,
    ).toEqual({ value: 1500, currency: "usd" });
    expect(stripe.normalize(stripeEvent("payout.paid", { id: "po_1" })).kind).toBe("ignored");

    const polarSub = polarSubscription({
      id: "ps_1",
      customerId: "pc_1",
      status: "trialing",
      productId: "prod_ent_y",
      periodEnd: PERIOD_END,
      trialEnd: PERIOD_END,
      externalId: "community:c9",
    });
    expect(
      polar.normalize(polarPayload("subscription.created", polarSub, { timestamp: 1_800_000_000_123 }), "msg_1", 0),
    ).toMatchObject({
      provider: "polar",
      eventId: "msg_1",
      kind: "subscription",
      occurredAt: 1_800_000_000_123,
      subject: { subject: "community", communityId: "c9", userId: null },
      subscription: {
        status: "trialing",
        plan: "enterprise",
        interval: "year",
        currentPeriodEnd: PERIOD_END,
        trialEnd: PERIOD_END,
      },
    });
    const order = { ...polarOrder({ customerId: "pc_1", subscriptionId: "ps_1", amount: 299000 }), currency: "USD" };
    expect(polar.normalize(polarPayload("order.paid", order), "msg_2", 0)).toMatchObject({
      kind: "payment_succeeded",
      amount: { value: 299000, currency: "usd" },
    });
    const yearly = polarOrder({ customerId: "pc_1", subscriptionId: "ps_1", productId: "prod_ent_y", amount: 299000 });
    expect(polar.normalize(polarPayload("order.paid", yearly), "msg_6", 0).paidPlan).toBe("enterprise");
    // A pending_update names the plan of the next period; revoked ends access at once; paused is its own state.
    const pending = polar.normalize(
      polarPayload(
        "subscription.updated",
        polarSubscription({
          ...{ id: "ps_1", customerId: "pc_1", status: "active", productId: "prod_ent_y", periodEnd: PERIOD_END },
          pendingUpdate: { productId: "prod_ent_y", appliesAt: PERIOD_END },
        }),
      ),
      "msg_7",
      0,
    );
    expect(pending.subscription?.pendingPlan).toBe("enterprise");
    const revoked = polar.normalize(
      polarPayload(
        "subscription.revoked",
        polarSubscription({ id: "ps_1", customerId: "pc_1", status: "unpaid", periodEnd: PERIOD_END }),
        { timestamp: 1_800_000_000_000 },
      ),
      "msg_8",
      0,
    );
    expect(revoked.subscription).toMatchObject({ status: "canceled", endedAt: 1_800_000_000_000 });
    expect(
      polar.normalize(
        polarPayload(
          "subscription.paused",
          polarSubscription({ id: "ps_1", customerId: "pc_1", status: "paused", periodEnd: PERIOD_END }),
        ),
        "msg_9",
        0,
      ).subscription?.status,
    ).toBe("paused");
    expect(polar.normalize(polarPayload("order.refunded", order), "msg_3", 0).kind).toBe("ignored");
    const refund = polarRefund({ customerId: "pc_1", orderId: order.id, subscriptionId: "ps_1", amount: 1000 });
    expect(polar.normalize(polarPayload("refund.created", refund), "msg_4", 0)).toMatchObject({
      kind: "refund",
      objectId: refund.id,
      amount: { value: 1000, currency: "usd" },
    });
    expect(() => polar.normalize(polarPayload("subscription.updated", { id: "ps_1" }), "msg_5", 0)).toThrow(
      /expected shape/,
    );
  });

  it("Scenario: Billing provider API calls reach the configured base URL", async () => {
    const sub = stripeSubscription({
      id: "sub_9",
      customer: "cus_9",
      status: "active",
      price: "price_basic_m",
      periodEnd: PERIOD_END,
    });
    const requests = fakeFetch((request) =>
      request.url.includes("/v1/invoices")
        ? {
            object: "list",
            data: [
              {
                ...stripeInvoice({ id: "in_1", customer: "cus_9", subscription: "sub_9", amountPaid: 4900 }),
                created: 1_800_000_000,
                hosted_invoice_url: "https://inv",
              },
            ],
            has_more: false,
          }
        : { ...sub, cancel_at_period_end: request.method === "POST" },
    );
    expect(await stripe.getSubscription("sub_9")).toMatchObject({ plan: "basic", currentPeriodEnd: PERIOD_END });
    expect(await stripe.cancelSubscription("sub_9", true)).toMatchObject({ cancelAtPeriodEnd: true });
    expect(await stripe.listInvoices("cus_9")).toEqual([
      { id: "in_1", status: "paid", amount: 4900, currency: "usd", createdAt: 1_800_000_000_000, url: "https://inv" },
    ]);
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "GET http://localhost:12111/v1/subscriptions/sub_9",
      "POST http://localhost:12111/v1/subscriptions/sub_9",
      "GET http://localhost:12111/v1/invoices?customer=cus_9&limit=24",
    ]);
    expect(requests[0]?.headers.get("authorization")).toBe("Bearer sk_test_unit");
    vi.restoreAllMocks();

    const polarSub = polarSubscription({
      id: "ps_9",
      customerId: "pc_9",
      status: "active",
      productId: "prod_ent_y",
      periodEnd: PERIOD_END,
    });
    const polarRequests = fakeFetch((request) =>
      request.url.includes("/v1/orders/")
        ? {
            items: [
              {
                ...polarOrder({ id: "o_1", customerId: "pc_9", subscriptionId: "ps_9", amount: 299000 }),
                created_at: "2026-11-01T00:00:00Z",
              },
            ],
            pagination: { total_count: 1, max_page: 1 },
          }
        : request.url.includes("/v1/customer-sessions/")
          ? polarCustomerSession({
              customerId: "pc_9",
              url: "https://polar.sh/acme/portal?customer_session_token=polar_cst_x",
            })
          : { ...polarSub, status: request.method === "DELETE" ? "canceled" : "active" },
    );
    expect(await polar.getSubscription("ps_9")).toMatchObject({ plan: "enterprise", status: "active" });
    expect(await polar.cancelSubscription("ps_9", false)).toMatchObject({ status: "canceled" });
    expect(await polar.createPortalSession("pc_9", "https://dte.example/back")).toEqual({
      url: "https://polar.sh/acme/portal?customer_session_token=polar_cst_x",
    });
    expect(await polar.listInvoices("pc_9")).toMatchObject([{ id: "o_1", amount: 299000 }]);
    expect(polarRequests.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      "GET /v1/subscriptions/ps_9",
      "DELETE /v1/subscriptions/ps_9",
      "POST /v1/customer-sessions/",
      "GET /v1/orders/",
    ]);
    expect(polarRequests[0]?.headers.get("authorization")).toBe("Bearer polar_oat_unit");
    expect(new URL(polarRequests[0]?.url ?? "").host).toBe("sandbox-api.polar.sh");
  });
});
