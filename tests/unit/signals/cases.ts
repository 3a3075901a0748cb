import type { SignalErrorCode } from "../../../shared/signals/errors";
import type { NormalizedSignal } from "../../../shared/signals/schema";

/** Every date case is read as if posted at this moment (a Monday, 10:00 in New York). */
export const NOW = new Date("2026-11-23T15:00:00Z");

export type SignalCase =
  | { family: string; text: string; signal: NormalizedSignal }
  | { family: string; text: string; errors: SignalErrorCode[] };

type Fields = Pick<NormalizedSignal, "action" | "assetClass" | "symbol"> & Partial<NormalizedSignal>;
type Rest = Partial<NormalizedSignal>;

/** A full expected signal from the fields that differ from "market order, nothing else". */
export function signal(fields: Fields): NormalizedSignal {
  return {
    option: null,
    orderType: fields.entry ? "limit" : "market",
    entry: null,
    quantity: null,
    quantityPercent: null,
    stopLoss: null,
    takeProfits: [],
    leverage: null,
    timeInForce: null,
    ...fields,
  };
}

const tp = (...prices: (number | [number, number])[]) =>
  prices.map((p) => (Array.isArray(p) ? { price: p[0], percent: p[1] } : { price: p, percent: null }));

const equity = (action: NormalizedSignal["action"], symbol: string, rest: Rest = {}) =>
  signal({ action, assetClass: "equity", symbol, ...rest });
const crypto = (action: NormalizedSignal["action"], symbol: string, rest: Rest = {}) =>
  signal({ action, assetClass: "crypto", symbol, ...rest });
const option = (
  action: NormalizedSignal["action"],
  contract: [string, string, number, "call" | "put"],
  rest: Rest = {},
) => {
  const [underlying, expiration, strike, right] = contract;
  return signal({
    action,
    assetClass: "option",
    symbol: underlying,
    option: { underlying, expiration, strike, right },
    ...rest,
  });
};

const ok = (family: string, text: string, expected: NormalizedSignal): SignalCase => ({
  family,
  text,
  signal: expected,
});
const bad = (family: string, text: string, ...errors: SignalErrorCode[]): SignalCase => ({ family, text, errors });

export const STOCK_CASES: SignalCase[] = [
  ok(
    "stock",
    "BUY AAPL 10 @ 190.50 SL 185 TP 195",
    equity("buy", "AAPL", { quantity: 10, entry: { price: 190.5 }, stopLoss: 185, takeProfits: tp(195) }),
  ),
  ok(
    "stock",
    "$TSLA long 250-252 stop 245 targets 260, 270",
    equity("buy", "TSLA", { entry: { low: 250, high: 252 }, stopLoss: 245, takeProfits: tp(260, 270) }),
  ),
  ok(
    "stock",
    "buy 100 shares of MSFT at 410 limit, stop loss 400",
    equity("buy", "MSFT", { quantity: 100, entry: { price: 410 }, stopLoss: 400 }),
  ),
  ok("stock", "BUY 10 AAPL MKT", equity("buy", "AAPL", { quantity: 10 })),
  ok(
    "stock",
    "sell short 50 GME @ 25.40 stop 27",
    equity("short", "GME", { quantity: 50, entry: { price: 25.4 }, stopLoss: 27 }),
  ),
  ok("stock", "Cover GME", equity("cover", "GME")),
  ok("stock", "Close AAPL", equity("close", "AAPL")),
  ok("stock", "Trim 50% NVDA", equity("close", "NVDA", { quantityPercent: 50 })),
  ok(
    "stock",
    "🚀 **BUY $NVDA** @ 1,250.50 SL 1,200 TP 1,300 🚀",
    equity("buy", "NVDA", { entry: { price: 1250.5 }, stopLoss: 1200, takeProfits: tp(1300) }),
  ),
  ok(
    "stock",
    "> BUY AAPL 10 @ 190.50\n> SL 185\n> TP 195",
    equity("buy", "AAPL", { quantity: 10, entry: { price: 190.5 }, stopLoss: 185, takeProfits: tp(195) }),
  ),
  ok(
    "stock",
    "**$AMD** LONG\nEntry: 155.20\nStop: 150\nTargets: 160, 165, 170",
    equity("buy", "AMD", { entry: { price: 155.2 }, stopLoss: 150, takeProfits: tp(160, 165, 170) }),
  ),
  ok(
    "stock",
    "buy aapl 10 @ 190 sl 185 tp 195",
    equity("buy", "AAPL", { quantity: 10, entry: { price: 190 }, stopLoss: 185, takeProfits: tp(195) }),
  ),
  ok(
    "stock",
    "BUY BRK.B 5 @ 410 SL 400",
    equity("buy", "BRK.B", { quantity: 5, entry: { price: 410 }, stopLoss: 400 }),
  ),
  ok("stock", "$BRK.B buy 5 @ 410", equity("buy", "BRK.B", { quantity: 5, entry: { price: 410 } })),
  ok("stock", "SELL AAPL 10 @ 195", equity("sell", "AAPL", { quantity: 10, entry: { price: 195 } })),
  ok("stock", "SELL 10 AAPL MKT", equity("sell", "AAPL", { quantity: 10 })),
  ok("stock", "Sold AAPL @ 196.20", equity("sell", "AAPL", { entry: { price: 196.2 } })),
  ok(
    "stock",
    "SHORT TSLA @ 250 SL 260 TP 230 TP 220",
    equity("short", "TSLA", { entry: { price: 250 }, stopLoss: 260, takeProfits: tp(230, 220) }),
  ),
  ok(
    "stock",
    "short $TSLA 250-252 stop 258 tp 240",
    equity("short", "TSLA", { entry: { low: 250, high: 252 }, stopLoss: 258, takeProfits: tp(240) }),
  ),
  ok("stock", "Cover TSLA @ 235", equity("cover", "TSLA", { entry: { price: 235 } })),
  ok("stock", "Covering half TSLA", equity("cover", "TSLA", { quantityPercent: 50 })),
  ok("stock", "Exit AAPL", equity("close", "AAPL")),
  ok("stock", "Closing NVDA 25%", equity("close", "NVDA", { quantityPercent: 25 })),
  ok("stock", "Trim NVDA 10 shares", equity("close", "NVDA", { quantity: 10 })),
  ok(
    "stock",
    "BUY AAPL 10 @ 190 GTC",
    equity("buy", "AAPL", { quantity: 10, entry: { price: 190 }, timeInForce: "gtc" }),
  ),
  ok(
    "stock",
    "BUY AAPL 10 @ 190 DAY",
    equity("buy", "AAPL", { quantity: 10, entry: { price: 190 }, timeInForce: "day" }),
  ),
  ok(
    "stock",
    "BUY AAPL 10 @ 190 IOC",
    equity("buy", "AAPL", { quantity: 10, entry: { price: 190 }, timeInForce: "ioc" }),
  ),
  ok(
    "stock",
    "buy aapl 10 @ 190 fok",
    equity("buy", "AAPL", { quantity: 10, entry: { price: 190 }, timeInForce: "fok" }),
  ),
  ok("stock", "BUY AAPL 10 @ 190 market", equity("buy", "AAPL", { quantity: 10 })),
  ok("stock", "buy AAPL at market", equity("buy", "AAPL")),
  ok(
    "stock",
    "BUY 25 AMD @ market SL 140 TP 170",
    equity("buy", "AMD", { quantity: 25, stopLoss: 140, takeProfits: tp(170) }),
  ),
  ok(
    "stock",
    "BUY STOP AAPL 10 @ 195 SL 190",
    equity("buy", "AAPL", { orderType: "stop", quantity: 10, entry: { price: 195 }, stopLoss: 190 }),
  ),
  ok(
    "stock",
    "BUY AAPL 10 STOP-LIMIT @ 195",
    equity("buy", "AAPL", { orderType: "stop_limit", quantity: 10, entry: { price: 195 } }),
  ),
  ok(
    "stock",
    "BUY AAPL 10 stop limit 195 SL 190",
    equity("buy", "AAPL", { orderType: "stop_limit", quantity: 10, entry: { price: 195 }, stopLoss: 190 }),
  ),
  ok("stock", "BUY $F 100 @ 12.50", equity("buy", "F", { quantity: 100, entry: { price: 12.5 } })),
  ok("stock", "BUY F 100 @ 12.50", equity("buy", "F", { quantity: 100, entry: { price: 12.5 } })),
  ok(
    "stock",
    "Long AAPL, entry 190, SL 185, TP1 195, TP2 200",
    equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185, takeProfits: tp(195, 200) }),
  ),
  ok(
    "stock",
    "BUY AAPL @ $190 SL $185 TP $195",
    equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185, takeProfits: tp(195) }),
  ),
  ok("stock", "BUY AAPL 10 $190", equity("buy", "AAPL", { quantity: 10, entry: { price: 190 } })),
  ok(
    "stock",
    "• Ticker: $PLTR\n• Side: BUY\n• Entry: 24.10\n• SL: 22.90\n• TP: 26.00 / 28.00",
    equity("buy", "PLTR", { entry: { price: 24.1 }, stopLoss: 22.9, takeProfits: tp(26, 28) }),
  ),
  ok("stock", "buy 100 shares of SOL at 25", equity("buy", "SOL", { quantity: 100, entry: { price: 25 } })),
  ok(
    "stock",
    "BUY AAPL 10 @ 190.50 SL 185 TP 195 (50%) TP 200 (50%)",
    equity("buy", "AAPL", {
      quantity: 10,
      entry: { price: 190.5 },
      stopLoss: 185,
      takeProfits: tp([195, 50], [200, 50]),
    }),
  ),
  ok(
    "stock",
    "Buy AAPL between 188 and 190, stop 185",
    equity("buy", "AAPL", { entry: { low: 188, high: 190 }, stopLoss: 185 }),
  ),
  ok("stock", "BUY AAPL 190 to 192 SL 185", equity("buy", "AAPL", { entry: { low: 190, high: 192 }, stopLoss: 185 })),
  ok(
    "stock",
    "BUY AAPL 186 SL 185 TP 195",
    equity("buy", "AAPL", { entry: { price: 186 }, stopLoss: 185, takeProfits: tp(195) }),
  ),
  ok(
    "stock",
    "BUY AAPL 10 SL 185 TP 195",
    equity("buy", "AAPL", { quantity: 10, stopLoss: 185, takeProfits: tp(195) }),
  ),
  ok(
    "stock",
    "$SPY long here 📈 entry 450.25 sl 447 tp 455",
    equity("buy", "SPY", { entry: { price: 450.25 }, stopLoss: 447, takeProfits: tp(455) }),
  ),
  ok(
    "stock",
    "BUY AAPL\nEntry: 190.50\nSL: 185\nTP: 195\nSize: 10 shares",
    equity("buy", "AAPL", { quantity: 10, entry: { price: 190.5 }, stopLoss: 185, takeProfits: tp(195) }),
  ),
  ok("stock", "BUY QTY 10 AAPL @ 190", equity("buy", "AAPL", { quantity: 10, entry: { price: 190 } })),
  ok("stock", "Buy 1,000 shares of F at 12.5", equity("buy", "F", { quantity: 1000, entry: { price: 12.5 } })),
  ok("stock", "BUY SNDL 1000 @ .50", equity("buy", "SNDL", { quantity: 1000, entry: { price: 0.5 } })),
  ok(
    "stock",
    "🚨 NEW TRADE ALERT 🚨\n\nBUY $COIN @ 210 SL 199 TP 230",
    equity("buy", "COIN", { entry: { price: 210 }, stopLoss: 199, takeProfits: tp(230) }),
  ),
  ok(
    "stock",
    "Swing trade idea: long $NVDA 135-137, stop 129, targets 145 / 152",
    equity("buy", "NVDA", { entry: { low: 135, high: 137 }, stopLoss: 129, takeProfits: tp(145, 152) }),
  ),
  ok(
    "stock",
    "__**SHORT**__ `$SNAP` @ `11.20` | SL `11.80` | TP `10.10`",
    equity("short", "SNAP", { entry: { price: 11.2 }, stopLoss: 11.8, takeProfits: tp(10.1) }),
  ),
  ok(
    "stock",
    "11/23 watchlist — BUY AAPL @ 190 SL 185",
    equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185 }),
  ),
  ok(
    "stock",
    "Day trade: BUY AMD 50 @ 140.10 SL 138.90",
    equity("buy", "AMD", { quantity: 50, entry: { price: 140.1 }, stopLoss: 138.9 }),
  ),
  ok("stock", "BUY LTC STOCK @ 90", equity("buy", "LTC", { entry: { price: 90 } })),
  ok("stock", "Exit half AMZN @ 215", equity("close", "AMZN", { quantityPercent: 50, entry: { price: 215 } })),
  ok(
    "stock",
    "<@&987654321> **BUY AAPL 10 @ 190** SL 185 (-2.6%) TP 195 (+2.6%) <:rocket:112233>",
    equity("buy", "AAPL", { quantity: 10, entry: { price: 190 }, stopLoss: 185, takeProfits: tp(195) }),
  ),
  ok(
    "stock",
    "BUY AAPL @ 190 SL 185 chart: https://www.tradingview.com/x/A1b2C3/ 4h",
    equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185 }),
  ),
  ok("stock", "Trim 1/3 NVDA", equity("close", "NVDA", { quantityPercent: 100 / 3 })),
  ok("stock", "Sell 1/2 AMD @ 160", equity("sell", "AMD", { quantityPercent: 50, entry: { price: 160 } })),
  ok(
    "stock",
    "SHORT 100 GME @ 28 SL 30.5 TP 25 GTC",
    equity("short", "GME", {
      quantity: 100,
      entry: { price: 28 },
      stopLoss: 30.5,
      takeProfits: tp(25),
      timeInForce: "gtc",
    }),
  ),
];

export const OPTION_CASES: SignalCase[] = [
  ok(
    "option",
    "BTO AAPL 12/20 190C @ 2.50",
    option("buy", ["AAPL", "2026-12-20", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok(
    "option",
    "STC SPY 450P 1/15/2027 @ 3.10",
    option("sell", ["SPY", "2027-01-15", 450, "put"], { entry: { price: 3.1 } }),
  ),
  ok(
    "option",
    "Buy to open QQQ 12/18/2026 500 call @ 1.20",
    option("buy", ["QQQ", "2026-12-18", 500, "call"], { entry: { price: 1.2 } }),
  ),
  ok(
    "option",
    "BTO 2x QQQ 12/11 500c @1.20",
    option("buy", ["QQQ", "2026-12-11", 500, "call"], { quantity: 2, entry: { price: 1.2 } }),
  ),
  ok(
    "option",
    "BTO SPY 0DTE 450C @ 1.10",
    option("buy", ["SPY", "2026-11-23", 450, "call"], { entry: { price: 1.1 } }),
  ),
  ok(
    "option",
    "BTO AAPL 20DEC26 190C @ 2.50",
    option("buy", ["AAPL", "2026-12-20", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok(
    "option",
    "BTO AAPL Dec 20 190C @ 2.50",
    option("buy", ["AAPL", "2026-12-20", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok(
    "option",
    "BTO AAPL Dec 20, 2027 190C @ 2.50",
    option("buy", ["AAPL", "2027-12-20", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok(
    "option",
    "STO SPY 12/19 430P @ 2.00",
    option("short", ["SPY", "2026-12-19", 430, "put"], { entry: { price: 2 } }),
  ),
  ok(
    "option",
    "BTC SPY 12/19 430P @ 0.50",
    option("cover", ["SPY", "2026-12-19", 430, "put"], { entry: { price: 0.5 } }),
  ),
  ok(
    "option",
    "Buy to close SPY 12/19 430P @ 0.50",
    option("cover", ["SPY", "2026-12-19", 430, "put"], { entry: { price: 0.5 } }),
  ),
  ok(
    "option",
    "Sell to close AAPL 12/20 190C @ 4.00",
    option("sell", ["AAPL", "2026-12-20", 190, "call"], { entry: { price: 4 } }),
  ),
  ok(
    "option",
    "Sell to open TSLA 1/17/2027 200P @ 5.00",
    option("short", ["TSLA", "2027-01-17", 200, "put"], { entry: { price: 5 } }),
  ),
  ok(
    "option",
    "BTO 3 AAPL 12/20 190C @ 2.50 SL 1.50 TP 4.00",
    option("buy", ["AAPL", "2026-12-20", 190, "call"], {
      quantity: 3,
      entry: { price: 2.5 },
      stopLoss: 1.5,
      takeProfits: tp(4),
    }),
  ),
  ok(
    "option",
    "BTO AAPL 12/20 190C 2.50",
    option("buy", ["AAPL", "2026-12-20", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok("option", "BTO AAPL 12/20 190C", option("buy", ["AAPL", "2026-12-20", 190, "call"])),
  ok(
    "option",
    "BTO AAPL 11/23 190C @ 2.50",
    option("buy", ["AAPL", "2026-11-23", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok(
    "option",
    "BTO AAPL 11/22 190C @ 2.50",
    option("buy", ["AAPL", "2027-11-22", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok("option", "BTO AAPL 2/29 190C", option("buy", ["AAPL", "2028-02-29", 190, "call"])),
  ok(
    "option",
    "BTO AAPL 12/20/26 190C @ 2.5",
    option("buy", ["AAPL", "2026-12-20", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok(
    "option",
    "BTO AAPL 2026-12-18 190C @ 2.5",
    option("buy", ["AAPL", "2026-12-18", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok(
    "option",
    "BTO AAPL 12/20 192.5C @ 2.5",
    option("buy", ["AAPL", "2026-12-20", 192.5, "call"], { entry: { price: 2.5 } }),
  ),
  ok(
    "option",
    "BTO AAPL 12/20 $190C @ 2.5",
    option("buy", ["AAPL", "2026-12-20", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok(
    "option",
    "BTO AAPL 12/20 190 calls @ 2.5",
    option("buy", ["AAPL", "2026-12-20", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok(
    "option",
    "🔥 **BTO** $NVDA 12/20 140C @ 3.20 🔥\nSL 2.00 | TP 5.00",
    option("buy", ["NVDA", "2026-12-20", 140, "call"], { entry: { price: 3.2 }, stopLoss: 2, takeProfits: tp(5) }),
  ),
  ok(
    "option",
    "STC 2 contracts SPY 450P 1/15/2027 @ 3.10",
    option("sell", ["SPY", "2027-01-15", 450, "put"], { quantity: 2, entry: { price: 3.1 } }),
  ),
  ok("option", "Close SPY 450P 1/15/2027", option("close", ["SPY", "2027-01-15", 450, "put"])),
  ok(
    "option",
    "STC half AAPL 12/20 190C @ 4",
    option("sell", ["AAPL", "2026-12-20", 190, "call"], { quantityPercent: 50, entry: { price: 4 } }),
  ),
  ok(
    "option",
    "BTO SPXW 12/20 6000C @ 10.00",
    option("buy", ["SPXW", "2026-12-20", 6000, "call"], { entry: { price: 10 } }),
  ),
  ok(
    "option",
    "BTO 2x QQQ 12/11 500c @1.20 GTC",
    option("buy", ["QQQ", "2026-12-11", 500, "call"], { quantity: 2, entry: { price: 1.2 }, timeInForce: "gtc" }),
  ),
  ok(
    "option",
    "BTO AAPL Jan 15 2027 200 put @ 3.50",
    option("buy", ["AAPL", "2027-01-15", 200, "put"], { entry: { price: 3.5 } }),
  ),
  ok(
    "option",
    "bto aapl 12/20 190c @ 2.50",
    option("buy", ["AAPL", "2026-12-20", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok(
    "option",
    "STO AAPL 12/20 190C @ 2.50 SL 4.00 TP 1.00",
    option("short", ["AAPL", "2026-12-20", 190, "call"], { entry: { price: 2.5 }, stopLoss: 4, takeProfits: tp(1) }),
  ),
  ok(
    "option",
    "BTO AAPL exp 12/20 strike 190 call @ 2.50",
    option("buy", ["AAPL", "2026-12-20", 190, "call"], { entry: { price: 2.5 } }),
  ),
  ok(
    "option",
    "> 📣 **$SPY 12/5 600P**\n> BTO @ .85\n> SL .50",
    option("buy", ["SPY", "2026-12-05", 600, "put"], { entry: { price: 0.85 }, stopLoss: 0.5 }),
  ),
  ok(
    "option",
    "BTO 5 TSLA 12/20 300C @ 4.50 - 4.80",
    option("buy", ["TSLA", "2026-12-20", 300, "call"], { quantity: 5, entry: { low: 4.5, high: 4.8 } }),
  ),
  ok(
    "option",
    "BTO AMD 12/20 150C @ 1.00 TP 1.50 TP 2.00",
    option("buy", ["AMD", "2026-12-20", 150, "call"], { entry: { price: 1 }, takeProfits: tp(1.5, 2) }),
  ),
];

export const CRYPTO_CASES: SignalCase[] = [
  ok(
    "crypto",
    "LONG BTC/USDT entry 64000-64500 SL 62000 TP1 66000 TP2 68000 leverage 5x",
    crypto("buy", "BTC/USDT", {
      entry: { low: 64000, high: 64500 },
      stopLoss: 62000,
      takeProfits: tp(66000, 68000),
      leverage: 5,
    }),
  ),
  ok(
    "crypto",
    "SHORT ETHUSDT 3400 sl 3550 tp 3200",
    crypto("short", "ETH/USDT", { entry: { price: 3400 }, stopLoss: 3550, takeProfits: tp(3200) }),
  ),
  ok(
    "crypto",
    "BTC long 65k sl 63.5k tp 70k",
    crypto("buy", "BTC/USD", { entry: { price: 65000 }, stopLoss: 63500, takeProfits: tp(70000) }),
  ),
  ok(
    "crypto",
    "📈 #BTC/USDT\nDirection: LONG\nEntry Zone: 64000 - 64500\nLeverage: Cross 10x\nTargets:\n1) 66000\n2) 68000\nStop-Loss: 62000",
    crypto("buy", "BTC/USDT", {
      entry: { low: 64000, high: 64500 },
      stopLoss: 62000,
      takeProfits: tp(66000, 68000),
      leverage: 10,
    }),
  ),
  ok(
    "crypto",
    "LONG ETH entry 3400 SL 3300 TP 3600",
    crypto("buy", "ETH/USD", { entry: { price: 3400 }, stopLoss: 3300, takeProfits: tp(3600) }),
  ),
  ok(
    "crypto",
    "#ETHUSDT SHORT\nEntry: 3450-3500\nTP1: 3300\nTP2: 3200\nSL: 3600\nLeverage: 20x",
    crypto("short", "ETH/USDT", {
      entry: { low: 3450, high: 3500 },
      stopLoss: 3600,
      takeProfits: tp(3300, 3200),
      leverage: 20,
    }),
  ),
  ok("crypto", "BUY 0.5 BTC", crypto("buy", "BTC/USD", { quantity: 0.5 })),
  ok("crypto", "BUY 0.5 BTC @ 64000", crypto("buy", "BTC/USD", { quantity: 0.5, entry: { price: 64000 } })),
  ok(
    "crypto",
    "LONG SOL/USDT 140-142 SL 135 TP 150 TP 160 5x",
    crypto("buy", "SOL/USDT", {
      entry: { low: 140, high: 142 },
      stopLoss: 135,
      takeProfits: tp(150, 160),
      leverage: 5,
    }),
  ),
  ok(
    "crypto",
    "SHORT BTCUSDT.P 66000 SL 67000 TP 64000 x20",
    crypto("short", "BTC/USDT", { entry: { price: 66000 }, stopLoss: 67000, takeProfits: tp(64000), leverage: 20 }),
  ),
  ok(
    "crypto",
    "BTC-USD long 65k sl 63.5k tp 70k",
    crypto("buy", "BTC/USD", { entry: { price: 65000 }, stopLoss: 63500, takeProfits: tp(70000) }),
  ),
  ok(
    "crypto",
    "$BTC long 65000 sl 63000 tp 70000",
    crypto("buy", "BTC/USD", { entry: { price: 65000 }, stopLoss: 63000, takeProfits: tp(70000) }),
  ),
  ok(
    "crypto",
    "Long DOGE/USDT @ 0.1234 SL 0.11 TP 0.15",
    crypto("buy", "DOGE/USDT", { entry: { price: 0.1234 }, stopLoss: 0.11, takeProfits: tp(0.15) }),
  ),
  ok(
    "crypto",
    "LONG PEPEUSDT entry 0.00001234 SL 0.0000115 TP 0.0000135",
    crypto("buy", "PEPE/USDT", { entry: { price: 0.00001234 }, stopLoss: 0.0000115, takeProfits: tp(0.0000135) }),
  ),
  ok("crypto", "buy btc 0.25 @ 64000", crypto("buy", "BTC/USD", { quantity: 0.25, entry: { price: 64000 } })),
  ok(
    "crypto",
    "LONG LINK entry 15 SL 14 TP 17",
    crypto("buy", "LINK/USD", { entry: { price: 15 }, stopLoss: 14, takeProfits: tp(17) }),
  ),
  ok(
    "crypto",
    "Long NEAR/USDT entry 5.2 SL 4.9 TP 5.8",
    crypto("buy", "NEAR/USDT", { entry: { price: 5.2 }, stopLoss: 4.9, takeProfits: tp(5.8) }),
  ),
  ok(
    "crypto",
    "SHORT ETH/BTC 0.052 SL 0.054 TP 0.048",
    crypto("short", "ETH/BTC", { entry: { price: 0.052 }, stopLoss: 0.054, takeProfits: tp(0.048) }),
  ),
  ok("crypto", "Close BTC/USDT", crypto("close", "BTC/USDT")),
  ok("crypto", "Close 50% ETH", crypto("close", "ETH/USD", { quantityPercent: 50 })),
  ok(
    "crypto",
    "LONG BTC/USDT\nEntry: market\nSL: 62000\nTP: 70000",
    crypto("buy", "BTC/USDT", { stopLoss: 62000, takeProfits: tp(70000) }),
  ),
  ok(
    "crypto",
    "LONG BTC/USDT entry CMP SL 62000 TP 70000",
    crypto("buy", "BTC/USDT", { stopLoss: 62000, takeProfits: tp(70000) }),
  ),
  ok(
    "crypto",
    "🟢 LONG #SOLUSDT\n🎯 Targets:\n1️⃣ 150\n2️⃣ 160\n3️⃣ 170\n🛑 Stop: 130\n💰 Entry: 140 - 142\n⚡ Leverage: Isolated 10x",
    crypto("buy", "SOL/USDT", {
      entry: { low: 140, high: 142 },
      stopLoss: 130,
      takeProfits: tp(150, 160, 170),
      leverage: 10,
    }),
  ),
  ok(
    "crypto",
    "📊 Pair: AVAX/USDT\n📈 Direction: Long\n💵 Entry: 35.5\n🎯 TP1: 37 (30%)\n🎯 TP2: 39 (30%)\n🎯 TP3: 42 (40%)\n⛔ SL: 33",
    crypto("buy", "AVAX/USDT", { entry: { price: 35.5 }, stopLoss: 33, takeProfits: tp([37, 30], [39, 30], [42, 40]) }),
  ),
  ok(
    "crypto",
    "Signal #12\n\nLONG BTC/USDT entry 64000 SL 62000 TP 68000",
    crypto("buy", "BTC/USDT", { entry: { price: 64000 }, stopLoss: 62000, takeProfits: tp(68000) }),
  ),
  ok(
    "crypto",
    "LONG BTC/USDT entry 64000 SL 62000 TP 68000 leverage 10x GTC",
    crypto("buy", "BTC/USDT", {
      entry: { price: 64000 },
      stopLoss: 62000,
      takeProfits: tp(68000),
      leverage: 10,
      timeInForce: "gtc",
    }),
  ),
  ok(
    "crypto",
    "BTC long 65k sl 63.5k tp 70k 72k 75k",
    crypto("buy", "BTC/USD", { entry: { price: 65000 }, stopLoss: 63500, takeProfits: tp(70000, 72000, 75000) }),
  ),
  ok(
    "crypto",
    "SHORT SOL 150 SL 155 TP 140, 130",
    crypto("short", "SOL/USD", { entry: { price: 150 }, stopLoss: 155, takeProfits: tp(140, 130) }),
  ),
  ok(
    "crypto",
    "LONG BTC/USDT Entry 64,000 - 64,500 SL 62,000 TP 66,000",
    crypto("buy", "BTC/USDT", { entry: { low: 64000, high: 64500 }, stopLoss: 62000, takeProfits: tp(66000) }),
  ),
  ok(
    "crypto",
    "LONG XRP/USDT 0.55-0.56 SL 0.52 TP 0.60 TP 0.65 Risk 2%",
    crypto("buy", "XRP/USDT", { entry: { low: 0.55, high: 0.56 }, stopLoss: 0.52, takeProfits: tp(0.6, 0.65) }),
  ),
  ok(
    "crypto",
    "Timeframe: 4H\nLONG BTC/USDT entry 64000 SL 62000 TP 68000",
    crypto("buy", "BTC/USDT", { entry: { price: 64000 }, stopLoss: 62000, takeProfits: tp(68000) }),
  ),
  ok(
    "crypto",
    "SHORT ETH leverage 10x entry 3500 sl 3600 tp 3300",
    crypto("short", "ETH/USD", { entry: { price: 3500 }, stopLoss: 3600, takeProfits: tp(3300), leverage: 10 }),
  ),
  ok("crypto", "long btc 0.1 sl 63000", crypto("buy", "BTC/USD", { quantity: 0.1, stopLoss: 63000 })),
  ok(
    "crypto",
    "$ETH short 3.5k sl 3.6k tp 3.2k",
    crypto("short", "ETH/USD", { entry: { price: 3500 }, stopLoss: 3600, takeProfits: tp(3200) }),
  ),
  ok(
    "crypto",
    "LONG ARB/USDC @ 0.80 SL 0.75 TP 0.90 FOK",
    crypto("buy", "ARB/USDC", { entry: { price: 0.8 }, stopLoss: 0.75, takeProfits: tp(0.9), timeInForce: "fok" }),
  ),
  ok(
    "crypto",
    "Buy zone: 64000-64500\nPair: BTC/USDT\nLong\nSL 62000",
    crypto("buy", "BTC/USDT", { entry: { low: 64000, high: 64500 }, stopLoss: 62000 }),
  ),
  ok(
    "crypto",
    "#BTCUSDT\nLONG\nLeverage: 20x\nEntry Targets:\n1) 64000\n2) 63500\n3) 63000\nTake-Profit Targets:\n1) 66000\n2) 68000\nStop Targets:\n1) 61000",
    crypto("buy", "BTC/USDT", {
      entry: { low: 63000, high: 64000 },
      leverage: 20,
      takeProfits: tp(66000, 68000),
      stopLoss: 61000,
    }),
  ),
  ok(
    "crypto",
    "🔴 SHORT $DOGE\nEntry: 0.40\nTargets: 0.38 - 0.36 - 0.34\nSL: 0.42",
    crypto("short", "DOGE/USD", { entry: { price: 0.4 }, stopLoss: 0.42, takeProfits: tp(0.38, 0.36, 0.34) }),
  ),
];

const tooManyTargets = `LONG BTC/USDT entry 100 SL 90 ${Array.from({ length: 21 }, (_, i) => `TP ${101 + i}`).join(" ")}`;

export const ERROR_CASES: SignalCase[] = [
  bad("error", "I think the market looks bullish today", "NOT_A_SIGNAL"),
  bad("error", "", "NOT_A_SIGNAL"),
  bad("error", "   \n  ", "NOT_A_SIGNAL"),
  bad("error", "gm everyone, good luck today 🚀", "NOT_A_SIGNAL"),
  bad("error", "AAPL looks strong into earnings", "NOT_A_SIGNAL"),
  bad("error", "buy the dip", "NOT_A_SIGNAL"),
  bad("error", "lol I sold everything", "NOT_A_SIGNAL"),
  bad("error", "AAPL @ 190 SL 185 TP 195", "UNKNOWN_SIDE"),
  bad("error", "Direction: SIDEWAYS\nPair: BTC/USDT\nEntry: 64000\nSL: 62000", "UNKNOWN_SIDE"),
  bad("error", "BUY @ 190 SL 185", "UNKNOWN_SYMBOL"),
  bad("error", "BUY $TOOLONGX 10 @ 5", "UNKNOWN_SYMBOL"),
  bad("error", "BUY AAPL MSFT 10 @ 190", "AMBIGUOUS_SYMBOL"),
  bad("error", "BUY AAPL SELL AAPL", "AMBIGUOUS_SIDE"),
  bad("error", "BUY 0 AAPL @ 190", "INVALID_QUANTITY"),
  bad("error", "BUY AAPL qty -5 @ 190", "INVALID_QUANTITY"),
  bad("error", "BUY AAPL @ 190 SL 195", "STOP_WRONG_SIDE"),
  bad("error", "SHORT TSLA @ 250 SL 240", "STOP_WRONG_SIDE"),
  bad("error", "BUY AAPL @ 190 TP 180", "TARGET_WRONG_SIDE"),
  bad("error", "SHORT TSLA @ 250 TP 260 TP 240", "TARGET_WRONG_SIDE"),
  bad("error", "LONG BTC/USDT entry 64000-64500 SL 64200", "STOP_WRONG_SIDE"),
  bad("error", "BTO AAPL 12/20 @ 2.50", "OPTION_MISSING_RIGHT", "OPTION_MISSING_STRIKE"),
  bad("error", "BTO AAPL 190C @ 2.50", "OPTION_MISSING_EXPIRATION"),
  bad("error", "BTO AAPL 12/20 190 @ 2.50", "OPTION_MISSING_RIGHT"),
  bad("error", "Buying AAPL calls", "OPTION_MISSING_EXPIRATION", "OPTION_MISSING_STRIKE"),
  bad("error", "BTO AAPL 2/30 190C @ 2.50", "INVALID_DATE"),
  bad("error", "BUY AAPL @ 0 SL 185", "INVALID_PRICE"),
  bad("error", "BUY AAPL 10 @ 190 @ 191", "AMBIGUOUS_ENTRY"),
  bad("error", "BUY AAPL @ 190 SL 185 stop 184", "AMBIGUOUS_STOP"),
  bad("error", "Trim NVDA", "MISSING_QUANTITY"),
  bad("error", "Trim 150% NVDA", "INVALID_PERCENT"),
  bad("error", "BUY AAPL 50%", "INVALID_QUANTITY"),
  bad("error", "BUY AAPL 190", "AMBIGUOUS_NUMBER"),
  bad("error", "long btc 65k", "AMBIGUOUS_NUMBER"),
  bad("error", "BUY AAPL 10 @ 190 leverage 5x", "INVALID_LEVERAGE"),
  bad("error", "LONG BTC/USDT entry 64000 SL 62000 leverage 0.5x", "INVALID_LEVERAGE"),
  bad("error", "BUY AAPL limit", "MISSING_PRICE"),
  bad("error", "BUY AAPL 10 @ 190 GTC DAY", "AMBIGUOUS_TIME_IN_FORCE"),
  bad("error", "x".repeat(2001), "TOO_LONG"),
  bad("error", "BTO AAPL 12/20 190C 195C @ 2.50", "AMBIGUOUS_OPTION"),
  bad("error", "BUY AAPL @ 190 MKT limit", "AMBIGUOUS_ORDER_TYPE"),
  bad("error", "LONG BTC/USDT entry 64000 SL 62000-61000", "INVALID_PRICE"),
  bad("error", "BTO BTC/USDT 12/20 70000C @ 500", "UNKNOWN_SYMBOL"),
  bad("error", "LONG BTC/USDT entry 64000 SL 2%", "INVALID_PRICE"),
  bad("error", "LONG BTC/USDT entry 64000 SL -2%", "INVALID_PRICE"),
  bad("error", "BUY AAPL @ 190 SL 185 TP 195 (60%) TP 200 (60%)", "INVALID_PERCENT"),
  bad("error", tooManyTargets, "TOO_MANY_TARGETS"),
  bad("error", "BTO AAPL 12/20 190C 1.5 contracts @ 2", "INVALID_QUANTITY"),
  bad("error", "BUY AAPL @ 190 SL 185\nSELL AAPL @ 200", "AMBIGUOUS_ENTRY", "AMBIGUOUS_SIDE"),
  bad("error", "BUY 0 AAPL @ 190 SL 195", "INVALID_QUANTITY", "STOP_WRONG_SIDE"),
  bad("error", "BTO SPY 5DTE 450C", "INVALID_DATE"),
  bad("error", "SHORT TSLA 250-252 SL 251 TP 255", "STOP_WRONG_SIDE", "TARGET_WRONG_SIDE"),
  bad("error", "BUY STOP AAPL 10 @ 190-195", "INVALID_ORDER_TYPE"),
  bad("error", "BUY 10 AAPL QTY 20 @ 190", "AMBIGUOUS_QUANTITY"),
  bad("error", "Close 50% AAPL 10 shares", "AMBIGUOUS_QUANTITY"),
  bad("error", "LONG BTC/USDT entry 64000 SL 62000 leverage 5x 10x", "AMBIGUOUS_LEVERAGE"),
];

export const ALL_CASES: SignalCase[] = [...STOCK_CASES, ...OPTION_CASES, ...CRYPTO_CASES, ...ERROR_CASES];
