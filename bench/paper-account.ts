import { performance } from "node:perf_hooks";
import type { BrokerOrderIntent } from "../shared/brokers/adapter";
import { MemoryPaperAccountStore, PaperBrokerAdapter } from "../shared/brokers/paper/adapter";
import type { Quote, QuoteSource } from "../shared/quotes/quote";

/**
 * What one paper order costs as a member's history grows (the executor's paper desk reads, copies and writes the
 * whole account on every call, on the object that also takes the community's signals). Two members place the same
 * number of market orders, 100 a day: one over BENCH_PAPER_DAYS days (60), whose account keeps only the last week of
 * finished orders (paper-broker spec), and one all within a day, whose account keeps every order, as every account
 * did before. Then each places BENCH_PAPER_ORDERS (200) more, timed. Pure engine and adapter in Node, with the
 * in-memory store (a JSON copy per load and save, as the object's SQLite row is): no workerd. One JSON line.
 */

const DAY_MS = 24 * 60 * 60_000;
const params = {
  days: Number(process.env.BENCH_PAPER_DAYS ?? 60),
  perDay: 100,
  timed: Number(process.env.BENCH_PAPER_ORDERS ?? 200),
};

function member(spreadOverDays: boolean) {
  let now = Date.parse("2026-10-01T15:00:00Z");
  const quotes: QuoteSource = {
    async getQuote(instrument) {
      const at = new Date(now).toISOString();
      return {
        symbol: instrument.symbol,
        bid: 99.9,
        ask: 100,
        last: 100,
        timestamp: at,
        source: "bench",
        delayed: false,
      } satisfies Quote;
    },
  };
  const store = new MemoryPaperAccountStore();
  const adapter = new PaperBrokerAdapter({ store, quotes, clock: () => now, account: { startingCash: 1e9 } });
  const place = (n: number) => {
    const intent: BrokerOrderIntent = {
      clientOrderId: crypto.randomUUID(),
      assetClass: "equity",
      symbol: "AAPL",
      option: null,
      side: n % 2 ? "sell" : "buy",
      orderType: "market",
      quantity: 1,
      limitPrice: null,
      stopPrice: null,
      timeInForce: "gtc",
    };
    return adapter.placeOrder(intent);
  };
  return {
    async history() {
      for (let day = 0; day < params.days; day++) {
        for (let n = 0; n < params.perDay; n++) await place(n);
        now += spreadOverDays ? DAY_MS : 60_000;
      }
    },
    async timed() {
      const times: number[] = [];
      for (let n = 0; n < params.timed; n++) {
        const started = performance.now();
        await place(n);
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      const account = await store.load();
      const round = (x: number) => Math.round(x * 100) / 100;
      return {
        ordersKept: Object.keys(account?.orders ?? {}).length,
        accountKb: Math.round(JSON.stringify(account).length / 1024),
        placeOrderP50Ms: round(times[Math.floor(times.length / 2)] ?? 0),
        placeOrderP99Ms: round(times[Math.ceil(times.length * 0.99) - 1] ?? 0),
      };
    },
  };
}

async function main(): Promise<void> {
  const figures: Record<string, unknown> = {};
  for (const [name, spread] of [
    ["weekKept", true],
    ["everyOrderKept", false],
  ] as const) {
    const account = member(spread);
    await account.history();
    figures[name] = await account.timed();
  }
  console.log(JSON.stringify({ bench: "paper-account", params, ...figures }));
}

main().catch((error: unknown) => {
  console.error(`[paper-account] ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  process.exit(1);
});
