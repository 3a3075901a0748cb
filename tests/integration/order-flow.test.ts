import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  adoptIfPlaced,
  applyBrokerOrder,
  brokerIntentOf,
  type OrderFlowContext,
  sendQueuedOrder,
} from "../../durable-objects/executor/order-flow";
import { AlpacaAdapter } from "../../shared/brokers/alpaca";
import { rootLogger } from "../../shared/logging";
import { clientOrderId } from "../../shared/orders/client-order-id";
import { breakerStates } from "../../workers/execution/broker-breakers";
import { brokerGuard } from "../../workers/execution/broker-guard";
import { eventSinkFor } from "../../workers/execution/event-sink";
import { communityWithFollowers, type TestCommunity } from "../support/execution";
import { FakeAlpaca, type FakeAlpacaOptions } from "../support/fake-alpaca";

/** One live order on a (fake) Alpaca account, and the order flow around it as the executor builds it. */
async function liveOrder(options: FakeAlpacaOptions & { orderType?: "market" | "limit"; guarded?: boolean } = {}) {
  const community = await communityWithFollowers(1);
  const [userId = ""] = community.followerIds;
  const broker = new FakeAlpaca(options);
  const adapter = new AlpacaAdapter({
    baseUrl: "https://paper-api.alpaca.markets",
    credentials: { kind: "api_key", keyId: "PKTEST", secretKey: "secret" },
    fetch: broker.fetch,
    timeoutMs: 50,
  });
  const orderType = options.orderType ?? "market";
  const id = crypto.randomUUID();
  const coid = await clientOrderId({
    communityId: community.communityId,
    signalId: id,
    followerId: userId,
    leg: "entry",
  });
  await community.tenant.execution.insertOrders([
    {
      id,
      signalId: null,
      userId,
      accountRef: "alpaca-connection",
      broker: "alpaca",
      clientOrderId: coid,
      leg: "entry",
      parentOrderId: null,
      symbol: "AAPL",
      assetClass: "equity",
      intent: {
        leg: "entry",
        side: "buy",
        positionEffect: "open",
        assetClass: "equity",
        symbol: "AAPL",
        option: null,
        orderType,
        quantity: 10,
        limitPrice: orderType === "limit" ? 99 : null,
        stopPrice: null,
        timeInForce: "day",
        nativeBracket: false,
        placeAfterFill: false,
        exits: [],
      },
      side: "buy",
      orderType,
      quantity: 10,
      limitPrice: orderType === "limit" ? 99 : null,
      stopPrice: null,
      cause: "signal",
    },
  ]);
  const notices: string[] = [];
  const flow: OrderFlowContext = {
    communityId: community.communityId,
    tenant: community.tenant,
    adapter,
    guard: options.guarded ? brokerGuard(env, "alpaca", `test-${crypto.randomUUID()}`, adapter.capabilities) : null,
    logger: rootLogger,
    sink: eventSinkFor(env, rootLogger),
    release: () => {},
    track: () => {},
    untrack: () => {},
    enqueue: async () => {},
    notifyMember: async (_user, _key, text) => {
      notices.push(text);
    },
    now: () => Date.now(),
  };
  const order = async () => (await community.tenant.execution.getOrder(id)) ?? expect.fail("order vanished");
  return { community, broker, flow, order, coid, notices };
}

async function eventsOf(community: TestCommunity, orderId: string) {
  return (await community.tenant.execution.orderEvents(orderId)).map((e) => `${e.fromStatus}→${e.toStatus}:${e.cause}`);
}

describe("sending to a broker", () => {
  it("Scenario: An unknown outcome is resolved by client order id without a resend", async () => {
    const { broker, flow, order, coid } = await liveOrder({ script: ["timeout_after_accept"], hangMs: 300 });
    const outcome = await sendQueuedOrder(flow, await order(), 1);
    expect(outcome).toMatchObject({ outcome: "done", status: "filled" });
    expect(broker.placements.get(coid)).toBe(1);
    expect(broker.calls.some((c) => c.path.startsWith("/v2/orders:by_client_order_id"))).toBe(true);
    expect(await order()).toMatchObject({ status: "filled", filledQuantity: 10, averageFillPrice: 100 });
  });

  it("Scenario: A transient broker error is retried after Retry-After", async () => {
    const { flow, order } = await liveOrder({ script: ["429"], retryAfterSeconds: 7 });
    const outcome = await sendQueuedOrder(flow, await order(), 1);
    expect(outcome.outcome).toBe("retry");
    expect(outcome.outcome === "retry" && outcome.delaySeconds).toBeGreaterThanOrEqual(7);
    expect(await order()).toMatchObject({ status: "queued", attempts: 1 });
  });

  it("Scenario: A permanent broker error rejects the order with its reason", async () => {
    const { flow, order, notices } = await liveOrder({ script: ["insufficient_funds"] });
    const outcome = await sendQueuedOrder(flow, await order(), 1);
    expect(outcome).toMatchObject({ outcome: "done", status: "rejected" });
    expect((await order()).statusReason).toMatch(/^insufficient_funds/);
    expect(notices[0]).toContain("rejected");
  });
});

describe("broker health", () => {
  it("Scenario: A failing broker trips its circuit breaker and orders wait", async () => {
    const failing = new FakeAlpaca({ random: { "5xx": 1 } });
    const { flow, order } = await liveOrder({ guarded: true });
    flow.adapter = new AlpacaAdapter({
      baseUrl: "https://paper-api.alpaca.markets",
      credentials: { kind: "api_key", keyId: "PKTEST", secretKey: "secret" },
      fetch: failing.fetch,
      timeoutMs: 50,
    });
    for (let attempt = 1; attempt <= 20; attempt++) {
      expect((await sendQueuedOrder(flow, await order(), attempt)).outcome).toBe("retry");
    }
    const callsWhenOpen = failing.calls.length;
    const paused = await sendQueuedOrder(flow, await order(), 21);
    expect(paused).toMatchObject({ outcome: "retry", reason: "circuit_open" });
    expect(paused.outcome === "retry" && paused.delaySeconds).toBeGreaterThanOrEqual(50);
    expect(failing.calls.length).toBe(callsWhenOpen);
    expect((await order()).status).toBe("queued");
    const [alpaca] = (await breakerStates(env)).filter((b) => b.broker === "alpaca");
    expect(alpaca?.state.phase).toBe("open");
  });
});

describe("following up orders", () => {
  it("Scenario: Reconciliation records a partial fill", async () => {
    const { community, broker, flow, order, coid } = await liveOrder({ orderType: "limit" });
    await sendQueuedOrder(flow, await order(), 1);
    expect((await order()).status).toBe("submitted");
    broker.fill(coid, 4, 99);
    const brokerOrderId = (await order()).brokerOrderId ?? "";
    await applyBrokerOrder(flow, await order(), await flow.adapter.getOrder(brokerOrderId));
    await applyBrokerOrder(flow, await order(), await flow.adapter.getOrder(brokerOrderId));
    expect(await order()).toMatchObject({ status: "partially_filled", filledQuantity: 4, averageFillPrice: 99 });
    expect(await community.tenant.execution.fillsOf((await order()).id)).toHaveLength(1);
  });

  it("Scenario: A fill after a cancel is adopted and reported", async () => {
    const { community, broker, flow, order, coid } = await liveOrder({ orderType: "limit" });
    await sendQueuedOrder(flow, await order(), 1);
    const submitted = await order();
    await community.tenant.execution.transition(submitted.id, {
      from: ["submitted"],
      to: "canceled",
      cause: "test_cancel",
    });
    broker.fill(coid, 10, 98.5);
    await applyBrokerOrder(flow, await order(), await flow.adapter.getOrder(submitted.brokerOrderId ?? ""));
    expect(await order()).toMatchObject({ status: "filled", filledQuantity: 10 });
    expect(await eventsOf(community, submitted.id)).toEqual([
      "null→queued:signal",
      "queued→submitted:broker_accepted",
      "submitted→canceled:test_cancel",
      "canceled→filled:late_fill_adopted",
    ]);
  });

  it("Scenario: A failed order found at the broker is adopted", async () => {
    const { community, broker, flow, order, coid } = await liveOrder({ script: ["timeout_after_accept"], hangMs: 300 });
    // The last attempt timed out after the broker accepted it, and the message dead-lettered before any lookup.
    await expect(flow.adapter.placeOrder(brokerIntentOf(await order()))).rejects.toThrow();
    await community.tenant.execution.transition((await order()).id, {
      from: ["queued"],
      to: "failed",
      cause: "dead_lettered",
    });
    const adopted = await adoptIfPlaced(flow, await order());
    expect(adopted).toMatchObject({ status: "filled", filledQuantity: 10 });
    expect(broker.placements.get(coid)).toBe(1);
    expect(await eventsOf(community, (await order()).id)).toEqual([
      "null→queued:signal",
      "queued→failed:dead_lettered",
      "failed→submitted:late_fill_adopted",
      "submitted→filled:broker_filled",
    ]);
  });

  it("Scenario: An illegal order transition is refused", async () => {
    const { community, flow, order } = await liveOrder();
    await sendQueuedOrder(flow, await order(), 1);
    const filled = await order();
    expect(filled.status).toBe("filled");
    await expect(
      community.tenant.execution.transition(filled.id, { from: ["filled"], to: "queued", cause: "test" }),
    ).rejects.toThrow(/cannot go from filled to queued/);
  });
});
