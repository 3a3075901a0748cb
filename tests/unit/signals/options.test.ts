import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDecimal } from "../../../shared/signals/numbers";
import { type SignalOptions, signalFromOptions } from "../../../shared/signals/options";
import { parseSignal } from "../../../shared/signals/parser";
import type { NormalizedSignal } from "../../../shared/signals/schema";
import { equityTickerReadsAsCrypto } from "../../../shared/signals/symbols";
import { validSignalArb } from "./arbitraries";
import { NOW } from "./cases";

const fromOptions = (options: SignalOptions) => signalFromOptions(options, { now: NOW });
const fromText = (text: string) => {
  const result = parseSignal(text, { now: NOW });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.signal;
};

describe("signalFromOptions", () => {
  it("Scenario: A structured /signal reads like the same text", () => {
    const structured = fromOptions({ action: "buy", symbol: "TSLA", entry: "250-252", stop: 245, targets: "260, 270" });
    expect(structured.ok && structured.signal).toEqual(fromText("$TSLA long 250-252 stop 245 targets 260, 270"));
    const wrongStop = fromOptions({ action: "buy", symbol: "TSLA", entry: "250-252", stop: 255 });
    expect(wrongStop).toEqual({
      ok: false,
      errors: [expect.objectContaining({ code: "STOP_WRONG_SIDE", field: "stop" })],
    });
  });

  it("reads option contracts, crypto pairs, percents and market entries", () => {
    const option = fromOptions({ action: "buy", symbol: "QQQ 12/11 500c", quantity: 2, entry: 1.2 });
    expect(option.ok && option.signal).toEqual(fromText("BTO 2x QQQ 12/11 500c @1.20"));
    expect(option.ok && option.text).toBe("BUY $QQQ 12/11 500c QTY 2 @ 1.2");

    const crypto = fromOptions({
      action: "long",
      symbol: "BTC/USDT",
      entry: "64000-64500",
      stop: "62000",
      targets: "66000,68000",
    });
    expect(crypto.ok && crypto.signal).toEqual(
      fromText("LONG BTC/USDT entry 64000-64500 SL 62000 TP1 66000 TP2 68000"),
    );

    const trim = fromOptions({ action: "close", symbol: "nvda", quantity: "50%" });
    expect(trim.ok && trim.signal).toEqual(fromText("Trim 50% NVDA"));

    const market = fromOptions({ action: "sell", symbol: "$AAPL", quantity: 10, entry: "market" });
    expect(market.ok && market.signal).toEqual(fromText("SELL 10 AAPL MKT"));
  });

  it("names the option at fault", () => {
    const cases: [SignalOptions, string, string | null][] = [
      [{ action: "hold", symbol: "AAPL" }, "UNKNOWN_SIDE", "action"],
      [{ action: "buy", symbol: "AAPL SL 100" }, "UNKNOWN_SYMBOL", "symbol"],
      [{ action: "buy", symbol: "" }, "UNKNOWN_SYMBOL", "symbol"],
      [{ action: "buy", symbol: "AAPL", quantity: -5 }, "INVALID_QUANTITY", "quantity"],
      [{ action: "buy", symbol: "AAPL", quantity: "ten" }, "INVALID_QUANTITY", "quantity"],
      [{ action: "buy", symbol: "AAPL", entry: "soon" }, "INVALID_PRICE", "entry"],
      [{ action: "buy", symbol: "AAPL", entry: 190, targets: "195, 180" }, "TARGET_WRONG_SIDE", "targets"],
      [{ action: "buy", symbol: "AAPL", stop: "low" }, "INVALID_PRICE", "stop"],
      // the missing strike is located at the contract written in the symbol option ("12/20")
      [{ action: "buy", symbol: "AAPL 12/20" }, "OPTION_MISSING_STRIKE", "symbol"],
    ];
    for (const [options, code, field] of cases) {
      const result = fromOptions(options);
      expect(result.ok, JSON.stringify(options)).toBe(false);
      if (!result.ok) expect(result.errors).toContainEqual(expect.objectContaining({ code, field }));
    }
  });

  it("gives back any signal whose parts the options can express", () => {
    const expressible = (s: NormalizedSignal) =>
      (s.orderType === "market" || s.orderType === "limit") &&
      s.leverage === null &&
      s.trailingStop == null &&
      s.timeInForce === null &&
      s.takeProfits.every((t) => t.percent === null) &&
      !(s.assetClass === "equity" && equityTickerReadsAsCrypto(s.symbol));
    fc.assert(
      fc.property(validSignalArb.filter(expressible), (s) => {
        const entry =
          s.entry === null
            ? "market"
            : "price" in s.entry
              ? s.entry.price
              : `${formatDecimal(s.entry.low)}-${formatDecimal(s.entry.high)}`;
        const contract = s.option
          ? ` ${s.option.expiration} ${formatDecimal(s.option.strike)}${s.option.right === "call" ? "C" : "P"}`
          : "";
        const result = signalFromOptions({
          action: s.action,
          symbol: `${s.symbol}${contract}`,
          quantity: s.quantityPercent !== null ? `${formatDecimal(s.quantityPercent)}%` : s.quantity,
          entry,
          stop: s.stopLoss,
          targets: s.takeProfits.map((t) => formatDecimal(t.price)).join(", ") || null,
        });
        expect(result.ok && result.signal).toEqual(s);
      }),
      { numRuns: 500 },
    );
  });
});
