import { describe, expect, it } from "vitest";
import { MAX_SIGNAL_TEXT_LENGTH } from "../../../shared/signals/errors";
import { formatSignal } from "../../../shared/signals/format";
import { readManagement } from "../../../shared/signals/management";
import { parseSignal } from "../../../shared/signals/parser";
import { type NormalizedSignal, NormalizedSignalSchema } from "../../../shared/signals/schema";
import { ALL_CASES, signal } from "./cases";
import { errorsOf, parse, signalOf } from "./read";

describe("signal language", () => {
  it("Scenario: Every parsed signal satisfies the normalized schema", () => {
    let parsed = 0;
    for (const { text } of ALL_CASES) {
      const result = parse(text);
      if (!result.ok) continue;
      parsed++;
      expect(NormalizedSignalSchema.safeParse(result.signal).success).toBe(true);
    }
    expect(parsed).toBeGreaterThan(100);
  });

  it("Scenario: A decorated stock signal is read", () => {
    expect(signalOf("🚀 **BUY $NVDA** @ 1,250.50 SL 1,200 TP 1,300 🚀")).toEqual(
      signal({
        action: "buy",
        assetClass: "equity",
        symbol: "NVDA",
        entry: { price: 1250.5 },
        stopLoss: 1200,
        takeProfits: [{ price: 1300, percent: null }],
      }),
    );
  });

  it("Scenario: An option contract is read and a date without a year is its next occurrence", () => {
    expect(signalOf("BTO 2x QQQ 12/11 500c @1.20")).toEqual(
      signal({
        action: "buy",
        assetClass: "option",
        symbol: "QQQ",
        option: { underlying: "QQQ", expiration: "2026-12-11", strike: 500, right: "call" },
        quantity: 2,
        entry: { price: 1.2 },
      }),
    );
    expect(signalOf("BTO AAPL 11/22 190C").option?.expiration).toBe("2027-11-22");
    expect(signalOf("BTO AAPL 11/23 190C").option?.expiration).toBe("2026-11-23");
    // Late evening in New York is still the 23rd there, though already the 24th in UTC.
    const lateEvening = parseSignal("BTO AAPL 11/23 190C", { now: new Date("2026-11-24T03:30:00Z") });
    expect(lateEvening.ok && lateEvening.signal.option?.expiration).toBe("2026-11-23");
  });

  it("Scenario: A multi-line crypto layout is read", () => {
    const text = [
      "📈 #BTC/USDT",
      "Direction: LONG",
      "Entry Zone: 64000 - 64500",
      "Leverage: Cross 10x",
      "Targets:",
      "1) 66000",
      "2) 68000",
      "Stop-Loss: 62000",
    ].join("\n");
    expect(signalOf(text)).toEqual(
      signal({
        action: "buy",
        assetClass: "crypto",
        symbol: "BTC/USDT",
        entry: { low: 64000, high: 64500 },
        leverage: 10,
        takeProfits: [
          { price: 66000, percent: null },
          { price: 68000, percent: null },
        ],
        stopLoss: 62000,
      }),
    );
  });

  it("Scenario: BTC before an option contract means buy to close", () => {
    const cover = signalOf("BTC SPY 12/19 430P @ 0.50");
    expect(cover).toMatchObject({ action: "cover", assetClass: "option", symbol: "SPY" });
    expect(cover.option).toEqual({ underlying: "SPY", expiration: "2026-12-19", strike: 430, right: "put" });
    expect(signalOf("BTC long 65k sl 63.5k tp 70k")).toMatchObject({
      action: "buy",
      assetClass: "crypto",
      symbol: "BTC/USD",
      entry: { price: 65000 },
    });
  });

  it("Scenario: Trim with a percent closes part of the position", () => {
    expect(signalOf("Trim 50% NVDA")).toEqual(
      signal({ action: "close", assetClass: "equity", symbol: "NVDA", quantityPercent: 50 }),
    );
    expect(signalOf("Close AAPL")).toEqual(signal({ action: "close", assetClass: "equity", symbol: "AAPL" }));
    expect(errorsOf("Trim NVDA")).toEqual([{ code: "MISSING_QUANTITY", at: "Trim" }]);
  });

  it("Scenario: A price makes a limit order unless market is written", () => {
    expect(signalOf("BUY AAPL 10 @ 190")).toMatchObject({ orderType: "limit", entry: { price: 190 }, quantity: 10 });
    expect(signalOf("BUY AAPL 10 @ 190 market")).toMatchObject({ orderType: "market", entry: null, quantity: 10 });
    expect(signalOf("BUY 10 AAPL")).toMatchObject({ orderType: "market", entry: null });
    // The written price still guards the stop of a market order.
    expect(errorsOf("BUY AAPL @ 190 MKT SL 195").map((e) => e.code)).toEqual(["STOP_WRONG_SIDE"]);
  });

  it("Scenario: An unlabeled number is read from its context", () => {
    expect(signalOf("SHORT ETHUSDT 3400 sl 3550")).toMatchObject({ entry: { price: 3400 }, quantity: null });
    expect(signalOf("BUY AAPL 10 SL 185")).toMatchObject({ entry: null, quantity: 10, orderType: "market" });
    expect(signalOf("BUY AAPL 10 @ 190")).toMatchObject({ quantity: 10 });
    expect(errorsOf("BUY AAPL 190")).toEqual([{ code: "AMBIGUOUS_NUMBER", at: "190" }]);
  });

  it("Scenario: Chat is refused as not a signal", () => {
    const text = "I think the market looks bullish today";
    expect(parse(text)).toEqual({
      ok: false,
      errors: [expect.objectContaining({ code: "NOT_A_SIGNAL", start: 0, end: text.length })],
    });
  });

  it("Scenario: A stop on the wrong side is refused at the stop", () => {
    expect(errorsOf("BUY AAPL @ 190 SL 195")).toEqual([{ code: "STOP_WRONG_SIDE", at: "195" }]);
    expect(errorsOf("SHORT TSLA 250-252 SL 251")).toEqual([{ code: "STOP_WRONG_SIDE", at: "251" }]);
  });

  it("Scenario: An incomplete option contract names each missing part", () => {
    expect(
      errorsOf("BTO AAPL 12/20 @ 2.50")
        .map((e) => e.code)
        .sort(),
    ).toEqual(["OPTION_MISSING_RIGHT", "OPTION_MISSING_STRIKE"]);
    expect(errorsOf("BTO AAPL 190C @ 2.50").map((e) => e.code)).toEqual(["OPTION_MISSING_EXPIRATION"]);
  });

  it("Scenario: Every problem is reported at once", () => {
    expect(errorsOf("BUY 0 AAPL @ 190 SL 195 TP 180")).toEqual([
      { code: "INVALID_QUANTITY", at: "0" },
      { code: "STOP_WRONG_SIDE", at: "195" },
      { code: "TARGET_WRONG_SIDE", at: "180" },
    ]);
  });

  it("Scenario: Overlong text is refused before parsing", () => {
    const text = `BUY AAPL 10 @ 190 ${"x".repeat(MAX_SIGNAL_TEXT_LENGTH)}`;
    expect(parse(text)).toEqual({
      ok: false,
      errors: [expect.objectContaining({ code: "TOO_LONG", start: MAX_SIGNAL_TEXT_LENGTH, end: text.length })],
    });
    const atTheLimit = parse(`BUY AAPL 10 @ 190 ${" ".repeat(MAX_SIGNAL_TEXT_LENGTH - 18)}`);
    expect(atTheLimit.ok).toBe(true);
  });

  it("Scenario: A list of complete signals is refused as a whole", () => {
    for (const [text, named] of [
      ["1) BUY AAPL 10 @ 190 SL 185\n2) SELL TSLA 5 @ 250", "AAPL, TSLA"],
      ["Today's plays:\n1. BTO AAPL 12/20 190C @ 2.50\n2. BTO MSFT 12/20 400P @ 3", "AAPL, MSFT"],
      ["LONG BTC/USDT entry 64000 SL 62000\nLONG ETH/USDT entry 3000 SL 2900", "BTC/USDT, ETH/USDT"],
    ] as const) {
      const result = parse(text);
      expect(result.ok, text).toBe(false);
      if (result.ok) continue;
      expect(result.errors.map((error) => error.code)).toEqual(["SEVERAL_SIGNALS"]);
      expect(result.errors[0]?.message).toContain(`2 signals (${named})`);
    }
    // One signal written as a list stays one signal; items on one instrument keep their own errors.
    expect(parse("1. BUY AAPL\n2. TP 160").ok).toBe(true);
    expect(errorsOf("BUY AAPL @ 190 SL 185\nSELL AAPL @ 200").map((error) => error.code)).not.toContain(
      "SEVERAL_SIGNALS",
    );
  });
});

describe("trailing stops inside an entry", () => {
  const limitAt = (price: number, trailingStop: NonNullable<NormalizedSignal["trailingStop"]>, symbol = "AAPL") =>
    signal({ action: "buy", assetClass: "equity", symbol, entry: { price }, trailingStop });

  it("Scenario: A normalized signal without a trailing stop stays valid", () => {
    const before = signalOf("BUY AAPL @ 190 SL 185");
    expect("trailingStop" in before).toBe(false);
    const valid = (value: unknown) => NormalizedSignalSchema.safeParse(value).success;
    expect(valid(before)).toBe(true);
    expect(valid({ ...before, stopLoss: null, trailingStop: null })).toBe(true);
    expect(valid({ ...before, stopLoss: null, trailingStop: { percent: 2 } })).toBe(true);
    expect(valid({ ...before, stopLoss: null, trailingStop: { amount: 1.5 } })).toBe(true);
    const both = NormalizedSignalSchema.safeParse({ ...before, trailingStop: { percent: 2 } });
    expect(both.success).toBe(false);
    expect(JSON.stringify(both.error?.issues)).toContain("AMBIGUOUS_STOP");
    expect(valid({ ...before, stopLoss: null, trailingStop: { percent: 100 } })).toBe(false);
    expect(valid({ ...before, stopLoss: null, trailingStop: { percent: 2, amount: 1 } })).toBe(false);
  });

  it("Scenario: A trailing stop inside an entry is read", () => {
    expect(signalOf("BUY AAPL 190 TS 2%")).toEqual(limitAt(190, { percent: 2 }));
    expect(signalOf("BUY AAPL @ 190 TSL 1.50")).toEqual(limitAt(190, { amount: 1.5 }));
    expect(signalOf("BUY AAPL 190 trailing stop 2%")).toEqual(limitAt(190, { percent: 2 }));
    expect(signalOf("BUY AAPL 190 trailing SL: 2%")).toEqual(limitAt(190, { percent: 2 }));
    expect(signalOf("BUY AAPL 190 trail 2%")).toEqual(limitAt(190, { percent: 2 }));
    expect(signalOf("BUY TS 10 @ 20 TS 2%")).toEqual({ ...limitAt(20, { percent: 2 }, "TS"), quantity: 10 });
    expect(signalOf("BUY TS @ 20")).toEqual(
      signal({ action: "buy", assetClass: "equity", symbol: "TS", entry: { price: 20 } }),
    );
    expect(errorsOf("trail stop 2%").map((e) => e.code)).toEqual(["MANAGEMENT_MESSAGE"]);
    expect(readManagement("trail stop 2%")).toMatchObject({
      kind: "management",
      management: { trail: { percent: 2 } },
    });
  });

  it("Scenario: A stop with a trailing stop is refused at both", () => {
    const [both] = errorsOf("BUY AAPL 190 SL 185 TS 2%");
    expect(both).toEqual({ code: "AMBIGUOUS_STOP", at: "185 TS 2%" });
    const result = parse("BUY AAPL 190 SL 185 TS 2%");
    expect(!result.ok && result.errors[0]?.message).toMatch(/fixed stop-loss or a trailing stop, not both/);
    expect(errorsOf("BUY AAPL 190 TS 2% TSL 3%")).toEqual([{ code: "AMBIGUOUS_STOP", at: "TS 2% TSL 3%" }]);
  });

  it("Scenario: A trailing stop as wide as a long entry is refused", () => {
    expect(errorsOf("BUY AAPL 190 TSL 200")).toEqual([{ code: "INVALID_PRICE", at: "TSL 200" }]);
    expect(errorsOf("BUY AAPL 190 TSL 190")).toEqual([{ code: "INVALID_PRICE", at: "TSL 190" }]);
    const result = parse("BUY AAPL 190 TSL 200");
    expect(!result.ok && result.errors[0]?.message).toMatch(/would start at or below zero/);
    expect(signalOf("BUY AAPL 190 TSL 189.5")).toEqual(limitAt(190, { amount: 189.5 }));
    expect(signalOf("SHORT AAPL 190 TSL 200")).toMatchObject({ action: "short", trailingStop: { amount: 200 } });
  });

  it("formats a trailing stop so that it reads back", () => {
    for (const text of ["BUY AAPL 190 TS 2%", "SHORT TSLA @ 250 TSL 1.50", "BUY 10 AAPL MKT trail 3%"]) {
      const parsed = signalOf(text);
      expect(parse(formatSignal(parsed))).toEqual({ ok: true, signal: parsed });
    }
    expect(formatSignal(signalOf("BUY AAPL 190 TS 2%"))).toBe("BUY $AAPL @ 190 TS 2%");
  });
});
