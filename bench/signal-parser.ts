import { availableParallelism } from "node:os";
import { formatSignal } from "../shared/signals/format.ts";
import { parseSignal } from "../shared/signals/parser.ts";

/**
 * Signal parser throughput: parseSignal over a realistic corpus of Discord signals (stocks, options, crypto
 * copy-trading layouts, chat and broken signals), in-process on V8 (the engine workerd runs; the parser is pure,
 * so no server is involved). Each message is also formatted back when it parses, as the bot does to echo it.
 * One JSON line on stdout. BENCH_SECONDS overrides the measuring time (default 3).
 */

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const NOW = new Date("2026-11-23T15:00:00Z");

const CORPUS = [
  "BUY AAPL 10 @ 190.50 SL 185 TP 195",
  "$TSLA long 250-252 stop 245 targets 260, 270",
  "buy 100 shares of MSFT at 410 limit, stop loss 400",
  "BUY 10 AAPL MKT",
  "sell short 50 GME @ 25.40 stop 27",
  "Cover GME",
  "Close AAPL",
  "Trim 50% NVDA",
  "🚀 **BUY $NVDA** @ 1,250.50 SL 1,200 TP 1,300 🚀",
  "🚨 NEW TRADE ALERT 🚨\n\nBUY $COIN @ 210 SL 199 TP 230",
  "• Ticker: $PLTR\n• Side: BUY\n• Entry: 24.10\n• SL: 22.90\n• TP: 26.00 / 28.00",
  "BTO AAPL 12/20 190C @ 2.50",
  "STC SPY 450P 1/15/2027 @ 3.10",
  "Buy to open QQQ 12/18/2026 500 call @ 1.20",
  "BTO 2x QQQ 12/11 500c @1.20",
  "🔥 **BTO** $NVDA 12/20 140C @ 3.20 🔥\nSL 2.00 | TP 5.00",
  "BTC SPY 12/19 430P @ 0.50",
  "LONG BTC/USDT entry 64000-64500 SL 62000 TP1 66000 TP2 68000 leverage 5x",
  "SHORT ETHUSDT 3400 sl 3550 tp 3200",
  "BTC long 65k sl 63.5k tp 70k",
  "📈 #BTC/USDT\nDirection: LONG\nEntry Zone: 64000 - 64500\nLeverage: Cross 10x\nTargets:\n1) 66000\n2) 68000\nStop-Loss: 62000",
  "🟢 LONG #SOLUSDT\n🎯 Targets:\n1️⃣ 150\n2️⃣ 160\n3️⃣ 170\n🛑 Stop: 130\n💰 Entry: 140 - 142\n⚡ Leverage: Isolated 10x",
  "📊 Pair: AVAX/USDT\n📈 Direction: Long\n💵 Entry: 35.5\n🎯 TP1: 37 (30%)\n🎯 TP2: 39 (30%)\n🎯 TP3: 42 (40%)\n⛔ SL: 33",
  "I think the market looks bullish today",
  "gm everyone, good luck today 🚀",
  "BUY AAPL @ 190 SL 195 TP 180",
  "BTO AAPL 12/20 @ 2.50",
  "Direction: SIDEWAYS\nPair: BTC/USDT\nEntry: 64000\nSL: 62000",
];

function main(): void {
  let parsedOk = 0;
  for (const text of CORPUS) if (parseSignal(text, { now: NOW }).ok) parsedOk++;

  const samples: number[] = [];
  const warmUntil = performance.now() + 500;
  while (performance.now() < warmUntil) for (const text of CORPUS) parseSignal(text, { now: NOW });

  let parses = 0;
  let checksum = 0;
  const started = performance.now();
  const stopAt = started + SECONDS * 1000;
  while (performance.now() < stopAt) {
    for (const text of CORPUS) {
      const t0 = performance.now();
      const result = parseSignal(text, { now: NOW });
      if (result.ok) checksum += formatSignal(result.signal).length;
      else checksum += result.errors.length;
      samples.push(performance.now() - t0);
      parses++;
    }
  }
  const elapsedMs = performance.now() - started;
  samples.sort((a, b) => a - b);
  const quantile = (q: number) =>
    Math.round((samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0) * 1000) / 1000;

  console.log(
    JSON.stringify({
      bench: "signal-parser",
      corpus: CORPUS.length,
      corpusParsedOk: parsedOk,
      parses,
      seconds: Math.round(elapsedMs) / 1000,
      signalsPerSecond: Math.round((parses / elapsedMs) * 1000),
      latencyMs: { p50: quantile(0.5), p99: quantile(0.99), max: quantile(1) },
      checksum,
      node: process.version,
      cpus: availableParallelism(),
    }),
  );
}

try {
  main();
} catch (error) {
  console.error(`[signal-parser] ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  process.exit(1);
}
