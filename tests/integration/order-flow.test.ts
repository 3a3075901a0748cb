import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  adoptIfPlaced,
  applyBrokerOrder,
  brokerIntentOf,
  type OrderFlowContext,
  sendQueuedOrder,
} from "../../durable-objects/executor/order-flow";
import { breakerStates } from "../../platform/execution/broker-breakers";
import { brokerGuard } from "../../platform/execution/broker-guard";
import { hubEventSink } from "../../platform/execution/event-sink";
import { AlpacaAdapter } from "../../shared/brokers/alpaca";
import type { OrderSubmissionOutcome } from "../../shared/execution/outcomes";
import { rootLogger } from "../../shared/logging";
import { clientOrderId } from "../../shared/orders/client-order-id";
import type { Leg, OrderIntent, PlaceDecision } from "../../shared/risk/types";
import { communityWithFollowers, type TestCommunity } from "../support/execution";
import { FakeAlpaca, type FakeAlpacaOptions } from "../support/fake-alpaca";

/** One live order on a (fake) Alpaca account, and the order flow around it as the executor builds it. */
async function liveOrder(
  options: FakeAlpacaOptions & {
    orderType?: "market" | "limit";
    guarded?: boolean;
    /** Exit intents stored with the entry (engine-placed after the fill, or a native bracket). */
    exits?: OrderIntent[];
    orderClass?: PlaceDecision["orderClass"];
    nativeBracket?: boolean;
    /** The engine's explanations stored with the entry. */
    explanations?: { notes?: string[]; sizingNote?: string };
  } = {},
) {
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
        nativeBracket: options.nativeBracket ?? false,
        placeAfterFill: false,
        lotStep: 1,
        orderClass: options.orderClass ?? "simple",
        exits: options.exits ?? [],
        ...options.explanations,
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
    sink: hubEventSink({ env, logger: rootLogger }),
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

/** An exit the engine places after the entry fills, as the risk engine stores it with the entry. */
type ExitFields = Pick<OrderIntent, "orderType" | "limitPrice" | "stopPrice"> & Partial<OrderIntent>;

function engineExit(leg: Leg, fields: ExitFields): OrderIntent {
  return {
    leg,
    side: "sell",
    positionEffect: "close",
    assetClass: "equity",
    symbol: "AAPL",
    option: null,
    quantity: 10,
    timeInForce: "gtc",
    nativeBracket: false,
    placeAfterFill: true,
    lotStep: 1,
    priceSource: "signal",
    ...fields,
  };
}

async function eventsOf(community: TestCommunity, orderId: string) {
  return (await community.tenant.execution.orderEvents(orderId)).map((e) => `${e.fromStatus}→${e.toStatus}:${e.cause}`);
}

describe("sending to a broker", () => {
  it("Scenario: An unknown outcome is resolved by client order id without a resend", async () => {
    const { broker, flow, order, coid } = await liveOrder({ script: ["timeout_after_accept"], hangMs: 300 });
    const outcome = await sendQueuedOrder(flow, await order(), 1);
    expect(outcome).toMatchObject({ outcome: "done", status: "filled" });
    expect(broker.placementRequests).toBe(1);
    expect(broker.placements.get(coid)).toBe(1);
    const orderCalls = broker.calls.filter((c) => c.path.startsWith("/v2/orders"));
    expect(orderCalls).toEqual([
      { method: "POST", path: "/v2/orders" },
      { method: "GET", path: `/v2/orders:by_client_order_id?client_order_id=${coid}&nested=true` },
    ]);
    expect(await order()).toMatchObject({ status: "filled", filledQuantity: 10, averageFillPrice: 100 });
  });

  it("Scenario: An order no longer queued places nothing at the broker", async () => {
    const { broker, flow, order } = await liveOrder({ orderType: "limit" });
    await sendQueuedOrder(flow, await order(), 1);
    const submitted = await order();
    expect(submitted.status).toBe("submitted");
    expect(broker.placementRequests).toBe(1);
    // Handed the submitted order, and again as a redelivered message would read it: no placement request.
    expect(await sendQueuedOrder(flow, submitted, 2)).toMatchObject({ outcome: "done", status: "submitted" });
    expect(await sendQueuedOrder(flow, await order(), 3)).toMatchObject({ outcome: "done" });
    expect(broker.placementRequests).toBe(1);
    // Two copies of a message at once: the second waits for the first, so the broker sees one request.
    const fresh = await liveOrder({ orderType: "limit" });
    let running: Promise<OrderSubmissionOutcome> | null = null;
    fresh.flow.sendOnce = async (_orderId, send) => {
      if (running) {
        await running;
        return { outcome: "done" };
      }
      running = send();
      return running;
    };
    const queued = await fresh.order();
    await Promise.all([sendQueuedOrder(fresh.flow, queued, 1), sendQueuedOrder(fresh.flow, queued, 1)]);
    expect(fresh.broker.placementRequests).toBe(1);
  });

  it("Scenario: An order placed says why it is what it is", async () => {
    const { flow, order, notices } = await liveOrder({
      orderType: "limit",
      orderClass: "engine",
      exits: [engineExit("stop", { orderType: "stop", limitPrice: null, stopPrice: 97.02 })],
      explanations: {
        sizingNote: "Sized at 1% of equity at risk (the default sizing): 10 shares at $99.00, $990.00.",
        notes: ["The signal has no stop: default stop 2% below the entry, at $97.02."],
      },
    });
    await sendQueuedOrder(flow, await order(), 1);
    expect((await order()).status).toBe("submitted");
    expect(notices).toEqual([
      [
        "📨 Order placed: buy 10 × AAPL limit $99.00. It is working at the broker until it fills or is canceled (for the day): you get a message when it fills. Cancel it with /cancel.",
        "• Exits: stop-loss $97.02 for 10.",
        "• Sized at 1% of equity at risk (the default sizing): 10 shares at $99.00, $990.00.",
        "• The signal has no stop: default stop 2% below the entry, at $97.02.",
      ].join("\n"),
    ]);
  });

  it("Scenario: A native bracket carries its stop and take-profit legs", async () => {
    const exit = (leg: Leg, fields: ExitFields) =>
      engineExit(leg, { nativeBracket: true, placeAfterFill: false, ...fields });
    const { broker, flow, order, coid } = await liveOrder({
      orderType: "limit",
      orderClass: "bracket",
      nativeBracket: true,
      exits: [
        exit("stop", { orderType: "stop", limitPrice: null, stopPrice: 95 }),
        exit("tp1", { orderType: "limit", limitPrice: 110, stopPrice: null }),
      ],
    });
    const intent = brokerIntentOf(await order());
    expect(intent).toMatchObject({
      reduceOnly: false,
      bracket: { stopLoss: { stopPrice: 95, limitPrice: null }, takeProfit: { limitPrice: 110 } },
    });
    await sendQueuedOrder(flow, await order(), 1);
    expect(broker.placedBodies[0]).toMatchObject({
      client_order_id: coid,
      order_class: "bracket",
      stop_loss: { stop_price: "95" },
      take_profit: { limit_price: "110" },
    });
    // Exits are reduce-only; an entry whose decided stop cannot ride on its bracket is never sent.
    const stored = await order();
    expect(
      brokerIntentOf({ ...stored, leg: "stop", intent: { ...stored.intent, positionEffect: "close" } }).reduceOnly,
    ).toBe(true);
    const withoutStop = {
      ...stored,
      intent: {
        ...stored.intent,
        exits: [exit("stop", { orderType: "stop", limitPrice: null, stopPrice: 95, nativeBracket: false })],
      },
    };
    expect(() => brokerIntentOf(withoutStop)).toThrow(/must carry the stop/);
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

  it("Scenario: A cumulative fill report gives each new fill its own price", async () => {
    const { community, broker, flow, order, coid } = await liveOrder({ orderType: "limit" });
    await sendQueuedOrder(flow, await order(), 1);
    const brokerOrderId = (await order()).brokerOrderId ?? "";
    broker.fill(coid, 4, 99);
    await applyBrokerOrder(flow, await order(), await flow.adapter.getOrder(brokerOrderId));
    broker.fill(coid, 6, 101);
    await applyBrokerOrder(flow, await order(), await flow.adapter.getOrder(brokerOrderId));
    expect(await order()).toMatchObject({ status: "filled", filledQuantity: 10, averageFillPrice: 100.2 });
    const fills = await community.tenant.execution.fillsOf((await order()).id);
    expect(fills.map((f) => [f.quantity, f.price])).toEqual([
      [4, 99],
      [6, 101],
    ]);
  });

  it("Scenario: An entry partly filled then canceled gets exits for the part that filled", async () => {
    const { community, broker, flow, order, coid } = await liveOrder({
      orderType: "limit",
      orderClass: "engine",
      exits: [
        engineExit("stop", { orderType: "stop", limitPrice: null, stopPrice: 90 }),
        engineExit("tp1", { orderType: "limit", limitPrice: 110, stopPrice: null, targetPercent: null }),
      ],
    });
    await sendQueuedOrder(flow, await order(), 1);
    const brokerOrderId = (await order()).brokerOrderId ?? "";
    broker.fill(coid, 4, 99);
    await applyBrokerOrder(flow, await order(), await flow.adapter.getOrder(brokerOrderId));
    expect(await community.tenant.execution.listOrders({ userId: (await order()).userId })).toHaveLength(1);
    await flow.adapter.cancelOrder(brokerOrderId);
    const after = await applyBrokerOrder(flow, await order(), await flow.adapter.getOrder(brokerOrderId));
    expect(after).toMatchObject({ status: "canceled", filledQuantity: 4 });
    const exits = (await community.tenant.execution.listOrders({ userId: after.userId })).filter(
      (o) => o.parentOrderId === after.id,
    );
    expect(exits.map((o) => [o.leg, o.quantity, o.status]).sort()).toEqual([
      ["stop", 4, "submitted"],
      ["tp1", 4, "submitted"],
    ]);
    expect(broker.placedBodies.slice(1).map((b) => [b.type, b.qty])).toEqual([
      ["stop", "4"],
      ["limit", "4"],
    ]);
  });

  it("Scenario: A failure after the fill leaves the exits in place", async () => {
    const { community, broker, flow, order } = await liveOrder({
      orderClass: "engine",
      exits: [
        engineExit("stop", { orderType: "stop", limitPrice: null, stopPrice: 90 }),
        engineExit("tp1", { orderType: "limit", limitPrice: 110, stopPrice: null, targetPercent: null }),
      ],
    });
    flow.notifyMember = async () => {
      throw new Error("the notification queue is down");
    };
    await expect(sendQueuedOrder(flow, await order(), 1)).rejects.toThrow("the notification queue is down");
    const entry = await order();
    expect(entry.status).toBe("filled");
    const exits = (await community.tenant.execution.listOrders({ userId: entry.userId })).filter(
      (o) => o.parentOrderId === entry.id,
    );
    expect(exits.map((o) => [o.leg, o.status]).sort()).toEqual([
      ["stop", "submitted"],
      ["tp1", "submitted"],
    ]);
    expect(broker.placementRequests).toBe(3);
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

  it("answers a moved order exactly as it then reads back, its patch and event written", async () => {
    const { community, order } = await liveOrder({ orderType: "limit" });
    const queued = await order();
    const moved = await community.tenant.execution.transition(
      queued.id,
      {
        from: ["queued"],
        to: "submitted",
        cause: "broker_accepted",
        data: { attempt: 1 },
        patch: { brokerOrderId: "b-1", statusReason: null, attempts: 1, submittedAt: 1_700_000_000_000 },
      },
      queued.updatedAt + 1,
    );
    expect(moved).toEqual(await order());
    expect(moved).toMatchObject({
      status: "submitted",
      brokerOrderId: "b-1",
      attempts: 1,
      submittedAt: 1_700_000_000_000,
      updatedAt: queued.updatedAt + 1,
      intent: queued.intent,
    });
    expect(await eventsOf(community, queued.id)).toEqual(["null→queued:signal", "queued→submitted:broker_accepted"]);
    const event = await env.DB.prepare(
      "select community_id, data, created_at from order_events where order_id = ? and to_status = 'submitted'",
    )
      .bind(queued.id)
      .first();
    expect(event).toEqual({
      community_id: community.communityId,
      data: '{"attempt":1}',
      created_at: queued.updatedAt + 1,
    });
    // Moved again from a state it is no longer in: nothing changes, no event.
    const again = await community.tenant.execution.transition(queued.id, {
      from: ["queued"],
      to: "canceled",
      cause: "test",
    });
    expect(again).toBeNull();
    expect(await eventsOf(community, queued.id)).toHaveLength(2);
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
