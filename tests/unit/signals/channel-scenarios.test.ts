import { describe, expect, it } from "vitest";
import { crypto, equity, option, tp } from "./case-builders";
import { errorsOf, parse, signalOf } from "./read";

const lines = (...parts: string[]) => parts.join("\n");
const codes = (text: string) => errorsOf(text).map((e) => e.code);

describe("signal language: real channel layouts", () => {
  it("Scenario: Numbered targets and stops are read by their labels", () => {
    expect(
      signalOf(lines("SHORT BTC/USDT", "Entry: 65000", "Target 1: 64000", "Target 2: 63000", "SL: 66000")),
    ).toEqual(crypto("short", "BTC/USDT", { entry: { price: 65000 }, stopLoss: 66000, takeProfits: tp(64000, 63000) }));
    expect(signalOf(lines("LONG ETH/USDT", "Entry: 3000", "Stop Loss 1: 2900", "Target: 3300"))).toEqual(
      crypto("buy", "ETH/USDT", { entry: { price: 3000 }, stopLoss: 2900, takeProfits: tp(3300) }),
    );
    const short = (targets: string) => signalOf(`SHORT BTC/USDT @ 65000 SL 66000 ${targets}`).takeProfits;
    expect(short("TP #1 64000")).toEqual(tp(64000));
    expect(short("target 1 at 64000")).toEqual(tp(64000));
    expect(short("Targets: (1) 64000")).toEqual(tp(64000));
    expect(signalOf("🔴 SHORT #SOLUSDT\nEntry 150\n🎯 Target 1 - 145\n🛑 SL 155").takeProfits).toEqual(tp(145));
    expect(errorsOf("LONG XRP/USDT entry 0.9 SL 0.8 Target 1 - 1.2")).toEqual([{ code: "AMBIGUOUS_NUMBER", at: "1" }]);
  });

  it("Scenario: An exit never carries a stop or targets", () => {
    expect(errorsOf(lines("SELL BTC/USDT", "Entry: 65000", "SL: 66000", "TP: 64000"))).toEqual([
      { code: "AMBIGUOUS_SIDE", at: "SELL" },
    ]);
    expect(errorsOf("SELL AAPL @ 185 SL 190 TP 180")).toEqual([{ code: "AMBIGUOUS_SIDE", at: "SELL" }]);
    expect(signalOf("SELL BTC/USDT 65000 SL 66000 TP 64000 leverage 10x")).toEqual(
      crypto("short", "BTC/USDT", { entry: { price: 65000 }, stopLoss: 66000, takeProfits: tp(64000), leverage: 10 }),
    );
    expect(signalOf("SELL BTCUSDT.P @ 65000 SL 66000 TP 64000")).toMatchObject({ action: "short", leverage: null });
    expect(signalOf("SELL BTCUSDT.P")).toEqual(crypto("sell", "BTC/USDT"));
  });

  it("Scenario: Breakout words make a stop order", () => {
    const stopAt = (price: number) => ({ orderType: "stop", entry: { price } });
    expect(signalOf("BUY AAPL above 190 SL 185")).toMatchObject(stopAt(190));
    expect(signalOf("BUY AAPL on break of 190 SL 185")).toMatchObject(stopAt(190));
    expect(signalOf("Buy AAPL if it breaks 190, stop 185")).toMatchObject({ ...stopAt(190), stopLoss: 185 });
    expect(signalOf("SHORT TSLA below 240 SL 250")).toMatchObject({ action: "short", ...stopAt(240) });
    expect(signalOf("SELL AAPL @ 185 stop")).toEqual(
      equity("sell", "AAPL", { orderType: "stop", entry: { price: 185 } }),
    );
    expect(signalOf("BUY AAPL below 185")).toMatchObject({ orderType: "limit", entry: { price: 185 } });
    expect(errorsOf("Close AAPL above 200")).toEqual([{ code: "AMBIGUOUS_ORDER_TYPE", at: "above" }]);
  });

  it("Scenario: Negations, trade management and result reports are refused", () => {
    const refusals: [string, string, string][] = [
      ["Don't short TSLA here", "NEGATED_SIGNAL", "Don't short"],
      ["No longer long AAPL", "NEGATED_SIGNAL", "No longer long"],
      ["Cancel the AAPL buy order", "MANAGEMENT_MESSAGE", "Cancel"],
      ["TSLA short stopped out at 260", "RESULT_REPORT", "stopped"],
      ["Update: AAPL long, new stop 188", "MANAGEMENT_MESSAGE", "Update"],
      ["Profit: 69%", "RESULT_REPORT", "Profit"],
      ["#BTC/USDT Entry 1 ✅", "RESULT_REPORT", "✅"],
      ["TP2 reached 🎯 ETH/USDT", "RESULT_REPORT", "reached"],
    ];
    for (const [text, code, at] of refusals) expect(errorsOf(text)).toEqual([{ code, at }]);
    // an instruction outranks the report in the same message
    expect(codes("AAPL TP1 hit, move SL to breakeven")).toEqual(["MANAGEMENT_MESSAGE"]);
  });

  it("Scenario: Advice for later and commentary are not read", () => {
    const buy = equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185 });
    expect(signalOf("BUY AAPL @ 190 SL 185 TP 195 — move SL to breakeven after TP1")).toEqual({
      ...buy,
      takeProfits: tp(195),
    });
    expect(signalOf("BUY AAPL @ 190 SL 185, cancel if not filled today")).toEqual(buy);
    expect(signalOf("BUY AAPL @ 190 SL 185 (swing, 2-3 weeks)")).toEqual(buy);
    expect(signalOf("BUY AAPL @ 190 SL 185 (not financial advice)")).toEqual(buy);
    // a parenthesis that negates the side is read, and refused
    expect(codes("BUY AAPL @ 190 SL 185 (not yet)")).toEqual(["NEGATED_SIGNAL"]);
  });

  it("Scenario: Copy-trading layouts are read", () => {
    const layout = lines(
      "#LINK/USDT",
      "Long",
      "Entry Zone: 5.50 - 5.60",
      "Target 1: 5.937 - 30%",
      "Target 2: 6.20 - 30%",
      "Target 3: 6.50 - 40%",
      "Stop Loss: 5.10",
      "Leverage: Cross 40x",
    );
    expect(signalOf(layout)).toEqual(
      crypto("buy", "LINK/USDT", {
        entry: { low: 5.5, high: 5.6 },
        takeProfits: tp([5.937, 30], [6.2, 30], [6.5, 40]),
        stopLoss: 5.1,
        leverage: 40,
      }),
    );
    expect(signalOf("LONG BTC/USDT\nENTRY: 32000 - 30000 - 28000\nSTOP LOSS: 26000").entry).toEqual({
      low: 28000,
      high: 32000,
    });
    expect(signalOf("#BTCUSDT\nLONG\nEntry: 64000\nStop Targets:\n1) 61000").stopLoss).toBe(61000);
  });

  it("Scenario: BTO, STO, BTC and STC without a contract trade shares", () => {
    expect(signalOf("BTO AAPL 10 @ 190 SL 185")).toEqual(
      equity("buy", "AAPL", { quantity: 10, entry: { price: 190 }, stopLoss: 185 }),
    );
    expect(signalOf("STO TSLA 5 @ 250 SL 260")).toEqual(
      equity("short", "TSLA", { quantity: 5, entry: { price: 250 }, stopLoss: 260 }),
    );
    expect(signalOf("STC AAPL 10 @ 195")).toEqual(equity("sell", "AAPL", { quantity: 10, entry: { price: 195 } }));
    expect(signalOf("BTC AAPL 10 @ 180")).toEqual(equity("cover", "AAPL", { quantity: 10, entry: { price: 180 } }));
    expect(codes("BTO AAPL 12/20 @ 2.50").sort()).toEqual(["OPTION_MISSING_RIGHT", "OPTION_MISSING_STRIKE"]);
  });

  it("Scenario: Discord noise carries no part of the signal", () => {
    expect(
      signalOf("<@&123456789012> @everyone **BUY $AAPL** @ 190 SL 185 (my favorite setup, 2nd time this week)"),
    ).toEqual(equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185 }));
    expect(signalOf("@here\n@TraderJoe Alert: BTO NVDA 12/20 140C @ 3.20")).toEqual(
      option("buy", ["NVDA", "2026-12-20", 140, "call"], { entry: { price: 3.2 } }),
    );
  });

  it("Scenario: Russian, Spanish and Portuguese keywords are read", () => {
    expect(signalOf(lines("ЛОНГ BTCUSDT", "Вход: 45000", "ТП: 46000", "СЛ: 44000", "Плечо: 10x"))).toEqual(
      crypto("buy", "BTC/USDT", { entry: { price: 45000 }, stopLoss: 44000, takeProfits: tp(46000), leverage: 10 }),
    );
    expect(signalOf(lines("COMPRA BTC/USDT", "ENTRADA: 64000", "OBJETIVO 1: 66000", "STOP LOSS: 62000"))).toEqual(
      crypto("buy", "BTC/USDT", { entry: { price: 64000 }, stopLoss: 62000, takeProfits: tp(66000) }),
    );
    expect(
      signalOf(lines("VENDA BTC/USDT", "Entrada: 65000", "Alvo 1: 64000", "Stop: 66000", "Alavancagem: 10x")),
    ).toEqual(
      crypto("short", "BTC/USDT", { entry: { price: 65000 }, stopLoss: 66000, takeProfits: tp(64000), leverage: 10 }),
    );
  });

  it("Scenario: A word in commentary does not make a stock trade an option", () => {
    expect(signalOf("🚀 NVDA calls printing. BUY NVDA 15 @ 121.40 SL 115 TP 130")).toEqual(
      equity("buy", "NVDA", { quantity: 15, entry: { price: 121.4 }, stopLoss: 115, takeProfits: tp(130) }),
    );
    expect(signalOf("BUY NVDA 15 @ 121.40 SL 115 TP 130 — calls printing")).toEqual(
      equity("buy", "NVDA", { quantity: 15, entry: { price: 121.4 }, stopLoss: 115, takeProfits: tp(130) }),
    );
    for (const text of ["Buying AAPL calls", "BUY NVDA calls @ 2.50"]) {
      expect(errorsOf(text)).toEqual([
        { code: "OPTION_MISSING_STRIKE", at: "calls" },
        { code: "OPTION_MISSING_EXPIRATION", at: "calls" },
      ]);
    }
  });

  it("Scenario: A ticker that is also a word is read where the layout makes it the symbol", () => {
    expect(signalOf("BUY MA qty 1")).toEqual(equity("buy", "MA", { quantity: 1 }));
    expect(codes("BUY THE DIP")).toEqual(["NOT_A_SIGNAL"]);
  });

  it("Scenario: An ambiguous number is located and explained with a corrected example", () => {
    expect(errorsOf("BUY MSFT 5")).toEqual([{ code: "AMBIGUOUS_NUMBER", at: "5" }]);
    const result = parse("BUY MSFT 5");
    const message = result.ok ? "" : (result.errors[0]?.message ?? "");
    expect(message).toContain('"BUY MSFT 5 shares"');
    expect(message).toContain('"BUY MSFT @ 5"');
  });
});
