import { describe, expect, it } from "vitest";
import type { BrokerOrderIntent } from "../../../shared/brokers/adapter";
import { PermanentError } from "../../../shared/brokers/errors";
import { MemoryPaperAccountStore, PaperBrokerAdapter } from "../../../shared/brokers/paper/adapter";
import type { PaperEvent } from "../../../shared/brokers/paper/engine";
import { type Instrument, instrumentKey } from "../../../shared/quotes/instrument";
import type { Quote, QuoteSource } from "../../../shared/quotes/quote";

/** A quote source whose prices the test sets; an unset symbol has no quote. */
class ScriptedQuotes implements QuoteSource {
  readonly prices = new Map<string, { bid?: number; ask?: number; last: number }>();
  calls = 0;
  constructor(private readonly clock: () => number) {}

  async getQuote(instrument: Instrument): Promise<Quote | null> {
    this.calls += 1;
    const symbol = instrumentKey(instrument);
    const price = this.prices.get(symbol);
    if (!price) return null;
    return { symbol, ...price, timestamp: new Date(this.clock()).toISOString(), source: "scripted", delayed: false };
  }
}

function setup(options: { startingCash?: number } = {}) {
  let now = Date.parse("2026-10-20T15:00:00Z");
  const clock = () => now;
  const quotes = new ScriptedQuotes(clock);
  const store = new MemoryPaperAccountStore();
  const events: PaperEvent[] = [];
  const adapter = new PaperBrokerAdapter({
    store,
    quotes,
    clock,
    account: options,
    onEvents: (batch) => {
      events.push(...batch);
    },
  });
  return { adapter, quotes, store, events, advance: (ms: number) => (now += ms) };
}

function intent(overrides: Partial<BrokerOrderIntent> = {}): BrokerOrderIntent {
  return {
    clientOrderId: crypto.randomUUID(),
    assetClass: "equity",
    symbol: "AAPL",
    option: null,
    side: "buy",
    orderType: "market",
    quantity: 10,
    limitPrice: null,
    stopPrice: null,
    timeInForce: "gtc",
    ...overrides,
  };
}

describe("paper broker adapter", () => {
  it("places an order at the current quote and keeps the account in the store", async () => {
    const { adapter, quotes, store, events } = setup();
    quotes.prices.set("AAPL", { bid: 99.9, ask: 100, last: 100 });

    const order = await adapter.placeOrder(intent());

    expect(order).toMatchObject({ status: "filled", averageFillPrice: 100 });
    expect(store.state?.cash).toBe(99_000);
    expect(events.map((event) => event.type)).toEqual(["accepted", "filled"]);
    expect(await adapter.getOrderByClientId(order.clientOrderId)).toEqual(order);
    expect(await adapter.getOrderByClientId("unknown")).toBeNull();
    await expect(adapter.getOrder("paper-404")).rejects.toMatchObject({ reason: "order_not_found" });
  });

  it("fills a waiting order when a price appears, as the executor polls it", async () => {
    const { adapter, quotes, advance } = setup();
    const waiting = await adapter.placeOrder(intent({ symbol: "NVDA" }));
    expect(waiting).toMatchObject({ status: "submitted", waitingForPrice: true });
    expect((await adapter.getOrder(waiting.brokerOrderId)).status).toBe("submitted");

    advance(2_000);
    quotes.prices.set("NVDA", { bid: 120, ask: 120.1, last: 120.05 });
    const filled = await adapter.getOrder(waiting.brokerOrderId);
    expect(filled).toMatchObject({ status: "filled", averageFillPrice: 120.1, waitingForPrice: false });
    expect(await adapter.listOpenOrders()).toEqual([]);
  });

  it("Scenario: A look at limits the price has not reached saves nothing", async () => {
    const { adapter, quotes, store, advance } = setup();
    quotes.prices.set("AAPL", { bid: 99.9, ask: 100, last: 100 });
    quotes.prices.set("MSFT", { bid: 409.9, ask: 410, last: 410 });
    const limits = [
      await adapter.placeOrder(intent({ orderType: "limit", limitPrice: 95 })),
      await adapter.placeOrder(intent({ symbol: "MSFT", orderType: "limit", limitPrice: 400 })),
    ];
    const ids = limits.map((order) => order.brokerOrderId);
    const stored = store.state;
    let saves = 0;
    const save = store.save.bind(store);
    store.save = async (state) => {
      saves += 1;
      await save(state);
    };
    for (let look = 0; look < 5; look++) {
      advance(1_000);
      quotes.prices.set("AAPL", { bid: 97 + look / 10, ask: 97.1 + look / 10, last: 97 + look / 10 });
      const found = await adapter.getOrders(ids);
      expect([...found.values()].map((order) => order.status)).toEqual(["submitted", "submitted"]);
    }
    expect(saves).toBe(0);
    expect(store.state).toBe(stored);
    advance(1_000);
    quotes.prices.set("AAPL", { bid: 94.8, ask: 94.9, last: 94.9 });
    const found = await adapter.getOrders(ids);
    expect(found.get(ids[0] ?? "")).toMatchObject({ status: "filled", averageFillPrice: 94.9 });
    expect(found.get(ids[1] ?? "")?.status).toBe("submitted");
    expect(saves).toBe(1);
  });

  it("Scenario: A member's due orders are brought up to date together", async () => {
    const { adapter, quotes, store } = setup();
    const nvda = await adapter.placeOrder(intent({ symbol: "NVDA" }));
    const msft = await adapter.placeOrder(intent({ symbol: "MSFT" }));
    const saved: number[] = [];
    let loads = 0;
    const load = store.load.bind(store);
    store.load = async () => {
      loads += 1;
      return load();
    };
    const save = store.save.bind(store);
    store.save = async (state) => {
      saved.push(Object.keys(state.orders).length);
      await save(state);
    };
    quotes.prices.set("NVDA", { ask: 120, last: 120 });
    quotes.prices.set("MSFT", { ask: 400, last: 400 });
    const found = await adapter.getOrders([nvda.brokerOrderId, msft.brokerOrderId, "paper-404"]);
    expect([...found.keys()]).toEqual([nvda.brokerOrderId, msft.brokerOrderId]);
    expect(found.get(nvda.brokerOrderId)).toMatchObject({ status: "filled", averageFillPrice: 120 });
    expect(found.get(msft.brokerOrderId)).toMatchObject({ status: "filled", averageFillPrice: 400 });
    expect(saved).toEqual([2]);
    // The account is read once for the whole call.
    expect(loads).toBe(1);
    // Only the instruments of the orders asked about are priced: another open order waits for its own follow-up.
    const tsla = await adapter.placeOrder(intent({ symbol: "TSLA" }));
    const amd = await adapter.placeOrder(intent({ symbol: "AMD" }));
    quotes.prices.set("TSLA", { ask: 300, last: 300 });
    quotes.prices.set("AMD", { ask: 150, last: 150 });
    expect((await adapter.getOrders([tsla.brokerOrderId])).get(tsla.brokerOrderId)?.status).toBe("filled");
    expect(store.state?.orders[amd.brokerOrderId]?.status).toBe("submitted");
    expect((await adapter.getOrder(amd.brokerOrderId)).status).toBe("filled");
    saved.length = 0;
    // Settled orders are answered from the account as it is: nothing to price, nothing saved.
    quotes.calls = 0;
    expect((await adapter.getOrders([nvda.brokerOrderId])).get(nvda.brokerOrderId)?.status).toBe("filled");
    expect(quotes.calls).toBe(0);
    expect(saved).toEqual([]);
  });

  it("Scenario: A finished order is forgotten a week after it finished, unless its bracket still works", async () => {
    const { adapter, quotes, store, advance } = setup();
    quotes.prices.set("AAPL", { bid: 99.9, ask: 100, last: 100 });
    quotes.prices.set("MSFT", { bid: 99.9, ask: 100, last: 100 });
    const bought = await adapter.placeOrder(intent({ symbol: "MSFT" }));
    const canceled = await adapter.placeOrder(intent({ orderType: "limit", limitPrice: 50 }));
    await adapter.cancelOrder(canceled.brokerOrderId);
    const bracketed = await adapter.placeOrder(
      intent({ bracket: { takeProfit: { limitPrice: 150 }, stopLoss: { stopPrice: 60, limitPrice: null } } }),
    );
    const legs = (await adapter.getOrder(bracketed.brokerOrderId)).legs ?? [];
    expect(legs.length).toBe(2);

    advance(7 * 24 * 60 * 60_000 - 60_000);
    const recent = await adapter.placeOrder(intent({ symbol: "MSFT" }));
    expect(Object.keys((await store.load())?.orders ?? {}).length).toBe(6);

    advance(120_000);
    const later = await adapter.placeOrder(intent({ symbol: "MSFT" }));
    const account = await store.load();
    // The first market buy and the canceled limit went, with their client order ids; the filled bracket entry
    // stays with its working exits, and the buy of a minute ago stays.
    expect(Object.keys(account?.orders ?? {}).sort()).toEqual(
      [
        bracketed.brokerOrderId,
        ...legs.map((leg) => leg.brokerOrderId),
        recent.brokerOrderId,
        later.brokerOrderId,
      ].sort(),
    );
    expect(Object.values(account?.clientOrderIds ?? {})).not.toContain(bought.brokerOrderId);
    expect(await adapter.getOrderByClientId(canceled.clientOrderId)).toBeNull();
    await expect(adapter.getOrder(bought.brokerOrderId)).rejects.toThrow(PermanentError);
    // Forgetting orders changes no money: the position and the cash are what the fills made them.
    expect((await adapter.getPositions()).find((position) => position.symbol === "AAPL")?.quantity).toBe(10);
    expect((await adapter.getPositions()).find((position) => position.symbol === "MSFT")?.quantity).toBe(30);
  });

  it("refuses what the account cannot cover and leaves the store untouched", async () => {
    const { adapter, quotes, store } = setup({ startingCash: 500 });
    quotes.prices.set("AAPL", { ask: 100, last: 100 });
    const refused = await adapter.placeOrder(intent()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PermanentError);
    expect((refused as PermanentError).reason).toBe("insufficient_funds");
    expect(store.state).toBeNull();
  });

  it("returns the existing order for a repeated client order id and never places twice", async () => {
    const { adapter, quotes, store } = setup();
    quotes.prices.set("AAPL", { ask: 100, last: 100 });
    const order = intent();
    const [first, second] = await Promise.all([adapter.placeOrder(order), adapter.placeOrder(order)]);
    expect(second).toEqual(first);
    expect(Object.keys(store.state?.orders ?? {})).toHaveLength(1);
  });

  it("runs concurrent calls one at a time, so no update is lost", async () => {
    const { adapter, quotes, store } = setup();
    quotes.prices.set("AAPL", { ask: 100, last: 100 });
    await Promise.all(Array.from({ length: 5 }, () => adapter.placeOrder(intent({ quantity: 1 }))));
    expect(Object.keys(store.state?.orders ?? {})).toHaveLength(5);
    expect(store.state?.positions.AAPL?.quantity).toBe(5);
    expect(store.state?.cash).toBe(99_500);
  });

  it("marks positions for the account, cancels orders, and answers quotes", async () => {
    const { adapter, quotes, advance } = setup();
    quotes.prices.set("AAPL", { ask: 100, last: 100 });
    await adapter.placeOrder(intent());
    const resting = await adapter.placeOrder(intent({ orderType: "limit", limitPrice: 90, quantity: 5 }));

    advance(60_000);
    quotes.prices.set("AAPL", { bid: 104.9, ask: 105.1, last: 105 });
    expect(await adapter.getAccount()).toMatchObject({
      equity: 100_050,
      cash: 99_000,
      buyingPower: 100_050 - 1_050 - 450,
      unrealizedPnl: 50,
      startOfDayEquity: 100_000,
      currency: "USD",
    });
    expect(await adapter.getPositions()).toMatchObject([{ symbol: "AAPL", direction: "long", marketPrice: 105 }]);

    await adapter.cancelOrder(resting.brokerOrderId);
    expect((await adapter.getOrder(resting.brokerOrderId)).status).toBe("canceled");
    await expect(adapter.cancelOrder(resting.brokerOrderId)).rejects.toMatchObject({ reason: "order_not_cancelable" });
    expect(await adapter.getQuote({ assetClass: "equity", symbol: "AAPL", option: null })).toMatchObject({ last: 105 });
    expect(adapter.capabilities).toMatchObject({ broker: "paper", brackets: true, clientOrderIdLookup: true });
  });
});
