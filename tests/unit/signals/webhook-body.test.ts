import { describe, expect, it } from "vitest";
import type { NormalizedSignal } from "../../../shared/signals/schema";
import { readWebhookBody, type WebhookBodyReading } from "../../../shared/signals/webhook-body";
import * as docs from "../../support/traderspost-payloads";
import { equity, signal } from "./case-builders";

const NOW = new Date("2026-11-23T15:00:00Z");

function read(body: unknown): WebhookBodyReading {
  return readWebhookBody(body, NOW);
}

function signalOf(body: unknown): NormalizedSignal {
  const reading = read(body);
  if (!reading.ok || reading.kind !== "signal") throw new Error(`expected a signal, got ${JSON.stringify(reading)}`);
  return reading.signal;
}

function managementOf(body: unknown) {
  const reading = read(body);
  if (!reading.ok || reading.kind !== "management")
    throw new Error(`expected management, got ${JSON.stringify(reading)}`);
  return reading.management;
}

function errorsOf(body: unknown) {
  const reading = read(body);
  if (reading.ok || "unrecognized" in reading) throw new Error(`expected errors, got ${JSON.stringify(reading)}`);
  return reading.errors.map(({ code, field }) => ({ code, field }));
}

describe("TradersPost JSON", () => {
  it("Scenario: The docs' signal reference example buys with a percent target and stop measured from the signal price", () => {
    expect(signalOf(docs.SIGNAL_REFERENCE_EXAMPLE)).toEqual(
      equity("buy", "AMD", {
        quantity: 1,
        // 143.12 × 1.10 = 157.432 and 143.12 × 0.95 = 135.964, kept to the signal price's two decimals.
        takeProfits: [{ price: 157.43, percent: null }],
        stopLoss: 135.96,
      }),
    );
    expect(signalOf(docs.ENTER_BULLISH)).toEqual(equity("buy", "SQ"));
    expect(signalOf(docs.LIMIT_ORDER)).toEqual(equity("buy", "SQ", { orderType: "limit", entry: { price: 50.5 } }));
    expect(signalOf(docs.QUANTITY)).toEqual(equity("buy", "SQ", { quantity: 5 }));
    expect(signalOf(docs.FIXED_QUANTITY)).toEqual(equity("buy", "SQ", { quantity: 100 }));
    expect(signalOf(docs.TAKE_PROFIT_AND_STOP_LOSS)).toEqual(
      equity("buy", "SQ", { takeProfits: [{ price: 19.99, percent: null }], stopLoss: 10.71 }),
    );
    expect(signalOf(docs.TAKE_PROFIT_ABSOLUTE).takeProfits).toEqual([{ price: 19.99, percent: null }]);
    expect(signalOf(docs.STOP_LOSS_ABSOLUTE).stopLoss).toBe(10.71);
    expect(signalOf({ ticker: "BTCUSD", action: "buy", quantity: 0.5 })).toEqual(
      signal({ action: "buy", assetClass: "crypto", symbol: "BTC/USD", quantity: 0.5 }),
    );
  });

  it("Scenario: Action and sentiment decide between opening and exiting", () => {
    const actionOf = (body: Record<string, unknown>) => {
      const { action, quantity, quantityPercent } = signalOf({ ticker: "AAPL", quantity: 4, ...body });
      return { action, quantity, quantityPercent };
    };
    expect(actionOf({ action: "buy" })).toEqual({ action: "buy", quantity: 4, quantityPercent: null });
    expect(actionOf({ action: "buy", sentiment: "bullish" })).toEqual({
      action: "buy",
      quantity: 4,
      quantityPercent: null,
    });
    expect(actionOf({ action: "buy", sentiment: "long" })).toEqual({
      action: "buy",
      quantity: 4,
      quantityPercent: null,
    });
    expect(actionOf({ action: "buy", sentiment: "short" })).toEqual({
      action: "cover",
      quantity: 4,
      quantityPercent: null,
    });
    // A flat sentiment always exits the whole position (TradersPost's rule), whatever the quantity.
    expect(actionOf({ action: "buy", sentiment: "flat" })).toEqual({
      action: "cover",
      quantity: null,
      quantityPercent: null,
    });
    expect(actionOf({ action: "sell", sentiment: "flat" })).toEqual({
      action: "sell",
      quantity: null,
      quantityPercent: null,
    });
    expect(actionOf({ action: "sell", sentiment: "long" })).toEqual({
      action: "sell",
      quantity: 4,
      quantityPercent: null,
    });
    expect(actionOf({ action: "sell", sentiment: "bearish" })).toEqual({
      action: "short",
      quantity: 4,
      quantityPercent: null,
    });
    expect(actionOf({ action: "SELL", sentiment: "Short" })).toEqual({
      action: "short",
      quantity: 4,
      quantityPercent: null,
    });
    // Without a sentiment a sell never opens a short: it sells a long.
    expect(actionOf({ action: "sell" })).toEqual({ action: "sell", quantity: 4, quantityPercent: null });
    // exit is trade management of the provider's open trade on the ticker (trade-management spec).
    expect(managementOf({ ticker: "AAPL", action: "exit" })).toEqual({
      stop: null,
      cancelEntries: true,
      closePercent: 100,
      symbol: "AAPL",
      reported: false,
    });
    expect(managementOf({ ticker: "AAPL", action: "exit", quantityType: "percent_of_position", quantity: 50 })).toEqual(
      { stop: null, cancelEntries: false, closePercent: 50, symbol: "AAPL", reported: false },
    );
    expect(errorsOf({ ticker: "AAPL", action: "exit", quantity: 4 })).toEqual([
      { code: "UNSUPPORTED_FEATURE", field: "quantity" },
    ]);
    expect(managementOf(docs.EXIT_BULLISH)).toMatchObject({ closePercent: 100, symbol: "SQ" });
    expect(signalOf(docs.EXIT_BULLISH_WITH_SENTIMENT).action).toBe("sell");
    expect(signalOf(docs.ENTER_BEARISH).action).toBe("sell");
    expect(signalOf(docs.EXIT_BEARISH_WITH_SENTIMENT).action).toBe("cover");
    expect(errorsOf(docs.SENTIMENT_WITH_EXIT)).toEqual([{ code: "AMBIGUOUS_SIDE", field: "sentiment" }]);
    expect(errorsOf({ ticker: "AAPL", action: "buy", sentiment: "sideways" })).toEqual([
      { code: "UNKNOWN_SIDE", field: "sentiment" },
    ]);
  });

  it("Scenario: TradingView's strategy template is read with its numbers as text", () => {
    const body = docs.tradingViewStrategy({
      ticker: "AAPL",
      action: "buy",
      marketPosition: "long",
      contracts: "10",
      close: "190.5",
      timenow: "2026-11-23T14:59:58Z",
    });
    const reading = read(body);
    expect(reading).toEqual({
      ok: true,
      kind: "signal",
      form: "traderspost",
      signal: equity("buy", "AAPL", { quantity: 10 }),
      sentAt: Date.parse("2026-11-23T14:59:58Z"),
    });
    // The price is a reference, not a limit: with it, a percent target can be measured.
    expect(signalOf({ ...body, takeProfit: { percent: 2 } }).takeProfits).toEqual([{ price: 194.31, percent: null }]);
    expect(signalOf(docs.TRADINGVIEW_INDICATOR_BUY)).toEqual(equity("buy", "TSLA"));
    expect(errorsOf({ ...body, quantity: "NaN" })).toEqual([{ code: "INVALID_QUANTITY", field: "quantity" }]);
  });

  it("Scenario: Option contracts in the ticker or in fields are read exactly and chain scans are refused", () => {
    const contract = {
      action: "buy",
      assetClass: "option",
      symbol: "SQ",
      option: { underlying: "SQ", expiration: "2024-05-10", strike: 68, right: "call" },
    } as const;
    expect(signalOf(docs.OPTION_CONTRACT_TICKER)).toEqual(signal(contract));
    expect(signalOf(docs.OPTION_CONTRACT_FIELDS)).toEqual(signal(contract));
    expect(signalOf({ ticker: "SPY 250624P596.5", action: "buy", quantity: 2 }).option).toEqual({
      underlying: "SPY",
      expiration: "2025-06-24",
      strike: 596.5,
      right: "put",
    });
    expect(errorsOf(docs.OPTION_CHAIN_SCAN)).toEqual([{ code: "UNSUPPORTED_FEATURE", field: "strikesAway" }]);
    expect(errorsOf({ ...docs.OPTION_CONTRACT_FIELDS, expiration: "+6 months" })).toEqual([
      { code: "INVALID_DATE", field: "expiration" },
    ]);
    expect(errorsOf({ ...docs.OPTION_CONTRACT_FIELDS, optionType: "both" })).toEqual([
      { code: "AMBIGUOUS_OPTION", field: "optionType" },
    ]);
    expect(errorsOf({ ticker: "SQ 240231C68", action: "buy" })).toEqual([{ code: "INVALID_DATE", field: "ticker" }]);
    expect(errorsOf({ ticker: "SQ", action: "buy", optionType: "call", expiration: "2024-05-10" })).toEqual([
      { code: "OPTION_MISSING_STRIKE", field: "strikePrice" },
    ]);
    expect(
      errorsOf({
        ticker: "SQ",
        action: "buy",
        quantity: 1.5,
        optionType: "put",
        expiration: "2024-05-10",
        strikePrice: 68,
      }),
    ).toEqual([{ code: "INVALID_QUANTITY", field: "quantity" }]);
  });

  it("Scenario: A TradersPost trailing stop loss is the signal's trailing stop", () => {
    expect(signalOf(docs.TRAILING_STOP_LOSS)).toEqual(
      equity("buy", "SQ", { entry: { price: 71 }, trailingStop: { amount: 1 } }),
    );
    expect(signalOf(docs.STOP_LOSS_TRAIL_PERCENT)).toEqual(equity("buy", "SQ", { trailingStop: { percent: 1 } }));
    const buy = { ticker: "AAPL", action: "buy", price: 190 };
    const trailing = (stopLoss: Record<string, unknown>) => ({ ...buy, stopLoss });
    const twoPercent = signalOf(trailing({ type: "trailing_stop", trailPercent: 2 }));
    expect(twoPercent).toEqual(equity("buy", "AAPL", { trailingStop: { percent: 2 } }));
    expect(twoPercent.stopLoss).toBeNull();
    expect(signalOf(trailing({ type: "trailing_stop", trailAmount: "1.50" })).trailingStop).toEqual({ amount: 1.5 });

    expect(errorsOf(trailing({ type: "trailing_stop", trailPercent: 2, stopPrice: 180 }))).toEqual([
      { code: "AMBIGUOUS_STOP", field: "stopLoss.stopPrice" },
    ]);
    expect(errorsOf(trailing({ type: "trailing_stop", trailPercent: 100 }))).toEqual([
      { code: "INVALID_PERCENT", field: "stopLoss.trailPercent" },
    ]);
    expect(errorsOf(trailing({ type: "trailing_stop" }))).toEqual([{ code: "INVALID_PRICE", field: "stopLoss" }]);
    expect(errorsOf({ ...trailing({ type: "trailing_stop", trailPercent: 2 }), action: "sell" })).toEqual([
      { code: "AMBIGUOUS_SIDE", field: "action" },
    ]);
    expect(errorsOf(trailing({ type: "stop", trailPercent: 2 }))).toEqual([
      { code: "INVALID_FIELD", field: "stopLoss.type" },
    ]);
  });

  it("Scenario: TradersPost features this platform does not trade are refused with a reason", () => {
    // cancel is trade management now: the provider's unfilled entries on the ticker.
    expect(managementOf(docs.CANCEL_OPEN_ORDERS)).toMatchObject({
      cancelEntries: true,
      closePercent: null,
      symbol: "SQ",
    });
    expect(errorsOf(docs.ADD_TO_POSITION)).toEqual([{ code: "UNSUPPORTED_ACTION", field: "action" }]);
    expect(errorsOf(docs.TRAILING_STOP_EXIT)).toEqual([
      { code: "UNSUPPORTED_FEATURE", field: "orderType" },
      { code: "UNSUPPORTED_FEATURE", field: "trailAmount" },
    ]);
    expect(errorsOf(docs.STOP_LOSS_STOP_LIMIT)).toEqual([{ code: "UNSUPPORTED_FEATURE", field: "stopLoss.type" }]);
    expect(errorsOf(docs.DOLLAR_AMOUNT)).toEqual([{ code: "UNSUPPORTED_FEATURE", field: "quantityType" }]);
    expect(errorsOf(docs.RISK_DOLLAR_AMOUNT)).toEqual([{ code: "UNSUPPORTED_FEATURE", field: "quantityType" }]);
    expect(errorsOf(docs.SIGNAL_PRICE_FUTURES)).toEqual([{ code: "UNKNOWN_SYMBOL", field: "ticker" }]);
    expect(errorsOf({ ticker: "MNQU2025", action: "buy" })).toEqual([{ code: "UNKNOWN_SYMBOL", field: "ticker" }]);
    expect(errorsOf({ ticker: "NQ1!", action: "buy" })).toEqual([{ code: "UNKNOWN_SYMBOL", field: "ticker" }]);
    expect(errorsOf({ ...docs.LIMIT_ORDER, timeInForce: "gtd" })).toEqual([
      { code: "UNSUPPORTED_FEATURE", field: "timeInForce" },
    ]);
    expect(signalOf({ ...docs.LIMIT_ORDER, timeInForce: "gtc" }).timeInForce).toBe("gtc");
    expect(errorsOf({ ...docs.LIMIT_ORDER, extendedHours: true })).toEqual([
      { code: "UNSUPPORTED_FEATURE", field: "extendedHours" },
    ]);
    expect(signalOf({ ...docs.LIMIT_ORDER, extendedHours: false }).orderType).toBe("limit");
    expect(errorsOf(docs.EMPTY_TICKER)).toEqual([{ code: "UNKNOWN_SYMBOL", field: "ticker" }]);
  });

  it("Scenario: Relative targets and stops need a price to measure from", () => {
    expect(errorsOf(docs.TAKE_PROFIT_PERCENT)).toEqual([{ code: "MISSING_PRICE", field: "takeProfit.percent" }]);
    expect(errorsOf(docs.TAKE_PROFIT_AMOUNT)).toEqual([{ code: "MISSING_PRICE", field: "takeProfit.amount" }]);
    expect(errorsOf(docs.STOP_LOSS_PERCENT)).toEqual([{ code: "MISSING_PRICE", field: "stopLoss.percent" }]);
    expect(signalOf({ ...docs.TAKE_PROFIT_AMOUNT, price: 100 }).takeProfits).toEqual([{ price: 110, percent: null }]);
    // A short's target is below and its stop above the price it is measured from.
    expect(
      signalOf({
        ticker: "ETHUSDT",
        action: "sell",
        sentiment: "short",
        orderType: "limit",
        limitPrice: "3400",
        takeProfit: { percent: 5 },
        stopLoss: { amount: 150 },
      }),
    ).toEqual(
      signal({
        action: "short",
        assetClass: "crypto",
        symbol: "ETH/USDT",
        orderType: "limit",
        entry: { price: 3400 },
        takeProfits: [{ price: 3230, percent: null }],
        stopLoss: 3550,
      }),
    );
    // A stop-limit triggers and limits at one price here.
    expect(signalOf({ ticker: "SQ", action: "buy", orderType: "stop_limit", stopPrice: 60, limitPrice: 60 })).toEqual(
      equity("buy", "SQ", { orderType: "stop_limit", entry: { price: 60 } }),
    );
    expect(errorsOf({ ticker: "SQ", action: "buy", orderType: "stop_limit", stopPrice: 60, limitPrice: 60.5 })).toEqual(
      [{ code: "UNSUPPORTED_FEATURE", field: "limitPrice" }],
    );
    expect(errorsOf({ ...docs.LIMIT_ORDER, stopLoss: { stopPrice: 51 } })).toEqual([
      { code: "STOP_WRONG_SIDE", field: "stopLoss" },
    ]);
    expect(errorsOf({ ...docs.EXIT_BULLISH, stopLoss: { stopPrice: 51 } })).toEqual([
      { code: "AMBIGUOUS_SIDE", field: "action" },
    ]);
    expect(errorsOf({ ...docs.ENTER_BULLISH, takeProfit: { percent: 5, limitPrice: 60 } })).toEqual([
      { code: "INVALID_PRICE", field: "takeProfit" },
    ]);
  });

  it("Scenario: An unknown TradersPost action is refused", () => {
    expect(errorsOf(docs.INVALID_ACTION)).toEqual([
      { code: "UNKNOWN_SIDE", field: "action" },
      { code: "UNKNOWN_SYMBOL", field: "ticker" },
    ]);
    expect(errorsOf({ ticker: "AAPL" })).toEqual([{ code: "UNKNOWN_SIDE", field: "action" }]);
    expect(errorsOf({ ticker: "AAPL", action: 1 })).toEqual([{ code: "UNKNOWN_SIDE", field: "action" }]);
  });
});

describe("webhook body forms", () => {
  it("Scenario: A text body is management only when it is not a whole signal", () => {
    expect(managementOf({ text: "move stop to 185 AAPL" })).toEqual({
      stop: { price: 185 },
      cancelEntries: false,
      closePercent: null,
      symbol: "AAPL",
      reported: false,
    });
    expect(managementOf({ text: "TP1 hit, move SL to breakeven $AAPL" })).toMatchObject({ stop: { breakeven: true } });
    expect(managementOf({ text: "cancel", time: "2026-11-23T14:59:59Z" })).toMatchObject({ cancelEntries: true });
    // A whole exit signal stays one, as in a channel message that is not a reply.
    expect(signalOf({ text: "close all AAPL" }).action).toBe("close");
    expect(errorsOf({ text: "move stop to 185 AAPL and 190 TSLA" })[0]?.code).toBe("MANAGEMENT_MESSAGE");
  });

  it("Scenario: A normalized signal body and a text body are read like TradersPost JSON", () => {
    const aapl = equity("buy", "AAPL", { quantity: 10 });
    expect(read({ signal: aapl })).toEqual({ ok: true, kind: "signal", form: "signal", signal: aapl, sentAt: null });
    expect(read({ text: "BUY AAPL 10 shares", time: Date.parse("2026-11-23T14:59:59Z") })).toEqual({
      ok: true,
      kind: "signal",
      form: "text",
      signal: aapl,
      sentAt: Date.parse("2026-11-23T14:59:59Z"),
    });
    // Epoch seconds, and an offset instead of Z.
    expect(read({ text: "BUY AAPL 10 shares", time: 1_795_000_000 })).toMatchObject({ sentAt: 1_795_000_000_000 });
    expect(read({ text: "BUY AAPL 10 shares", time: "2026-11-23T09:59:59-05:00" })).toMatchObject({
      sentAt: Date.parse("2026-11-23T14:59:59Z"),
    });
    const text = read({ text: "gm everyone" });
    expect(text).toMatchObject({ ok: false, form: "text" });
    expect(errorsOf({ text: "BUY AAPL 10 shares", time: "yesterday" })).toEqual([
      { code: "INVALID_DATE", field: "time" },
    ]);
    expect(errorsOf({ signal: { ...aapl, action: "hold" } })).toEqual([
      { code: "INVALID_FIELD", field: "signal.action" },
    ]);
    expect(errorsOf({ signal: { ...aapl, stopLoss: 200, orderType: "limit", entry: { price: 190 } } })).toEqual([
      { code: "STOP_WRONG_SIDE", field: "signal.stopLoss" },
    ]);
    // A trailing stop travels in a normalized body too, and a text body reads one the same way.
    const trailing = { ...aapl, trailingStop: { percent: 2 } };
    expect(read({ signal: trailing })).toMatchObject({ ok: true, signal: trailing });
    expect(read({ text: "BUY AAPL 10 shares TS 2%" })).toMatchObject({ ok: true, signal: trailing });
    expect(errorsOf({ signal: { ...trailing, stopLoss: 180 } })).toEqual([
      { code: "AMBIGUOUS_STOP", field: "signal.trailingStop" },
    ]);
  });

  it("Scenario: A body that is none of the three forms is unrecognized", () => {
    for (const body of [
      [],
      null,
      42,
      "BUY AAPL",
      {},
      { text: "BUY AAPL", signal: {} },
      { text: "BUY AAPL", extra: 1 },
    ]) {
      const reading = read(body);
      expect(reading.ok).toBe(false);
      expect("unrecognized" in reading).toBe(true);
    }
  });
});
