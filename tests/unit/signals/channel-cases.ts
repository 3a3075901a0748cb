import { bad, crypto, equity, ok, option, type SignalCase, tp } from "./case-builders";

/**
 * Layouts that real signal channels post (Cornix-style copy-trading lists, options alert bots, non-English crypto
 * groups), the refusals that keep a parsed text from ever being a wrong trade, and the list-label, exit and
 * breakout defects of issue 12. Each case is the whole message and the signal (or the codes) it must give.
 */

/** A small integer right after a target, stop or entry label is the item's number, never a price. */
const LIST_LABEL_CASES: SignalCase[] = [
  ok(
    "list-label",
    "SHORT BTC/USDT\nEntry: 65000\nTarget 1: 64000\nTarget 2: 63000\nSL: 66000",
    crypto("short", "BTC/USDT", { entry: { price: 65000 }, stopLoss: 66000, takeProfits: tp(64000, 63000) }),
  ),
  ok(
    "list-label",
    "LONG ETH/USDT\nEntry: 3000\nStop Loss 1: 2900\nTarget: 3300",
    crypto("buy", "ETH/USDT", { entry: { price: 3000 }, stopLoss: 2900, takeProfits: tp(3300) }),
  ),
  ok(
    "list-label",
    "SHORT SOL/USDT\nEntry: 150\nTP 1: 140\nTP 2: 130\nSL: 160",
    crypto("short", "SOL/USDT", { entry: { price: 150 }, stopLoss: 160, takeProfits: tp(140, 130) }),
  ),
  ok(
    "list-label",
    "LONG BTC/USDT\nEntry: market\nPT 1: 70000\nPT 2: 72000\nSL: 62000",
    crypto("buy", "BTC/USDT", { stopLoss: 62000, takeProfits: tp(70000, 72000) }),
  ),
  ok(
    "list-label",
    "LONG ETH/USDT\nEntry: 3000\nTake-Profit 1: 3200\nTake-Profit 2: 3400\nStop: 2900",
    crypto("buy", "ETH/USDT", { entry: { price: 3000 }, stopLoss: 2900, takeProfits: tp(3200, 3400) }),
  ),
  ok(
    "list-label",
    "SHORT BTC/USDT @ 65000\nTP #1 64000\nTP #2 63000\nSL 66000",
    crypto("short", "BTC/USDT", { entry: { price: 65000 }, stopLoss: 66000, takeProfits: tp(64000, 63000) }),
  ),
  ok(
    "list-label",
    "short btc/usdt entry 65000 sl 66000, target 1 at 64000, target 2 at 63000",
    crypto("short", "BTC/USDT", { entry: { price: 65000 }, stopLoss: 66000, takeProfits: tp(64000, 63000) }),
  ),
  ok(
    "list-label",
    "SHORT ETH/USDT\nEntry: 3400\nTargets: (1) 3300 (2) 3200 (3) 3100\nStop: 3500",
    crypto("short", "ETH/USDT", { entry: { price: 3400 }, stopLoss: 3500, takeProfits: tp(3300, 3200, 3100) }),
  ),
  ok(
    "list-label",
    "🔴 SHORT #SOLUSDT\nEntry 150\n🎯 Target 1 - 145\n🎯 Target 2 - 140\n🛑 SL 155",
    crypto("short", "SOL/USDT", { entry: { price: 150 }, stopLoss: 155, takeProfits: tp(145, 140) }),
  ),
  ok(
    "list-label",
    "LONG DOGE/USDT\nEntry: 0.40\nTarget 1: 0.45\nTarget 2: 0.50\nStop Loss 1: 0.36",
    crypto("buy", "DOGE/USDT", { entry: { price: 0.4 }, stopLoss: 0.36, takeProfits: tp(0.45, 0.5) }),
  ),
  ok(
    "list-label",
    "LONG XRP/USDT\nTP 1: 0.65\nTP 2: 0.70\nSL: 0.50",
    crypto("buy", "XRP/USDT", { stopLoss: 0.5, takeProfits: tp(0.65, 0.7) }),
  ),
  ok(
    "list-label",
    "LONG ARB/USDT\nEntry 1: 0.80\nEntry 2: 0.78\nTarget 1: 0.90\nStop: 0.70",
    crypto("buy", "ARB/USDT", { entry: { low: 0.78, high: 0.8 }, stopLoss: 0.7, takeProfits: tp(0.9) }),
  ),
  ok(
    "list-label",
    "SHORT BTC/USDT 65000\nTargets:\n1 - 64000\n2 - 63000\nStop: 66000",
    crypto("short", "BTC/USDT", { entry: { price: 65000 }, stopLoss: 66000, takeProfits: tp(64000, 63000) }),
  ),
  ok(
    "list-label",
    "SHORT TSLA @ 250\nTarget 1:240\nTarget 2:230\nStop 1:260",
    equity("short", "TSLA", { entry: { price: 250 }, stopLoss: 260, takeProfits: tp(240, 230) }),
  ),
  ok(
    "list-label",
    "Buy AAPL market, target 1 at 200, target 2 at 210, stop 185",
    equity("buy", "AAPL", { stopLoss: 185, takeProfits: tp(200, 210) }),
  ),
  ok(
    "list-label",
    "LONG XRP/USDT entry: 1 - 1.2 SL 0.9 TP 1.5",
    crypto("buy", "XRP/USDT", { entry: { low: 1, high: 1.2 }, stopLoss: 0.9, takeProfits: tp(1.5) }),
  ),
  bad("list-label", "LONG XRP/USDT entry 0.9 SL 0.8 Target 1 - 1.2", "AMBIGUOUS_NUMBER"),
  bad("list-label", "LONG ADA/USDT TP 1 2 SL 0.5", "AMBIGUOUS_NUMBER"),
  bad("list-label", "LONG ADA/USDT @ 0.5 SL 0.4 TP 1:2", "AMBIGUOUS_NUMBER"),
  bad("list-label", "AVAX/USDT SHORT\nEntry: 40.5\nTargets:\n1) 39\n2\n3) 36.5\nStop: 42", "AMBIGUOUS_NUMBER"),
  bad("list-label", "🔴 SHORT $DOGE\nEntry: 0.40\nTargets: 08 - 0.36 - 0.34\nSL: 0.42", "TARGET_WRONG_SIDE"),
];

/** An exit never carries a stop or targets; SELL reads as a short only where leverage or a perpetual says so. */
const EXIT_CASES: SignalCase[] = [
  bad("exit", "SELL BTC/USDT\nEntry: 65000\nSL: 66000\nTP: 64000", "AMBIGUOUS_SIDE"),
  bad("exit", "SELL AAPL @ 185 SL 190 TP 180", "AMBIGUOUS_SIDE"),
  bad("exit", "Cover TSLA @ 235 SL 230", "AMBIGUOUS_SIDE"),
  bad("exit", "Close AAPL TP 200", "AMBIGUOUS_SIDE"),
  bad("exit", "STC AAPL 12/20 190C @ 4 SL 3", "AMBIGUOUS_SIDE"),
  bad("exit", "Close BTC/USDT 10x", "INVALID_LEVERAGE"),
  ok(
    "exit",
    "SELL BTC/USDT 65000 SL 66000 TP 64000 leverage 10x",
    crypto("short", "BTC/USDT", { entry: { price: 65000 }, stopLoss: 66000, takeProfits: tp(64000), leverage: 10 }),
  ),
  ok(
    "exit",
    "SELL BTCUSDT.P @ 65000 SL 66000 TP 64000",
    crypto("short", "BTC/USDT", { entry: { price: 65000 }, stopLoss: 66000, takeProfits: tp(64000) }),
  ),
  ok("exit", "SELL ETH/USDT 10x", crypto("short", "ETH/USDT", { leverage: 10 })),
  ok("exit", "SELL BTCUSDT.P", crypto("sell", "BTC/USDT")),
  ok("exit", "SELL BTC/USDT @ 66000", crypto("sell", "BTC/USDT", { entry: { price: 66000 } })),
];

/** Breakout words and a trailing "stop" make a stop order; the opposite direction is a limit. */
const BREAKOUT_CASES: SignalCase[] = [
  ok(
    "breakout",
    "BUY AAPL above 190 SL 185",
    equity("buy", "AAPL", { orderType: "stop", entry: { price: 190 }, stopLoss: 185 }),
  ),
  ok(
    "breakout",
    "BUY AAPL on break of 190 SL 185",
    equity("buy", "AAPL", { orderType: "stop", entry: { price: 190 }, stopLoss: 185 }),
  ),
  ok(
    "breakout",
    "Buy AAPL if it breaks 190, stop 185",
    equity("buy", "AAPL", { orderType: "stop", entry: { price: 190 }, stopLoss: 185 }),
  ),
  ok(
    "breakout",
    "SHORT TSLA below 240 SL 250",
    equity("short", "TSLA", { orderType: "stop", entry: { price: 240 }, stopLoss: 250 }),
  ),
  ok("breakout", "SELL AAPL @ 185 stop", equity("sell", "AAPL", { orderType: "stop", entry: { price: 185 } })),
  ok("breakout", "SELL AAPL 185 stop", equity("sell", "AAPL", { orderType: "stop", entry: { price: 185 } })),
  ok(
    "breakout",
    "BUY AAPL 10 @ 195 stop",
    equity("buy", "AAPL", { orderType: "stop", quantity: 10, entry: { price: 195 } }),
  ),
  ok(
    "breakout",
    "Long BTC/USDT above 65000 SL 63000 TP 70000",
    crypto("buy", "BTC/USDT", { orderType: "stop", entry: { price: 65000 }, stopLoss: 63000, takeProfits: tp(70000) }),
  ),
  ok(
    "breakout",
    "BUY NVDA over 140 SL 135 TP 150",
    equity("buy", "NVDA", { orderType: "stop", entry: { price: 140 }, stopLoss: 135, takeProfits: tp(150) }),
  ),
  ok(
    "breakout",
    "Short ETH/USDT on a breakdown below 3300 SL 3400",
    crypto("short", "ETH/USDT", { orderType: "stop", entry: { price: 3300 }, stopLoss: 3400 }),
  ),
  ok(
    "breakout",
    "Enter above 200\nPair: SOL/USDT\nLong\nStop: 190",
    crypto("buy", "SOL/USDT", { orderType: "stop", entry: { price: 200 }, stopLoss: 190 }),
  ),
  ok("breakout", "BUY AAPL below 185", equity("buy", "AAPL", { entry: { price: 185 } })),
  ok("breakout", "SHORT TSLA above 260 SL 270", equity("short", "TSLA", { entry: { price: 260 }, stopLoss: 270 })),
  ok("breakout", "SELL AAPL below 180", equity("sell", "AAPL", { orderType: "stop", entry: { price: 180 } })),
  ok("breakout", "BUY AAPL @ 190 SL below 185", equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185 })),
  bad("breakout", "Close AAPL above 200", "AMBIGUOUS_ORDER_TYPE"),
  bad("breakout", "BUY AAPL above 190-192", "INVALID_ORDER_TYPE"),
];

/** Negations, trade management and result reports are refused with their own reason, never traded. */
const REFUSAL_CASES: SignalCase[] = [
  bad("refusal", "Don't short TSLA here", "NEGATED_SIGNAL"),
  bad("refusal", "Don’t short TSLA here", "NEGATED_SIGNAL"),
  bad("refusal", "No longer long AAPL", "NEGATED_SIGNAL"),
  bad("refusal", "Do NOT buy NVDA @ 140", "NEGATED_SIGNAL"),
  bad("refusal", "not buying AAPL here yet", "NEGATED_SIGNAL"),
  bad("refusal", "Long AAPL? Not yet.", "NEGATED_SIGNAL"),
  bad("refusal", "Cancel the AAPL buy order", "MANAGEMENT_MESSAGE"),
  bad("refusal", "Update: AAPL long, new stop 188", "MANAGEMENT_MESSAGE"),
  bad("refusal", "AAPL TP1 hit, move SL to breakeven", "MANAGEMENT_MESSAGE"),
  bad("refusal", "SL moved to 188 on AAPL", "MANAGEMENT_MESSAGE"),
  bad("refusal", "TSLA short stopped out at 260", "RESULT_REPORT"),
  bad("refusal", "Profit: 69%", "RESULT_REPORT"),
  bad("refusal", "#BTC/USDT Entry 1 ✅\nAverage Entry Price: 32000 💵", "RESULT_REPORT"),
  bad(
    "refusal",
    "ByBit USDT\n#BTC/USDT Take-Profit target 1 ✅\nProfit: 62.5% 📈\nPeriod: 2 Days 17 Hours",
    "RESULT_REPORT",
  ),
  bad("refusal", "TP2 reached 🎯 ETH/USDT", "RESULT_REPORT"),
  bad("refusal", "#BTC/USDT Closed at stoploss after reaching take profit ⚠️", "RESULT_REPORT"),
  bad("refusal", "#BTC/USDT Stoploss ⛔️\nLoss: 133.3% 📉", "RESULT_REPORT"),
  bad("refusal", "BTC/USDT SL hit ❌", "RESULT_REPORT"),
  ok(
    "refusal",
    "BUY AAPL @ 190 SL 185 TP 195 — move SL to breakeven after TP1",
    equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185, takeProfits: tp(195) }),
  ),
  ok(
    "refusal",
    "BUY AAPL @ 190 SL 185, cancel if not filled today",
    equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185 }),
  ),
  ok(
    "refusal",
    "SHORT TSLA @ 250 SL 260 TP 230. Don't chase below 245",
    equity("short", "TSLA", { entry: { price: 250 }, stopLoss: 260, takeProfits: tp(230) }),
  ),
  ok(
    "refusal",
    "BUY AAPL @ 190 SL 185 TP 195 (not financial advice)",
    equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185, takeProfits: tp(195) }),
  ),
  bad("refusal", "Close half AAPL if TP1 hit", "MANAGEMENT_MESSAGE"),
  bad("refusal", "Sell AAPL when TP hit", "MANAGEMENT_MESSAGE"),
  ok(
    "refusal",
    "🚨 NEW ENTRY 🚨\nBUY AAPL @ 190 SL 185",
    equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185 }),
  ),
  ok(
    "refusal",
    "BUY AAPL @ 190 SL 185 ✅ TP 195 ✅",
    equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185, takeProfits: tp(195) }),
  ),
  ok(
    "refusal",
    "Big move coming. Stop 185 is key. BUY AAPL @ 190",
    equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185 }),
  ),
  ok("refusal", "No FOMO, buy AAPL @ 190 SL 185", equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185 })),
  ok(
    "refusal",
    "BUY AAPL 10 @ 190 good til cancelled",
    equity("buy", "AAPL", { quantity: 10, entry: { price: 190 }, timeInForce: "gtc" }),
  ),
];

/** Copy-trading layouts: numbered lists with percents, entry zones beside them, leverage after the list. */
const LAYOUT_CASES: SignalCase[] = [
  ok(
    "layout",
    "#LINK/USDT\nLong\nEntry Zone: 5.50 - 5.60\nTarget 1: 5.937 - 30%\nTarget 2: 6.20 - 30%\nTarget 3: 6.50 - 40%\nStop Loss: 5.10\nLeverage: Cross 40x",
    crypto("buy", "LINK/USDT", {
      entry: { low: 5.5, high: 5.6 },
      stopLoss: 5.1,
      takeProfits: tp([5.937, 30], [6.2, 30], [6.5, 40]),
      leverage: 40,
    }),
  ),
  ok(
    "layout",
    "AVAX/USDT SHORT\nEntry: 40.5\nTargets:\n1) 39\n2) 38\n3) 36.5\nStop: 42\nLeverage: Isolated 8x",
    crypto("short", "AVAX/USDT", { entry: { price: 40.5 }, stopLoss: 42, takeProfits: tp(39, 38, 36.5), leverage: 8 }),
  ),
  ok(
    "layout",
    "ETH LONG\nEntry 3400\nPT1: 3500\nPT2: 3600\nSL 3300",
    crypto("buy", "ETH/USD", { entry: { price: 3400 }, stopLoss: 3300, takeProfits: tp(3500, 3600) }),
  ),
  ok(
    "layout",
    "#ETH/USDT\nShort\nLeverage: 20x\nEntry Targets:\n1) 3450\n2) 3500\nTake-Profit Targets:\n1) 3300 - 50%\n2) 3200 - 50%\nStop Targets:\n1) 3600",
    crypto("short", "ETH/USDT", {
      entry: { low: 3450, high: 3500 },
      stopLoss: 3600,
      takeProfits: tp([3300, 50], [3200, 50]),
      leverage: 20,
    }),
  ),
  ok(
    "layout",
    "COIN: $BTC/USDT\nDirection: Long\nExchange: ByBit USDT\nLeverage: 10x\n\nENTRY: 32000 - 30000 - 28000\n\nTARGETS: 34000 - 34500 - 35000\n\nSTOP LOSS: 26000",
    crypto("buy", "BTC/USDT", {
      entry: { low: 28000, high: 32000 },
      stopLoss: 26000,
      takeProfits: tp(34000, 34500, 35000),
      leverage: 10,
    }),
  ),
  ok(
    "layout",
    "$OPEN/USDT\nBuy 0.5677\nTake Profit 0.5987\nStop Loss 0.5432\nAmount per trade 5%\nLeverage Cross x10",
    crypto("buy", "OPEN/USDT", { entry: { price: 0.5677 }, stopLoss: 0.5432, takeProfits: tp(0.5987), leverage: 10 }),
  ),
  ok(
    "layout",
    "⚡️⚡️ #DOT/USDT ⚡️⚡️\nSignal Type: Regular (Long)\nLeverage: Cross (20X)\nEntry Targets: 6.80 - 6.60\nTake-Profit Targets:\n1) 7.00\n2) 7.20\n3) 7.50\nStop Targets:\n1) 6.30",
    crypto("buy", "DOT/USDT", {
      entry: { low: 6.6, high: 6.8 },
      stopLoss: 6.3,
      takeProfits: tp(7, 7.2, 7.5),
      leverage: 20,
    }),
  ),
  ok(
    "layout",
    "📍Coin : #SUI/USDT\n🟢 LONG\n👉 Entry: 1.62 - 1.58\n🌐 Leverage: 10x\n🎯 Target 1: 1.68\n🎯 Target 2: 1.74\n🎯 Target 3: 1.80\n❌ StopLoss: 1.52",
    crypto("buy", "SUI/USDT", {
      entry: { low: 1.58, high: 1.62 },
      stopLoss: 1.52,
      takeProfits: tp(1.68, 1.74, 1.8),
      leverage: 10,
    }),
  ),
  ok(
    "layout",
    "BTC/USDT LONG 🚀\nTP1: 66000 (25%)\nTP2: 67000 (25%)\nTP3: 68000 (50%)\nSL: 62000\nLeverage: Isolated 8x",
    crypto("buy", "BTC/USDT", {
      stopLoss: 62000,
      takeProfits: tp([66000, 25], [67000, 25], [68000, 50]),
      leverage: 8,
    }),
  ),
];

/** BTO/STO/BTC/STC without a strike or an expiration trade shares. */
const SHARES_ABBREVIATION_CASES: SignalCase[] = [
  ok(
    "shares-abbreviation",
    "BTO AAPL 10 @ 190 SL 185",
    equity("buy", "AAPL", { quantity: 10, entry: { price: 190 }, stopLoss: 185 }),
  ),
  ok("shares-abbreviation", "STC AAPL 10 @ 195", equity("sell", "AAPL", { quantity: 10, entry: { price: 195 } })),
  ok(
    "shares-abbreviation",
    "STO TSLA 5 @ 250 SL 260",
    equity("short", "TSLA", { quantity: 5, entry: { price: 250 }, stopLoss: 260 }),
  ),
  ok("shares-abbreviation", "BTC AAPL 10 @ 180", equity("cover", "AAPL", { quantity: 10, entry: { price: 180 } })),
  ok("shares-abbreviation", "STC half NVDA", equity("sell", "NVDA", { quantityPercent: 50 })),
  ok(
    "shares-abbreviation",
    "BTO 100 shares of F @ 12.50",
    equity("buy", "F", { quantity: 100, entry: { price: 12.5 } }),
  ),
];

/** Mentions, author tags, parenthetical commentary and emoji carry no part of the signal. */
const NOISE_CASES: SignalCase[] = [
  ok(
    "noise",
    "<@&123456789012> @everyone **BUY $AAPL** @ 190 SL 185 (my favorite setup, 2nd time this week)",
    equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185 }),
  ),
  ok(
    "noise",
    "@here\n@TraderJoe Alert: BTO NVDA 12/20 140C @ 3.20",
    option("buy", ["NVDA", "2026-12-20", 140, "call"], { entry: { price: 3.2 } }),
  ),
  ok(
    "noise",
    "<@123456789> long ETH/USDT 3400 sl 3300 tp 3600 🚀🚀",
    crypto("buy", "ETH/USDT", { entry: { price: 3400 }, stopLoss: 3300, takeProfits: tp(3600) }),
  ),
  ok("noise", "@JOHN BUY AAPL 10 @ 190", equity("buy", "AAPL", { quantity: 10, entry: { price: 190 } })),
  ok(
    "noise",
    "BUY AAPL @ 190 SL 185 (swing, 2-3 weeks)",
    equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185 }),
  ),
  ok(
    "noise",
    "🚀 NVDA calls printing. BUY NVDA 15 @ 121.40 SL 115 TP 130",
    equity("buy", "NVDA", { quantity: 15, entry: { price: 121.4 }, stopLoss: 115, takeProfits: tp(130) }),
  ),
  ok(
    "noise",
    "BUY NVDA 15 @ 121.40 SL 115 TP 130 — calls printing",
    equity("buy", "NVDA", { quantity: 15, entry: { price: 121.4 }, stopLoss: 115, takeProfits: tp(130) }),
  ),
  ok(
    "noise",
    "BUY AMD 10 @ 150 SL 140, puts are for later",
    equity("buy", "AMD", { quantity: 10, entry: { price: 150 }, stopLoss: 140 }),
  ),
  ok(
    "noise",
    "BUY NVDA 15 @ 121.40 SL 115. Options are too pricey today.",
    equity("buy", "NVDA", { quantity: 15, entry: { price: 121.4 }, stopLoss: 115 }),
  ),
  ok("noise", "BUY AAPL @market", equity("buy", "AAPL")),
  ok("noise", "BUY AAPL (in at 190) SL 185", equity("buy", "AAPL", { entry: { price: 190 }, stopLoss: 185 })),
  ok(
    "noise",
    "Long BTC @ 65000 (above the 200 EMA) SL 63000",
    crypto("buy", "BTC/USD", { entry: { price: 65000 }, stopLoss: 63000 }),
  ),
  ok("noise", "BUY MA qty 1", equity("buy", "MA", { quantity: 1 })),
  ok("noise", "BUY ON 100 @ 75 SL 70", equity("buy", "ON", { quantity: 100, entry: { price: 75 }, stopLoss: 70 })),
  ok("noise", "BUY ALVO 10 @ 12 SL 11", equity("buy", "ALVO", { quantity: 10, entry: { price: 12 }, stopLoss: 11 })),
  bad("noise", "BUY THE DIP", "NOT_A_SIGNAL"),
  bad("noise", "BUY MORE @ 185", "UNKNOWN_SYMBOL"),
  bad("noise", "BUY NOW @ 190 SL 185", "UNKNOWN_SYMBOL"),
  bad("noise", "BUY STO 10 @ 190", "AMBIGUOUS_SIDE", "UNKNOWN_SYMBOL"),
  bad("noise", "LONG GTC", "NOT_A_SIGNAL"),
  bad("noise", "SPY calls\nBTO @ .85", "OPTION_MISSING_EXPIRATION", "OPTION_MISSING_STRIKE"),
  bad("noise", "BTO SOL 12/20 @ 150", "OPTION_MISSING_STRIKE", "OPTION_MISSING_RIGHT"),
];

/** Perpetual futures: `.P`, `PERP`, `-PERP` are the pair itself; SELL with leverage opens a short. */
const PERPETUAL_CASES: SignalCase[] = [
  ok(
    "perpetual",
    "SELL BTCUSDT.P\nLeverage: 20x\nEntry: 66000\nSL: 67000\nTP: 64000",
    crypto("short", "BTC/USDT", { entry: { price: 66000 }, stopLoss: 67000, takeProfits: tp(64000), leverage: 20 }),
  ),
  ok(
    "perpetual",
    "SHORT BTC-PERP @ 66000 SL 67000",
    crypto("short", "BTC/USD", { entry: { price: 66000 }, stopLoss: 67000 }),
  ),
  ok(
    "perpetual",
    "ETHUSDT PERP SELL Leverage 10x Entry 3400 SL 3500 TP 3200",
    crypto("short", "ETH/USDT", { entry: { price: 3400 }, stopLoss: 3500, takeProfits: tp(3200), leverage: 10 }),
  ),
  ok(
    "perpetual",
    "LONG SOLUSDT-PERP 140 SL 135 TP 150 x10",
    crypto("buy", "SOL/USDT", { entry: { price: 140 }, stopLoss: 135, takeProfits: tp(150), leverage: 10 }),
  ),
];

/** The keywords of Russian, Spanish and Portuguese crypto groups. */
const FOREIGN_CASES: SignalCase[] = [
  ok(
    "russian",
    "🚀 ЛОНГ BTCUSDT\nВход: 45000\nТП: 46000\nСЛ: 44000\nПлечо: 10x",
    crypto("buy", "BTC/USDT", { entry: { price: 45000 }, stopLoss: 44000, takeProfits: tp(46000), leverage: 10 }),
  ),
  ok(
    "russian",
    "ШОРТ #ETHUSDT\nВход: 3450-3500\nТП1: 3300\nТП2: 3200\nСЛ: 3600\nПлечо: 20х",
    crypto("short", "ETH/USDT", {
      entry: { low: 3450, high: 3500 },
      stopLoss: 3600,
      takeProfits: tp(3300, 3200),
      leverage: 20,
    }),
  ),
  ok(
    "russian",
    "#SOL/USDT лонг\nвход 140\nцели: 150, 160\nстоп: 130",
    crypto("buy", "SOL/USDT", { entry: { price: 140 }, stopLoss: 130, takeProfits: tp(150, 160) }),
  ),
  bad("russian", "ЛОНГ BTCUSDT\nВход: 45000\nСЛ: 46000", "STOP_WRONG_SIDE"),
  ok(
    "spanish",
    "📊 COMPRA BTC/USDT\nENTRADA: 64000\nOBJETIVO 1: 66000\nOBJETIVO 2: 68000\nSTOP LOSS: 62000\nApalancamiento: 10x",
    crypto("buy", "BTC/USDT", {
      entry: { price: 64000 },
      stopLoss: 62000,
      takeProfits: tp(66000, 68000),
      leverage: 10,
    }),
  ),
  ok(
    "spanish",
    "VENTA ETH/USDT\nENTRADA: 3400\nOBJETIVOS: 3300 - 3200\nSTOP: 3500\nApalancamiento: Cruzado 20x",
    crypto("short", "ETH/USDT", { entry: { price: 3400 }, stopLoss: 3500, takeProfits: tp(3300, 3200), leverage: 20 }),
  ),
  bad("spanish", "VENTA ETH/USDT\nENTRADA: 3400\nSTOP: 3500", "AMBIGUOUS_SIDE"),
  ok(
    "portuguese",
    "🚨 #SOL 🟢 COMPRA\n💰 SOL/USDT Futures\n📈 Alavancagem sugerida: 15x\n⚡️ Entrada: 245․50\n🎯 ALVOS:\n1️⃣ Alvo 1: 248․43\n2️⃣ Alvo 2: 251․37\n🛑 Stop Loss: 238․64",
    crypto("buy", "SOL/USDT", {
      entry: { price: 245.5 },
      stopLoss: 238.64,
      takeProfits: tp(248.43, 251.37),
      leverage: 15,
    }),
  ),
  ok(
    "portuguese",
    "VENDA BTC/USDT\nEntrada: 65000\nAlvo 1: 64000\nAlvo 2: 63000\nStop: 66000\nAlavancagem: 10x",
    crypto("short", "BTC/USDT", {
      entry: { price: 65000 },
      stopLoss: 66000,
      takeProfits: tp(64000, 63000),
      leverage: 10,
    }),
  ),
  ok("portuguese", "Compra 10 AAPL @ 190", equity("buy", "AAPL", { quantity: 10, entry: { price: 190 } })),
];

export const CHANNEL_CASES: SignalCase[] = [
  ...LIST_LABEL_CASES,
  ...EXIT_CASES,
  ...BREAKOUT_CASES,
  ...REFUSAL_CASES,
  ...LAYOUT_CASES,
  ...SHARES_ABBREVIATION_CASES,
  ...NOISE_CASES,
  ...PERPETUAL_CASES,
  ...FOREIGN_CASES,
];
