import { afterEach, describe, expect, it, vi } from "vitest";
import type { BrokerOrderIntent } from "../../../shared/brokers/adapter";
import { takesTrailingStops, throttlePolicy } from "../../../shared/brokers/adapter";
import { ALPACA_CAPABILITIES, AlpacaAdapter } from "../../../shared/brokers/alpaca";
import { PermanentError, TransientError, UnknownOutcomeError } from "../../../shared/brokers/errors";

const BASE = "https://paper-api.alpaca.test";

/** An order object as Alpaca's Trading API v2 returns it (numbers as strings). */
function alpacaOrder(overrides: Record<string, unknown> = {}) {
  return {
    id: crypto.randomUUID(),
    client_order_id: crypto.randomUUID(),
    created_at: "2026-10-20T14:30:01.942282Z",
    updated_at: "2026-10-20T14:30:01.950112Z",
    submitted_at: "2026-10-20T14:30:01.937734Z",
    filled_at: null,
    expired_at: null,
    canceled_at: null,
    failed_at: null,
    replaced_at: null,
    replaced_by: null,
    replaces: null,
    asset_id: "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
    symbol: "AAPL",
    asset_class: "us_equity",
    notional: null,
    qty: "10",
    filled_qty: "0",
    filled_avg_price: null,
    order_class: "simple",
    order_type: "market",
    type: "market",
    side: "buy",
    position_intent: "buy_to_open",
    time_in_force: "day",
    limit_price: null,
    stop_price: null,
    status: "accepted",
    extended_hours: false,
    legs: null,
    trail_percent: null,
    trail_price: null,
    hwm: null,
    ...overrides,
  };
}

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function intent(overrides: Partial<BrokerOrderIntent> = {}): BrokerOrderIntent {
  return {
    clientOrderId: crypto.randomUUID(),
    assetClass: "equity",
    symbol: "AAPL",
    option: null,
    side: "buy",
    orderType: "limit",
    quantity: 10,
    limitPrice: 190.5,
    stopPrice: null,
    timeInForce: "gtc",
    ...overrides,
  };
}

const keys = { kind: "api_key", keyId: "PKTEST123", secretKey: "secret-test-key" } as const;

afterEach(() => vi.restoreAllMocks());

describe("Alpaca adapter", () => {
  it("Scenario: An Alpaca bracket order carries the client order id", async () => {
    const order = intent({
      bracket: { takeProfit: { limitPrice: 200 }, stopLoss: { stopPrice: 185.25, limitPrice: null } },
    });
    const entry = alpacaOrder({
      client_order_id: order.clientOrderId,
      order_class: "bracket",
      order_type: "limit",
      type: "limit",
      limit_price: "190.5",
      time_in_force: "gtc",
      status: "new",
      legs: [
        alpacaOrder({
          side: "sell",
          position_intent: "sell_to_close",
          order_type: "limit",
          type: "limit",
          limit_price: "200",
          status: "held",
        }),
        alpacaOrder({
          side: "sell",
          position_intent: "sell_to_close",
          order_type: "stop",
          type: "stop",
          stop_price: "185.25",
          status: "held",
        }),
      ],
    });
    const fetch = vi.spyOn(globalThis, "fetch").mockResolvedValueOnce(json(entry));

    const placed = await new AlpacaAdapter({ baseUrl: BASE, credentials: keys }).placeOrder(order);

    const [url, init] = fetch.mock.calls[0] ?? [];
    expect(String(url)).toBe(`${BASE}/v2/orders`);
    expect(init?.method).toBe("POST");
    const headers = new Headers(init?.headers);
    expect(headers.get("APCA-API-KEY-ID")).toBe("PKTEST123");
    expect(headers.get("APCA-API-SECRET-KEY")).toBe("secret-test-key");
    expect(JSON.parse(String(init?.body))).toEqual({
      symbol: "AAPL",
      qty: "10",
      side: "buy",
      type: "limit",
      time_in_force: "gtc",
      limit_price: "190.5",
      client_order_id: order.clientOrderId,
      order_class: "bracket",
      take_profit: { limit_price: "200" },
      stop_loss: { stop_price: "185.25" },
    });
    expect(placed).toMatchObject({
      brokerOrderId: entry.id,
      clientOrderId: order.clientOrderId,
      status: "submitted",
      orderType: "limit",
      limitPrice: 190.5,
      filledQuantity: 0,
      averageFillPrice: null,
    });
    expect(placed.legs?.map((leg) => [leg.side, leg.orderType, leg.status])).toEqual([
      ["sell", "limit", "submitted"],
      ["sell", "stop", "submitted"],
    ]);

    fetch.mockResolvedValueOnce(json(entry));
    const oauth = new AlpacaAdapter({ baseUrl: BASE, credentials: { kind: "oauth", accessToken: "oauth-token-1" } });
    await oauth.getOrder(entry.id);
    const read = new Headers(fetch.mock.calls[1]?.[1]?.headers);
    expect(read.get("authorization")).toBe("Bearer oauth-token-1");
    expect(read.get("APCA-API-KEY-ID")).toBeNull();
    expect(String(fetch.mock.calls[1]?.[0])).toBe(`${BASE}/v2/orders/${entry.id}?nested=true`);
  });

  it("Scenario: Alpaca order statuses map to ours", async () => {
    const expected: Record<string, string> = {
      new: "submitted",
      accepted: "submitted",
      partially_filled: "partially_filled",
      filled: "filled",
      canceled: "canceled",
      expired: "expired",
      rejected: "rejected",
      done_for_day: "submitted",
    };
    const orders = Object.keys(expected).map((status) =>
      alpacaOrder({
        status,
        filled_qty: status === "filled" ? "10" : status === "partially_filled" ? "4" : "0",
        filled_avg_price: status === "filled" || status === "partially_filled" ? "189.9712" : null,
      }),
    );
    const fetch = vi.spyOn(globalThis, "fetch").mockResolvedValueOnce(json(orders));

    const listed = await new AlpacaAdapter({ baseUrl: BASE, credentials: keys }).listOpenOrders();

    expect(String(fetch.mock.calls[0]?.[0])).toBe(`${BASE}/v2/orders?status=open&limit=500&nested=true`);
    expect(listed.map((order) => order.status)).toEqual(Object.values(expected));
    const partial = listed.find((order) => order.status === "partially_filled");
    expect(partial).toMatchObject({ filledQuantity: 4, averageFillPrice: 189.9712, quantity: 10 });
    expect(listed.find((order) => order.status === "rejected")?.rejectReason).toBeTruthy();
  });

  it("answers null for an unknown client order id, and finds a known one", async () => {
    const known = alpacaOrder({ status: "filled", filled_qty: "10", filled_avg_price: "190.01" });
    const fetch = vi
      .spyOn(globalThis, "fetch")
      .mockResolvedValueOnce(json({ code: 40410000, message: "order not found for client_order_id" }, 404))
      .mockResolvedValueOnce(json(known));
    const adapter = new AlpacaAdapter({ baseUrl: BASE, credentials: keys });

    expect(await adapter.getOrderByClientId("missing-1")).toBeNull();
    expect(String(fetch.mock.calls[0]?.[0])).toBe(
      `${BASE}/v2/orders:by_client_order_id?client_order_id=missing-1&nested=true`,
    );
    expect(await adapter.getOrderByClientId(known.client_order_id)).toMatchObject({
      brokerOrderId: known.id,
      status: "filled",
      averageFillPrice: 190.01,
    });
  });

  it("answers a duplicate submission with the order Alpaca already has", async () => {
    const order = intent();
    const existing = alpacaOrder({ client_order_id: order.clientOrderId, status: "filled", filled_qty: "10" });
    const fetch = vi
      .spyOn(globalThis, "fetch")
      .mockResolvedValueOnce(json({ code: 40010001, message: "client_order_id must be unique" }, 422))
      .mockResolvedValueOnce(json(existing));

    const placed = await new AlpacaAdapter({ baseUrl: BASE, credentials: keys }).placeOrder(order);

    expect(placed.brokerOrderId).toBe(existing.id);
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(String(fetch.mock.calls[1]?.[0])).toContain(`client_order_id=${order.clientOrderId}`);
  });

  it("classifies placement failures: 5xx transient, timeout unknown, buying power permanent", async () => {
    const adapter = new AlpacaAdapter({ baseUrl: BASE, credentials: keys, timeoutMs: 20 });
    const fetch = vi.spyOn(globalThis, "fetch");

    fetch.mockResolvedValueOnce(new Response("upstream connect error", { status: 502 }));
    await expect(adapter.placeOrder(intent())).rejects.toBeInstanceOf(TransientError);

    fetch.mockImplementationOnce(
      (_input, init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        }),
    );
    await expect(adapter.placeOrder(intent())).rejects.toBeInstanceOf(UnknownOutcomeError);

    fetch.mockResolvedValueOnce(json({ code: 40310000, message: "insufficient buying power" }, 403));
    const refused = await adapter.placeOrder(intent()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PermanentError);
    expect((refused as PermanentError).reason).toBe("insufficient_funds");
  });

  it("sends option and crypto orders with Alpaca's symbols and position intent", async () => {
    const fetch = vi
      .spyOn(globalThis, "fetch")
      .mockImplementation(async () => json(alpacaOrder({ symbol: "AAPL261220C00190000", asset_class: "us_option" })));
    const adapter = new AlpacaAdapter({ baseUrl: BASE, credentials: keys });

    const option = await adapter.placeOrder(
      intent({
        assetClass: "option",
        symbol: "AAPL",
        option: { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" },
        side: "sell_short",
        quantity: 2,
        limitPrice: 3.45,
        timeInForce: "day",
      }),
    );
    expect(JSON.parse(String(fetch.mock.calls[0]?.[1]?.body))).toMatchObject({
      symbol: "AAPL261220C00190000",
      qty: "2",
      side: "sell",
      position_intent: "sell_to_open",
      limit_price: "3.45",
    });
    expect(option.assetClass).toBe("option");

    await adapter.placeOrder(
      intent({ assetClass: "crypto", symbol: "btc/usdt", orderType: "market", limitPrice: null, quantity: 0.00012 }),
    );
    const crypto = JSON.parse(String(fetch.mock.calls[1]?.[1]?.body));
    expect(crypto).toMatchObject({ symbol: "BTC/USDT", qty: "0.00012", type: "market" });
    expect(crypto.limit_price).toBeUndefined();
  });

  it("reads the account, positions and cancels", async () => {
    const fetch = vi
      .spyOn(globalThis, "fetch")
      .mockResolvedValueOnce(
        json({
          id: "904837e3-3b76-47ec-b432-046db621571b",
          account_number: "PA3BTEST",
          status: "ACTIVE",
          currency: "USD",
          buying_power: "262113.632",
          cash: "-23140.2",
          portfolio_value: "103820.56",
          equity: "103820.56",
          last_equity: "103529.24",
          long_market_value: "126960.76",
          short_market_value: "0",
          trading_blocked: false,
          account_blocked: false,
          shorting_enabled: true,
        }),
      )
      .mockResolvedValueOnce(
        json([
          {
            asset_id: "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
            symbol: "AAPL",
            exchange: "NASDAQ",
            asset_class: "us_equity",
            avg_entry_price: "100.0",
            qty: "5",
            side: "long",
            market_value: "600.0",
            cost_basis: "500.0",
            unrealized_pl: "100.0",
            current_price: "120.0",
          },
          {
            asset_id: "276e2673-764b-4ab6-a611-caf665ca6340",
            symbol: "BTCUSD",
            exchange: "CRYPTO",
            asset_class: "crypto",
            avg_entry_price: "60000",
            qty: "-0.5",
            side: "short",
            market_value: "-31000",
            unrealized_pl: "-1000",
            current_price: "62000",
          },
        ]),
      )
      .mockResolvedValueOnce(new Response(null, { status: 204 }))
      .mockResolvedValueOnce(json({ code: 42210000, message: "order is not cancelable" }, 422));
    const adapter = new AlpacaAdapter({ baseUrl: BASE, credentials: keys });

    expect(await adapter.getAccount()).toEqual({
      equity: 103820.56,
      cash: -23140.2,
      buyingPower: 262113.632,
      currency: "USD",
      startOfDayEquity: 103529.24,
      tradingBlocked: false,
    });
    const positions = await adapter.getPositions();
    expect(positions[0]).toMatchObject({ symbol: "AAPL", direction: "long", quantity: 5, marketPrice: 120 });
    expect(positions[1]).toMatchObject({ symbol: "BTC/USD", assetClass: "crypto", direction: "short", quantity: 0.5 });

    await adapter.cancelOrder("61e69015-8549-4bfd-b9c3-01e75843f47d");
    expect(fetch.mock.calls[2]?.[1]?.method).toBe("DELETE");
    const late = await adapter.cancelOrder("61e69015").catch((error: unknown) => error);
    expect((late as PermanentError).reason).toBe("order_not_cancelable");
  });

  it("declares its capabilities and a throttle with half the published limit", () => {
    expect(ALPACA_CAPABILITIES).toMatchObject({ brackets: true, clientOrderIdLookup: true, trailingStops: true });
    expect(throttlePolicy(ALPACA_CAPABILITIES)).toEqual({ limit: 100, periodMs: 60_000 });
    expect(throttlePolicy({ rateLimit: { requests: 50, periodMs: 1_000 } })).toEqual({ limit: 25, periodMs: 1_000 });
  });
});

describe("Alpaca trailing stops", () => {
  /** A long's exit as the executor sends it: a reduce-only sell, good until canceled. */
  const trailingSell = (overrides: Partial<BrokerOrderIntent>) =>
    intent({
      side: "sell",
      orderType: "trailing_stop",
      quantity: 3,
      limitPrice: null,
      reduceOnly: true,
      trail: { percent: 2 },
      ...overrides,
    });

  /** A working trailing stop as Alpaca reports it once it has seen a price: `hwm` and the `stop_price` it gives. */
  const workingTrailingStop = (overrides: Record<string, unknown>) =>
    alpacaOrder({
      qty: "3",
      side: "sell",
      position_intent: "sell_to_close",
      order_type: "trailing_stop",
      type: "trailing_stop",
      time_in_force: "gtc",
      status: "new",
      ...overrides,
    });

  it("Scenario: An Alpaca trailing stop is sent with trail_percent", async () => {
    const order = trailingSell({ trail: { percent: 2 } });
    const answer = workingTrailingStop({
      client_order_id: order.clientOrderId,
      trail_percent: "2",
      hwm: "190.5",
      stop_price: "186.69",
    });
    const fetch = vi.spyOn(globalThis, "fetch").mockResolvedValueOnce(json(answer));

    const placed = await new AlpacaAdapter({ baseUrl: BASE, credentials: keys }).placeOrder(order);

    expect(JSON.parse(String(fetch.mock.calls[0]?.[1]?.body))).toEqual({
      symbol: "AAPL",
      qty: "3",
      side: "sell",
      type: "trailing_stop",
      time_in_force: "gtc",
      trail_percent: "2",
      client_order_id: order.clientOrderId,
    });
    expect(placed).toMatchObject({ orderType: "trailing_stop", trail: { percent: 2 }, stopPrice: 186.69 });
  });

  it("Scenario: An Alpaca trailing stop is sent with trail_price", async () => {
    const order = trailingSell({ trail: { amount: 1.5 }, timeInForce: "day" });
    const fetch = vi
      .spyOn(globalThis, "fetch")
      .mockResolvedValueOnce(
        json(workingTrailingStop({ client_order_id: order.clientOrderId, trail_price: "1.5", status: "accepted" })),
      );

    const placed = await new AlpacaAdapter({ baseUrl: BASE, credentials: keys }).placeOrder(order);

    const body = JSON.parse(String(fetch.mock.calls[0]?.[1]?.body));
    expect(body).toMatchObject({ type: "trailing_stop", time_in_force: "day", trail_price: "1.5" });
    expect(body.trail_percent).toBeUndefined();
    expect(body.stop_price).toBeUndefined();
    // Accepted before any price was seen: no level yet.
    expect(placed).toMatchObject({ orderType: "trailing_stop", trail: { amount: 1.5 }, stopPrice: null });
  });

  it("Scenario: An Alpaca trailing stop is read back with its high water mark and stop level", async () => {
    const risen = workingTrailingStop({ trail_percent: "2", hwm: "195.25", stop_price: "191.345" });
    const unlevelled = workingTrailingStop({ trail_price: "1.5", hwm: "195.25", stop_price: null });
    const shortCover = workingTrailingStop({
      side: "buy",
      position_intent: "buy_to_close",
      trail_price: "2",
      hwm: "180",
    });
    vi.spyOn(globalThis, "fetch")
      .mockResolvedValueOnce(json(risen))
      .mockResolvedValueOnce(json([unlevelled, { ...shortCover, stop_price: null }]));
    const adapter = new AlpacaAdapter({ baseUrl: BASE, credentials: keys });

    expect(await adapter.getOrder(risen.id)).toMatchObject({
      orderType: "trailing_stop",
      side: "sell",
      status: "submitted",
      trail: { percent: 2 },
      stopPrice: 191.345,
    });
    // Without stop_price, the level is the high water mark less the trail (a buy's: its low plus the trail).
    const [sell, buy] = await adapter.listOpenOrders();
    expect(sell).toMatchObject({ trail: { amount: 1.5 }, stopPrice: 193.75 });
    expect(buy).toMatchObject({ side: "buy_to_cover", trail: { amount: 2 }, stopPrice: 182 });
  });

  it("Scenario: Alpaca trailing stops are refused for options and crypto before any request", async () => {
    const fetch = vi.spyOn(globalThis, "fetch");
    const adapter = new AlpacaAdapter({ baseUrl: BASE, credentials: keys });
    const option = { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" } as const;
    const refused = [
      trailingSell({ assetClass: "option", option, quantity: 1 }),
      trailingSell({ assetClass: "crypto", symbol: "BTC/USD", quantity: 0.5 }),
      trailingSell({ timeInForce: "ioc" }),
    ];
    for (const order of refused) {
      const error = await adapter.placeOrder(order).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).reason).toBe("unsupported");
    }
    expect(fetch).not.toHaveBeenCalled();
    expect(takesTrailingStops(ALPACA_CAPABILITIES, "equity")).toBe(true);
    expect(["option", "crypto"].map((c) => takesTrailingStops(ALPACA_CAPABILITIES, c as "option"))).toEqual([
      false,
      false,
    ]);
  });
});
