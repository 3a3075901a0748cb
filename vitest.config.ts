import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { buildSync } from "esbuild";
import { defineConfig, type ViteUserConfig } from "vitest/config";
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

/**
 * The fake Discord, an auxiliary worker bundled from tests/support/fake-discord/ (esbuild comes with the vitest
 * plugin), so the DiscordGateway object's outbound WebSocket meets a real workerd WebSocket server.
 */
function fakeDiscordWorker() {
  const bundle = buildSync({
    entryPoints: [path.join(import.meta.dirname, "tests/support/fake-discord/worker.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    external: ["cloudflare:workers"],
    write: false,
  });
  return {
    name: "fake-discord",
    modules: true,
    script: bundle.outputFiles[0]?.text ?? "",
    compatibilityDate: "2026-10-01",
    durableObjects: { FAKE_GATEWAY: { className: "FakeGateway", useSQLite: true } },
  };
}

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
          workers: [fakeDiscordWorker()],
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
      testTimeout: coverageRun ? 30_000 : 5_000,
      hookTimeout: coverageRun ? 60_000 : 10_000,
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
