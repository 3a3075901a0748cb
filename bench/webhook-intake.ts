import { printWorkerdBench } from "./lib/workerd-vitest";

/**
 * Webhook intake (issue 16, docs/architecture.md §10: a webhook signal to `signal.accepted`, p99 under 50 ms
 * serially), inside workerd: runs bench/workerd/webhook-signal.bench-test.ts and prints one JSON line with its
 * figures, the CPU count and the load average. `webhook-signal.ts` measures the same path end to end through
 * `wrangler dev`. Knobs: BENCH_WEBHOOK_SIGNALS (200), BENCH_WEBHOOK_FOLLOWERS (10), BENCH_WEBHOOK_SIGNED=1 (each
 * alert signed with x-signature, verified through the credential vault), BENCH_ENGINE_LOGS=1,
 * BENCH_WEBHOOK_RUNS (3: the run with the median round-trip p99 is printed, every run's p99 in `p99AllRunsMs`).
 */
printWorkerdBench({
  bench: "webhook-intake",
  file: "bench/workerd/webhook-signal.bench-test.ts",
  figuresName: "webhookSignal",
  runs: Number(process.env.BENCH_WEBHOOK_RUNS ?? 3),
  p99Of: (figures) => (figures.roundTrip as { p99Ms?: number } | undefined)?.p99Ms ?? null,
  where: "workerd via @cloudflare/vitest-plugin (miniflare: local D1, Durable Objects, Queues; fake Discord API)",
}).catch((error: unknown) => {
  console.error(`[webhook-intake] ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  process.exit(1);
});
