import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BrokerOrderIntent } from "../../../shared/brokers/adapter";
import { PermanentError } from "../../../shared/brokers/errors";
import {
  accountOf,
  cancelOrder,
  createPaperAccount,
  dayOrderExpiry,
  expireOrders,
  FINISHED_ORDER_RETENTION_MS,
  findOrder,
  forgetFinishedOrders,
  markToMarket,
  onQuote,
  onQuotes,
  type PaperAccountState,
  positionsOf,
  submitOrder,
} from "../../../shared/brokers/paper/engine";
import { hashedAnchor } from "../../../shared/quotes/deterministic";
import type { Quote } from "../../../shared/quotes/quote";

const T0 = Date.parse("2026-10-20T14:30:00Z");
const at = (seconds: number) => T0 + seconds * 1000;

function quote(symbol: string, prices: { bid?: number; ask?: number; last: number }, seconds = 0): Quote {
  return {
    symbol,
    ...prices,
    timestamp: new Date(at(seconds)).toISOString(),
    source: "test-feed",
    delayed: false,
  };
}

let counter = 0;
function order(overrides: Partial<BrokerOrderIntent> = {}): BrokerOrderIntent {
  counter += 1;
  return {
    clientOrderId: `c-${counter}-${crypto.randomUUID()}`,
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

/** A market buy of 10 AAPL filled at 100 at T0, with a take-profit at 110 and a stop at 95 working. */
function filledBracketEntry() {
  return submitOrder(
    createPaperAccount({}, T0),
    order({ bracket: { takeProfit: { limitPrice: 110 }, stopLoss: { stopPrice: 95, limitPrice: null } } }),
    quote("AAPL", { bid: 99.9, ask: 100, last: 100 }),
    T0,
  );
}

function refusal(run: () => unknown): PermanentError {
  try {
    run();
  } catch (error) {
    if (error instanceof PermanentError) return error;
    throw error;
  }
  throw new Error("expected a PermanentError");
}

/** An account holding 10 AAPL bought at 100. */
function holding(): PaperAccountState {
  return submitOrder(createPaperAccount({}, T0), order(), quote("AAPL", { ask: 100, last: 100 }), T0).state;
}

describe("paper engine", () => {
  it("Scenario: A market order fills at the ask or the bid", () => {
    const feed = { ...quote("AAPL", { bid: 99.9, ask: 100.1, last: 100 }), delayed: true, source: "alpaca:iex" };
    const bought = submitOrder(createPaperAccount({}, T0), order(), feed, T0);
    expect(bought.order.status).toBe("filled");
    expect(bought.order.averageFillPrice).toBe(100.1);
    expect(bought.order.fills?.[0]).toMatchObject({
      price: 100.1,
      quantity: 10,
      quoteSource: "alpaca:iex",
      quoteTimestamp: feed.timestamp,
      delayed: true,
    });
    expect(bought.state.cash).toBe(100_000 - 1_001);

    const sold = submitOrder(bought.state, order({ side: "sell", quantity: 4 }), feed, at(1));
    expect(sold.order.averageFillPrice).toBe(99.9);
    const lastOnly = submitOrder(sold.state, order({ side: "sell", quantity: 6 }), quote("AAPL", { last: 101 }), at(2));
    expect(lastOnly.order.averageFillPrice).toBe(101);
    expect(lastOnly.state.positions.AAPL).toBeUndefined();
    expect(lastOnly.state.realizedPnl).toBeCloseTo(4 * (99.9 - 100.1) + 6 * (101 - 100.1), 6);
  });

  it("Scenario: A limit order fills only when the price crosses", () => {
    const placed = submitOrder(
      createPaperAccount({}, T0),
      order({ orderType: "limit", limitPrice: 95 }),
      quote("AAPL", { bid: 99.9, ask: 100.1, last: 100 }),
      T0,
    );
    expect(placed.order.status).toBe("submitted");
    expect(placed.order.waitingForPrice).toBe(false);

    const above = onQuote(placed.state, "AAPL", quote("AAPL", { bid: 95.5, ask: 95.6, last: 95.55 }, 5), at(5));
    expect(above.fills).toEqual([]);
    const crossed = onQuote(above.state, "AAPL", quote("AAPL", { bid: 94.7, ask: 94.8, last: 94.75 }, 9), at(9));
    expect(crossed.fills).toHaveLength(1);
    expect(crossed.fills[0]?.fill.price).toBe(94.8);
    expect(crossed.fills[0]?.order.status).toBe("filled");
    expect(crossed.state.positions.AAPL).toMatchObject({ quantity: 10, averageCost: 94.8 });

    // A sell limit at or below the bid is marketable at once, at the bid.
    const bidAbove = quote("AAPL", { bid: 94.7, ask: 94.8, last: 94.75 }, 9);
    const sell = submitOrder(
      crossed.state,
      order({ side: "sell", orderType: "limit", limitPrice: 94 }),
      bidAbove,
      at(10),
    );
    expect(sell.order).toMatchObject({ status: "filled", averageFillPrice: 94.7 });
  });

  it("Scenario: Stop and stop-limit orders trigger at the stop price", () => {
    let state = holding();
    const stop = submitOrder(
      state,
      order({ side: "sell", orderType: "stop", stopPrice: 95, quantity: 5 }),
      quote("AAPL", { bid: 99, ask: 99.2, last: 99.1 }),
      at(1),
    );
    state = stop.state;
    const stopLimit = submitOrder(
      state,
      order({ side: "sell", orderType: "stop_limit", stopPrice: 95, limitPrice: 94.5, quantity: 5 }),
      null,
      at(2),
    );
    state = stopLimit.state;
    expect(stop.order.status).toBe("submitted");

    const gap = onQuote(state, "AAPL", quote("AAPL", { bid: 94.2, ask: 94.4, last: 94.3 }, 3), at(3));
    expect(gap.events.filter((event) => event.type === "triggered").map((event) => event.order.brokerOrderId)).toEqual([
      stop.order.brokerOrderId,
      stopLimit.order.brokerOrderId,
    ]);
    expect(gap.fills.map((report) => [report.order.brokerOrderId, report.fill.price])).toEqual([
      [stop.order.brokerOrderId, 94.2],
    ]);
    expect(findOrder(gap.state, stopLimit.order.brokerOrderId)?.status).toBe("submitted");

    const recovered = onQuote(gap.state, "AAPL", quote("AAPL", { bid: 94.6, ask: 94.8, last: 94.7 }, 4), at(4));
    expect(recovered.fills.map((report) => report.fill.price)).toEqual([94.6]);
    expect(recovered.state.positions.AAPL).toBeUndefined();

    // A buy stop does nothing until the last price reaches it.
    const buyStop = submitOrder(
      recovered.state,
      order({ orderType: "stop", stopPrice: 110 }),
      quote("AAPL", { ask: 105, last: 105 }, 5),
      at(5),
    );
    expect(buyStop.order.status).toBe("submitted");
    const hit = onQuote(buyStop.state, "AAPL", quote("AAPL", { ask: 110.3, last: 110.1 }, 6), at(6));
    expect(hit.fills[0]?.fill.price).toBe(110.3);
  });

  it("Scenario: Without a quote the order waits for a price", () => {
    const waiting = submitOrder(createPaperAccount({}, T0), order({ symbol: "MSFT" }), null, T0);
    expect(waiting.order).toMatchObject({ status: "submitted", waitingForPrice: true, filledQuantity: 0 });
    expect(waiting.order.note).toContain("Waiting for a price");
    expect(waiting.events.map((event) => event.type)).toEqual(["accepted", "waiting_for_price"]);
    expect(waiting.state.cash).toBe(100_000);

    // A quote for another symbol changes nothing; the first real one fills.
    expect(onQuote(waiting.state, "AAPL", quote("AAPL", { last: 100 }), at(1)).fills).toEqual([]);
    const priced = onQuote(waiting.state, "MSFT", quote("MSFT", { bid: 410, ask: 410.5, last: 410.2 }, 2), at(2));
    expect(priced.fills[0]?.order).toMatchObject({ status: "filled", waitingForPrice: false, averageFillPrice: 410.5 });

    const immediate = submitOrder(createPaperAccount({}, T0), order({ timeInForce: "ioc" }), null, T0);
    expect(immediate.order.status).toBe("canceled");
  });

  it("Scenario: Shorting and covering realize profit and loss", () => {
    const short = submitOrder(
      createPaperAccount({}, T0),
      order({ side: "sell_short", quantity: 10 }),
      quote("AAPL", { bid: 50, ask: 50.1, last: 50 }),
      T0,
    );
    expect(short.state.cash).toBe(100_500);
    expect(positionsOf(short.state)[0]).toMatchObject({ direction: "short", quantity: 10, averageCost: 50 });
    expect(accountOf(short.state)).toMatchObject({ equity: 100_000, buyingPower: 99_500 });

    const marked = markToMarket(short.state, [quote("AAPL", { bid: 44.9, ask: 45, last: 45 }, 5)], at(5));
    expect(marked.account.unrealizedPnl).toBe(50);

    const cover = submitOrder(
      marked.state,
      order({ side: "buy_to_cover", quantity: 10 }),
      quote("AAPL", { bid: 44.9, ask: 45, last: 45 }, 6),
      at(6),
    );
    expect(cover.state.cash).toBe(100_050);
    expect(cover.state.positions.AAPL).toBeUndefined();
    expect(cover.state.realizedPnl).toBe(50);
    expect(accountOf(cover.state)).toMatchObject({ equity: 100_050, realizedPnl: 50, unrealizedPnl: 0 });
  });

  it("Scenario: Option contracts cost one hundred times the premium", () => {
    const contract = { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" as const };
    const bought = submitOrder(
      createPaperAccount({}, T0),
      order({ assetClass: "option", option: contract, quantity: 2, orderType: "limit", limitPrice: 3.6 }),
      quote("AAPL261220C00190000", { bid: 3.4, ask: 3.5, last: 3.45 }),
      T0,
    );
    expect(bought.order).toMatchObject({ status: "filled", averageFillPrice: 3.5, symbol: "AAPL261220C00190000" });
    expect(bought.state.cash).toBe(100_000 - 700);
    const marked = markToMarket(bought.state, [quote("AAPL261220C00190000", { last: 4 }, 10)], at(10));
    expect(marked.positions[0]).toMatchObject({ quantity: 2, marketPrice: 4, marketValue: 800, unrealizedPnl: 100 });
    expect(marked.account.equity).toBe(100_100);
  });

  it("Scenario: Crypto quantities may be fractional", () => {
    const crypto = submitOrder(
      createPaperAccount({}, T0),
      order({ assetClass: "crypto", symbol: "btc/usd", quantity: 0.25 }),
      quote("BTC/USD", { bid: 60_000, ask: 60_010, last: 60_005 }),
      T0,
    );
    expect(crypto.order).toMatchObject({ status: "filled", filledQuantity: 0.25, symbol: "BTC/USD" });
    expect(crypto.state.cash).toBe(100_000 - 15_002.5);

    const fractionalShares = refusal(() =>
      submitOrder(crypto.state, order({ quantity: 1.5 }), quote("AAPL", { last: 100 }), at(1)),
    );
    expect(fractionalShares.reason).toBe("unsupported");
  });

  it("Scenario: Orders the account cannot cover are refused", () => {
    const account = createPaperAccount({ startingCash: 1_000 }, T0);
    const tooBig = refusal(() =>
      submitOrder(account, order({ quantity: 11 }), quote("AAPL", { ask: 100, last: 100 }), T0),
    );
    expect(tooBig.reason).toBe("insufficient_funds");
    expect(tooBig.message).toMatch(/needs \$1,100\.00, \$1,000\.00 is available/);

    // An open limit order holds on to the buying power it may need.
    const resting = submitOrder(
      account,
      order({ orderType: "limit", limitPrice: 90, quantity: 10 }),
      quote("AAPL", { ask: 100, last: 100 }),
      T0,
    );
    const second = refusal(() =>
      submitOrder(resting.state, order({ quantity: 2 }), quote("AAPL", { ask: 100, last: 100 }), T0),
    );
    expect(second.reason).toBe("insufficient_funds");

    const noShorts = holding();
    noShorts.shortingEnabled = false;
    const oversell = refusal(() =>
      submitOrder(noShorts, order({ side: "sell", quantity: 12 }), quote("AAPL", { bid: 100, last: 100 }), T0),
    );
    expect(oversell.reason).toBe("insufficient_position");
    expect(oversell.message).toContain("You hold 10 AAPL; selling 12");
    expect(noShorts.positions.AAPL?.quantity).toBe(10);
    expect(Object.keys(noShorts.orders)).toHaveLength(1);
  });

  it("Scenario: The same client order id never makes a second order", () => {
    const first = order();
    const placed = submitOrder(createPaperAccount({}, T0), first, quote("AAPL", { ask: 100, last: 100 }), T0);
    const again = submitOrder(placed.state, { ...first, quantity: 50 }, quote("AAPL", { ask: 120, last: 120 }), at(5));
    expect(again.duplicate).toBe(true);
    expect(again.state).toBe(placed.state);
    expect(again.order).toEqual(placed.order);
    expect(Object.keys(again.state.orders)).toHaveLength(1);
    expect(again.order.fills).toHaveLength(1);
  });

  it("Scenario: A filled bracket entry places exits that cancel each other", () => {
    const entry = filledBracketEntry();
    expect(entry.order.status).toBe("filled");
    const [takeProfit, stop] = entry.order.legs ?? [];
    expect(takeProfit).toMatchObject({
      side: "sell",
      orderType: "limit",
      limitPrice: 110,
      quantity: 10,
      status: "submitted",
    });
    expect(stop).toMatchObject({ side: "sell", orderType: "stop", stopPrice: 95, status: "submitted" });
    expect(takeProfit?.clientOrderId).toBe(`${entry.order.clientOrderId}:tp`);
    // Exits close the position, so they need no buying power.
    expect(accountOf(entry.state).buyingPower).toBe(99_000);

    const target = onQuote(entry.state, "AAPL", quote("AAPL", { bid: 110.2, ask: 110.4, last: 110.3 }, 60), at(60));
    expect(target.fills.map((report) => [report.order.brokerOrderId, report.fill.price])).toEqual([
      [takeProfit?.brokerOrderId, 110.2],
    ]);
    expect(findOrder(target.state, stop?.brokerOrderId ?? "")?.status).toBe("canceled");
    expect(target.state.positions.AAPL).toBeUndefined();
    expect(target.state.realizedPnl).toBeCloseTo(102, 6);
  });

  it("forgets a bracket only once all of it finished over a week ago, and changes no money doing so", () => {
    const entry = filledBracketEntry();
    const week = FINISHED_ORDER_RETENTION_MS;
    // The entry filled over a week ago, but its exits still work: the whole bracket stays.
    expect(forgetFinishedOrders(entry.state, T0 + week + 1)).toBe(entry.state);
    const target = onQuote(entry.state, "AAPL", quote("AAPL", { bid: 110.2, ask: 110.4, last: 110.3 }, 60), at(60));
    // Finished now, but the target filled less than a week ago: nothing goes yet.
    expect(forgetFinishedOrders(target.state, T0 + week + 1)).toBe(target.state);
    const forgotten = forgetFinishedOrders(target.state, at(60) + week + 1);
    expect(forgotten.orders).toEqual({});
    expect(forgotten.clientOrderIds).toEqual({});
    expect(accountOf(forgotten)).toEqual(accountOf(target.state));
    expect(forgotten.realizedPnl).toBe(target.state.realizedPnl);
  });

  it("Scenario: A reduce-only exit that would flip the position is refused", () => {
    // 20 AAPL held; a take-profit and a stop each for all 20, both reduce-only (an exit pair without OCO).
    let state = submitOrder(
      createPaperAccount({}, T0),
      order({ quantity: 20 }),
      quote("AAPL", { ask: 100, last: 100 }),
      T0,
    ).state;
    const market = quote("AAPL", { bid: 99.9, ask: 100.1, last: 100 });
    const target = submitOrder(
      state,
      order({ side: "sell", orderType: "limit", limitPrice: 104, quantity: 20, reduceOnly: true }),
      market,
      at(1),
    );
    const stop = submitOrder(
      target.state,
      order({ side: "sell", orderType: "stop", stopPrice: 98, quantity: 20, reduceOnly: true }),
      market,
      at(2),
    );
    state = onQuote(stop.state, "AAPL", quote("AAPL", { bid: 104.5, ask: 104.6, last: 104.5 }, 3), at(3)).state;
    expect(findOrder(state, target.order.brokerOrderId)?.status).toBe("filled");
    expect(state.positions.AAPL).toBeUndefined();
    // The price falls through the stop: it is rejected, not filled into a short of 20.
    const fell = onQuote(state, "AAPL", quote("AAPL", { bid: 97, ask: 97.1, last: 97 }, 4), at(4));
    expect(fell.fills).toEqual([]);
    expect(findOrder(fell.state, stop.order.brokerOrderId)).toMatchObject({ status: "rejected" });
    expect(findOrder(fell.state, stop.order.brokerOrderId)?.rejectReason).toMatch(/^Reduce-only/);
    expect(fell.state.positions.AAPL).toBeUndefined();

    // Selling 30 reduce-only on 20 held is refused at once, naming both quantities; nothing changes.
    const held = holding();
    const refused = refusal(() =>
      submitOrder(held, order({ side: "sell", quantity: 30, reduceOnly: true }), market, at(5)),
    );
    expect(refused.reason).toBe("insufficient_position");
    expect(refused.message).toContain("sell 30 AAPL but the account holds long 10");
    // Without reduce-only (an explicit short entry), the same sell opens a short as asked.
    const shorted = submitOrder(held, order({ side: "sell", quantity: 30 }), market, at(5));
    expect(shorted.state.positions.AAPL?.quantity).toBe(-20);
  });

  it("Scenario: An option quote no contract can be worth is never filled at", () => {
    const call = { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" as const };
    const key = "AAPL261220C00190000";
    const option = (overrides: Partial<BrokerOrderIntent>) =>
      order({ assetClass: "option", symbol: "AAPL", option: call, quantity: 2, ...overrides });
    const bought = submitOrder(
      createPaperAccount({}, T0),
      option({}),
      quote(key, { bid: 2.45, ask: 2.5, last: 2.48 }),
      T0,
      { underlyingLast: 190 },
    );
    expect(bought.order).toMatchObject({ status: "filled", averageFillPrice: 2.5 });
    const target = submitOrder(
      bought.state,
      option({ side: "sell", orderType: "limit", limitPrice: 2.6, reduceOnly: true }),
      quote(key, { bid: 2.45, ask: 2.5, last: 2.48 }),
      at(1),
      { underlyingLast: 190 },
    );
    expect(target.order.status).toBe("submitted");
    // The feed answers the underlying's level for the contract: no fill, the order waits and says why.
    const wild = onQuote(target.state, key, quote(key, { bid: 453.89, ask: 454, last: 453.89 }, 2), at(2), {
      underlyingLast: 190,
    });
    expect(wild.fills).toEqual([]);
    expect(findOrder(wild.state, target.order.brokerOrderId)).toMatchObject({
      status: "submitted",
      waitingForPrice: true,
    });
    expect(findOrder(wild.state, target.order.brokerOrderId)?.note).toContain("above its underlying's 190");
    expect(wild.state.positions[key]?.lastPrice).toBe(2.48);
    // A put is never worth more than its strike, underlying or not; a crossed quote is no price either.
    const put = { ...call, right: "put" as const, strike: 50 };
    const putOrder = submitOrder(
      createPaperAccount({}, T0),
      order({ assetClass: "option", symbol: "AAPL", option: put, quantity: 1 }),
      quote("AAPL261220P00050000", { last: 60 }),
      T0,
    );
    expect(putOrder.order).toMatchObject({ status: "submitted", waitingForPrice: true });
    expect(putOrder.order.note).toContain("above its strike");
    const crossed = submitOrder(
      createPaperAccount({}, T0),
      order(),
      quote("AAPL", { bid: 101, ask: 100, last: 100 }),
      T0,
    );
    expect(crossed.order.status).toBe("submitted");
    expect(crossed.order.note).toContain("crossed");
    // The first plausible quote fills it.
    const plausible = onQuote(wild.state, key, quote(key, { bid: 2.61, ask: 2.65, last: 2.62 }, 3), at(3), {
      underlyingLast: 190,
    });
    expect(plausible.fills[0]?.fill.price).toBe(2.61);
    // The development feed prices a contract it never saw as a premium, not at its underlying's level.
    const anchor = hashedAnchor(1, key);
    expect(anchor).toBeGreaterThanOrEqual(190 * 0.005);
    expect(anchor).toBeLessThan(190 * 0.1);
  });

  it("cancels open orders and refuses to cancel finished or unknown ones", () => {
    const resting = submitOrder(createPaperAccount({}, T0), order({ orderType: "limit", limitPrice: 90 }), null, T0);
    const canceled = cancelOrder(resting.state, resting.order.brokerOrderId, at(1));
    expect(canceled.order.status).toBe("canceled");
    expect(accountOf(canceled.state).buyingPower).toBe(100_000);
    expect(() => cancelOrder(canceled.state, resting.order.brokerOrderId, at(2))).toThrow(PermanentError);
    expect(refusal(() => cancelOrder(canceled.state, "paper-999", at(2))).reason).toBe("order_not_found");
  });

  it("expires day orders at the close, and tracks equity at the start of each UTC day", () => {
    // 14:30 UTC on 2026-10-20 is 10:30 in New York (EDT): the day order ends at 20:00 UTC.
    expect(dayOrderExpiry("equity", T0)).toBe("2026-10-20T20:00:00.000Z");
    expect(dayOrderExpiry("equity", Date.parse("2026-12-01T22:00:00Z"))).toBe("2026-12-02T21:00:00.000Z");
    expect(dayOrderExpiry("crypto", T0)).toBe("2026-10-21T00:00:00.000Z");

    const day = submitOrder(holding(), order({ orderType: "limit", limitPrice: 80, timeInForce: "day" }), null, T0);
    expect(expireOrders(day.state, Date.parse("2026-10-20T19:59:59Z")).events).toEqual([]);
    const expired = expireOrders(day.state, Date.parse("2026-10-20T20:00:00Z"));
    expect(expired.events.map((event) => event.type)).toEqual(["expired"]);
    expect(findOrder(expired.state, day.order.brokerOrderId)?.status).toBe("expired");

    expect(day.state.day).toEqual({ date: "2026-10-20", startEquity: 100_000 });
    const nextDay = markToMarket(day.state, [quote("AAPL", { last: 105 }, 3_600)], Date.parse("2026-10-21T00:00:01Z"));
    expect(nextDay.account.startOfDayEquity).toBe(100_000);
    expect(nextDay.account.equity).toBe(100_050);
    const later = markToMarket(nextDay.state, [], Date.parse("2026-10-22T09:00:00Z"));
    expect(later.account.startOfDayEquity).toBe(100_050);
  });

  it("Scenario: A price between a position's exits moves only its mark", () => {
    const exits = (stop: number, target: number, stopLimit: number) => {
      let state = holding();
      const sell = { side: "sell" as const, reduceOnly: true };
      const now = quote("AAPL", { bid: 100, ask: 100, last: 100 });
      state = submitOrder(state, order({ ...sell, orderType: "stop", stopPrice: stop }), now, T0).state;
      state = submitOrder(state, order({ ...sell, orderType: "limit", limitPrice: target }), now, T0).state;
      const limit = { orderType: "stop_limit" as const, stopPrice: stopLimit, limitPrice: stopLimit - 1 };
      return submitOrder(state, order({ ...sell, ...limit }), now, T0).state;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 90, max: 99 }),
        fc.integer({ min: 101, max: 110 }),
        fc.integer({ min: 90, max: 99 }),
        fc.integer({ min: 160, max: 240 }),
        (stop, target, stopLimit, halves) => {
          const state = exits(stop, target, stopLimit);
          const price = halves / 2;
          const result = onQuotes(
            state,
            [{ symbol: "AAPL", quote: quote("AAPL", { bid: price, ask: price, last: price }, 60) }],
            at(60),
          );
          const reached = price <= stop || price >= target || price <= stopLimit;
          if (reached) {
            expect(result.events.length).toBeGreaterThan(0);
            return;
          }
          expect(result.events).toEqual([]);
          expect(result.state.positions.AAPL?.lastPrice).toBe(price);
          expect(state.positions.AAPL?.lastPrice).toBe(100);
          // Not copied: the very objects the account held, each still working.
          for (const [id, held] of Object.entries(state.orders)) expect(result.state.orders[id]).toBe(held);
        },
      ),
    );
  });

  it("keeps the state serializable and never mutates its input", () => {
    const state = holding();
    const before = JSON.stringify(state);
    onQuote(state, "AAPL", quote("AAPL", { last: 120 }, 1), at(1));
    submitOrder(state, order(), quote("AAPL", { ask: 120, last: 120 }), at(1));
    expect(JSON.stringify(state)).toBe(before);
    expect(JSON.parse(before)).toEqual(state);
  });

  it("never changes a state it is given, whatever it does with it (so one account may be shared between calls)", () => {
    const frozen = <T>(value: T): T => {
      if (value && typeof value === "object" && !Object.isFrozen(value)) {
        for (const child of Object.values(value)) frozen(child);
        Object.freeze(value);
      }
      return value;
    };
    // A bracket working both exits, a resting day limit, and a trailing stop: every kind of order a call may touch.
    let state = filledBracketEntry().state;
    state = submitOrder(
      state,
      order({ symbol: "MSFT", orderType: "limit", limitPrice: 300, timeInForce: "day" }),
      null,
      T0,
    ).state;
    state = submitOrder(state, order({ symbol: "TSLA" }), quote("TSLA", { ask: 200, last: 200 }), T0).state;
    state = submitOrder(
      state,
      order({ symbol: "TSLA", side: "sell", orderType: "trailing_stop", trail: { percent: 5 }, reduceOnly: true }),
      quote("TSLA", { bid: 200, last: 200 }),
      T0,
    ).state;
    const given = frozen(state);
    const before = JSON.stringify(given);
    const limit = Object.values(given.orders).find((o) => o.key === "MSFT" && o.status === "submitted");
    const calls: Array<() => unknown> = [
      () => onQuotes(given, [{ symbol: "AAPL", quote: quote("AAPL", { bid: 111, ask: 111.1, last: 111 }, 5) }], at(5)),
      () => onQuotes(given, [{ symbol: "AAPL", quote: quote("AAPL", { bid: 94, ask: 94.1, last: 94 }, 5) }], at(5)),
      () => onQuotes(given, [{ symbol: "TSLA", quote: quote("TSLA", { bid: 230, ask: 230.1, last: 230 }, 5) }], at(5)),
      () => onQuotes(given, [{ symbol: "MSFT", quote: quote("MSFT", { bid: 299, ask: 299.5, last: 299 }, 5) }], at(5)),
      () =>
        onQuotes(
          given,
          [
            { symbol: "AAPL", quote: quote("AAPL", { bid: 111, ask: 111.1, last: 111 }, 5) },
            { symbol: "TSLA", quote: quote("TSLA", { bid: 150, ask: 150.1, last: 150 }, 5) },
            { symbol: "MSFT", quote: quote("MSFT", { bid: 299, ask: 299.5, last: 299 }, 5) },
          ],
          at(5),
        ),
      () => submitOrder(given, order(), quote("AAPL", { ask: 101, last: 101 }), at(5)),
      () =>
        submitOrder(
          given,
          order({ symbol: "TSLA", side: "sell", quantity: 5 }),
          quote("TSLA", { bid: 199, last: 199 }),
          at(5),
        ),
      () => cancelOrder(given, limit?.brokerOrderId ?? "", at(5)),
      () => expireOrders(given, at(24 * 3600)),
      () => forgetFinishedOrders(given, at(0) + FINISHED_ORDER_RETENTION_MS * 2),
      () => markToMarket(given, [quote("AAPL", { last: 105 }, 5)], at(5)),
      () => [accountOf(given), positionsOf(given)],
    ];
    for (const call of calls) expect(call).not.toThrow();
    expect(JSON.stringify(given)).toBe(before);
  });

  it("answers the account itself, neither copied nor changed, when a quote leaves its resting limits unreached", () => {
    const resting = submitOrder(
      createPaperAccount({}, T0),
      order({ orderType: "limit", limitPrice: 95, timeInForce: "day" }),
      quote("AAPL", { bid: 99.9, ask: 100, last: 100 }),
      T0,
    ).state;
    const unreached = onQuotes(
      resting,
      [{ symbol: "AAPL", quote: quote("AAPL", { bid: 97, ask: 97.1, last: 97 }, 5) }],
      at(5),
    );
    expect(unreached.state).toBe(resting);
    expect(unreached.events).toEqual([]);
    // Reached, expired at the close, or on the next day: applied on a copy, as before.
    const reached = onQuotes(
      resting,
      [{ symbol: "AAPL", quote: quote("AAPL", { bid: 94.8, ask: 94.9, last: 94.9 }, 6) }],
      at(6),
    );
    expect(reached.fills.map((fill) => fill.fill.price)).toEqual([94.9]);
    const close = Date.parse(dayOrderExpiry("equity", T0));
    const expired = onQuotes(
      resting,
      [{ symbol: "AAPL", quote: quote("AAPL", { bid: 97, ask: 97.1, last: 97 }) }],
      close,
    );
    expect(expired.events.map((event) => event.type)).toEqual(["expired"]);
    const nextDay = onQuotes(
      resting,
      [{ symbol: "AAPL", quote: quote("AAPL", { ask: 97.1, last: 97 }) }],
      at(24 * 3600),
    );
    expect(nextDay.state).not.toBe(resting);
    expect(nextDay.state.day?.date).not.toBe(resting.day?.date);
  });

  it("applies several quotes on one copy exactly as one quote after another would, leaving its input alone", () => {
    let state = createPaperAccount({}, T0);
    for (const symbol of ["MSFT", "NVDA", "TSLA"]) state = submitOrder(state, order({ symbol }), null, T0).state;
    const before = JSON.stringify(state);
    const quotes = [
      { symbol: "MSFT", quote: quote("MSFT", { bid: 410, ask: 410.5, last: 410.2 }, 2) },
      { symbol: "NVDA", quote: quote("NVDA", { bid: 120, ask: 120.1, last: 120.05 }, 2) },
      { symbol: "AMD", quote: quote("AMD", { last: 150 }, 2) },
    ];
    const together = onQuotes(state, quotes, at(2));
    let oneByOne = state;
    for (const { symbol, quote: q } of quotes) oneByOne = onQuote(oneByOne, symbol, q, at(2)).state;
    expect(together.state).toEqual(oneByOne);
    expect(together.fills.map((fill) => [fill.order.symbol, fill.fill.price])).toEqual([
      ["MSFT", 410.5],
      ["NVDA", 120.1],
    ]);
    expect(JSON.stringify(state)).toBe(before);
    // Nothing usable: the account is answered as it was, not copied.
    expect(onQuotes(state, [], at(3)).state).toBe(state);
  });
});

describe("paper trailing stops", () => {
  const trailing = (overrides: Partial<BrokerOrderIntent>) =>
    order({ side: "sell", orderType: "trailing_stop", reduceOnly: true, quantity: 10, ...overrides });

  it("Scenario: A paper trailing stop follows the best price and triggers reduce-only", () => {
    const placed = submitOrder(holding(), trailing({ trail: { percent: 2 } }), quote("AAPL", { last: 100 }), at(1));
    expect(placed.order).toMatchObject({ status: "submitted", stopPrice: 98, trail: { percent: 2 } });
    // The stop follows a new high, and never moves back when the price falls.
    let state = onQuote(placed.state, "AAPL", quote("AAPL", { last: 110 }, 2), at(2)).state;
    expect(findOrder(state, placed.order.brokerOrderId)?.stopPrice).toBe(107.8);
    state = onQuote(state, "AAPL", quote("AAPL", { last: 108 }, 3), at(3)).state;
    expect(findOrder(state, placed.order.brokerOrderId)).toMatchObject({ status: "submitted", stopPrice: 107.8 });
    const hit = onQuote(state, "AAPL", quote("AAPL", { bid: 107.5, last: 107.7 }, 4), at(4));
    expect(findOrder(hit.state, placed.order.brokerOrderId)).toMatchObject({
      status: "filled",
      filledQuantity: 10,
      averageFillPrice: 107.5,
    });
    expect(positionsOf(hit.state)).toEqual([]);
    // An amount trails by that much; a short's trailing stop buys back above the lowest price.
    const amount = submitOrder(holding(), trailing({ trail: { amount: 1.5 } }), quote("AAPL", { last: 100 }), at(1));
    expect(amount.order.stopPrice).toBe(98.5);
  });

  it("refuses a trailing stop without a trail, with a stop-loss trail on an entry, or one that could open a position", () => {
    const account = holding();
    const last = quote("AAPL", { last: 100 });
    expect(refusal(() => submitOrder(account, trailing({}), last, at(1))).reason).toBe("invalid_order");
    expect(
      refusal(() => submitOrder(account, trailing({ trail: { percent: 2 }, reduceOnly: false }), last, at(1))).reason,
    ).toBe("invalid_order");
    expect(
      refusal(() => submitOrder(account, trailing({ trail: { percent: 2 }, quantity: 11 }), last, at(1))).reason,
    ).toBe("insufficient_position");
  });
});
