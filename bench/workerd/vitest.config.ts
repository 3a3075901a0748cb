import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig, type ViteUserConfig } from "vitest/config";
import { fakeDiscordWorker } from "../../scripts/lib/fake-discord-worker.ts";
import { TEST_VARS } from "../../tests/support/test-vars.ts";

/**
 * The execution benchmarks, inside workerd: the repo's vitest.config.ts (same
 * Worker, bindings, migrations and test-only flag) with bench files instead of
 * tests, long timeouts, one file at a time, and queue consumers tuned for
 * throughput. `npx tsx bench/execution.ts` runs it; `npm test` never sees these files.
 */

const ROOT = path.resolve(import.meta.dirname, "../..");

/** wrangler.toml's max_retries per queue (overrides replace wrangler's consumer settings, so repeat them). */
const consumer = (maxRetries: number, deadLetterQueue?: string) => ({
  maxBatchSize: 100,
  maxBatchTimeout: 0.05,
  maxRetries,
  ...(deadLetterQueue ? { deadLetterQueue } : {}),
});

/** Knobs from the runner's environment, visible to the bench files as string bindings. */
const BENCH_VARS = {
  BENCH_SEED: process.env.BENCH_SEED ?? String(Date.now() % 2 ** 31),
  BENCH_FANOUT_SIZES: process.env.BENCH_FANOUT_SIZES ?? "1000,10000",
  BENCH_FANOUT_RUNS: process.env.BENCH_FANOUT_RUNS ?? "3",
  BENCH_FANOUT_UNTIL: process.env.BENCH_FANOUT_UNTIL ?? "exits",
  BENCH_STORM_ORDERS: process.env.BENCH_STORM_ORDERS ?? "1000",
  BENCH_STORM_CONCURRENCY: process.env.BENCH_STORM_CONCURRENCY ?? "50",
  BENCH_ENGINE_LOGS: process.env.BENCH_ENGINE_LOGS ?? "0",
  BENCH_INTAKE_MESSAGES: process.env.BENCH_INTAKE_MESSAGES ?? "200",
  BENCH_INTAKE_FOLLOWERS: process.env.BENCH_INTAKE_FOLLOWERS ?? "10",
  BENCH_WEBHOOK_SIGNALS: process.env.BENCH_WEBHOOK_SIGNALS ?? "200",
  BENCH_WEBHOOK_FOLLOWERS: process.env.BENCH_WEBHOOK_FOLLOWERS ?? "10",
  BENCH_WEBHOOK_SIGNED: process.env.BENCH_WEBHOOK_SIGNED ?? "0",
  BENCH_PROFILE: process.env.BENCH_PROFILE ?? "0",
};

export default defineConfig(async (): Promise<ViteUserConfig> => {
  const migrations = await readD1Migrations(path.join(ROOT, "migrations"));
  return {
    root: ROOT,
    plugins: [
      cloudflareTest({
        wrangler: { configPath: path.join(ROOT, "wrangler.toml") },
        miniflare: {
          // Test-only, as in vitest.config.ts. Never deploy it.
          compatibilityFlags: ["service_binding_extra_handlers"],
          bindings: { ...TEST_VARS, ...BENCH_VARS, TEST_MIGRATIONS: migrations },
          // The fake Discord Gateway and REST API (the message intake bench), as in vitest.config.ts.
          serviceBindings: { FAKE_DISCORD: "fake-discord" },
          workers: [fakeDiscordWorker(ROOT)],
          queueConsumers: {
            "order-submissions": consumer(10, "order-submissions-dlq"),
            notifications: consumer(8, "notifications-dlq"),
            "billing-events": consumer(10, "billing-events-dlq"),
            "order-submissions-dlq": consumer(5),
            "notifications-dlq": consumer(5),
            "billing-events-dlq": consumer(5),
          },
        },
      }),
    ],
    test: {
      include: ["bench/workerd/**/*.bench-test.ts"],
      setupFiles: [path.join(ROOT, "tests/support/apply-migrations.ts")],
      fileParallelism: false,
      // A fan-out timed only until `queued` ends with its queue backlog still being consumed, which the environment's
      // teardown cuts off mid-call; those teardown errors say nothing about the figures.
      dangerouslyIgnoreUnhandledErrors: process.env.BENCH_FANOUT_UNTIL === "queued",
      testTimeout: 60 * 60_000,
      hookTimeout: 10 * 60_000,
      // Only the figures and error-level logs; the engine's per-order info/warn lines would drown them.
      onConsoleLog: (log: string) => log.startsWith("BENCH_") || log.includes('"level":"error"'),
    },
  };
});
