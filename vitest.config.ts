import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig, type ViteUserConfig } from "vitest/config";
import { fakeDiscordWorker } from "./scripts/lib/fake-discord-worker.ts";
import { TEST_VARS } from "./tests/support/test-vars.ts";

const queueConsumer = (deadLetterQueue?: string) => ({
  // Overrides replace wrangler's consumer settings, so repeat retries and the DLQ here.
  maxBatchSize: 10,
  maxBatchTimeout: 0.05,
  maxRetries: 2,
  retryDelay: 0,
  ...(deadLetterQueue ? { deadLetterQueue } : {}),
});

/** Instrumented code runs several times slower (and CI shares two cores): coverage runs get longer timeouts. */
const coverageRun = process.argv.some((arg) => arg === "--coverage" || arg.startsWith("--coverage."));

export default defineConfig(async (): Promise<ViteUserConfig> => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          // Test-only: lets integration tests call exports.default.queue()/scheduled(). Never deploy it.
          compatibilityFlags: ["service_binding_extra_handlers"],
          bindings: { ...TEST_VARS, TEST_MIGRATIONS: migrations },
          // Test-only: the gateway tests route Discord's URLs here (tests/support/fake-discord.ts).
          serviceBindings: { FAKE_DISCORD: "fake-discord" },
          workers: [fakeDiscordWorker(import.meta.dirname)],
          queueConsumers: {
            "order-submissions": queueConsumer("order-submissions-dlq"),
            notifications: queueConsumer("notifications-dlq"),
            "billing-events": queueConsumer("billing-events-dlq"),
            "order-submissions-dlq": queueConsumer(),
            "notifications-dlq": queueConsumer(),
            "billing-events-dlq": queueConsumer(),
          },
        },
      }),
    ],
    test: {
      include: ["tests/**/*.test.ts"],
      setupFiles: ["./tests/support/apply-migrations.ts"],
      // A fresh machine runs each test in well under a second; the margin is for a machine shared with other work.
      testTimeout: coverageRun ? 30_000 : 15_000,
      hookTimeout: coverageRun ? 60_000 : 20_000,
      // Access logs and expected 4xx rejections drown test output; other warnings and errors still show.
      onConsoleLog: (log: string) => !log.includes('"level":"info"') && !log.includes('"msg":"request.rejected"'),
      // CI reads the pass/fail counts from the JSON report (.ci/run).
      reporters: process.env.CI ? ["default", ["json", { outputFile: ".ci/results/vitest.json" }]] : ["default"],
      // On with `npm test -- --coverage` (CI). Istanbul instruments the source, which works inside workerd (v8
      // coverage does not); .ci/check-coverage.mjs compares the summary with the floor in .ci/coverage-floor.json.
      coverage: {
        provider: "istanbul",
        include: ["shared/**/*.ts", "durable-objects/**/*.ts"],
        reporter: ["text-summary", "json-summary"],
        reportsDirectory: ".ci/results/coverage",
        // CI prints the figures even when a test fails.
        reportOnFailure: true,
      },
    },
  };
});
