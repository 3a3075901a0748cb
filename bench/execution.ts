import { availableParallelism, loadavg } from "node:os";
import { runWorkerdBench } from "./lib/workerd-vitest";

/**
 * The execution engine's benchmarks (issue 7, docs/architecture.md §10), inside workerd:
 * runs bench/workerd/{fan-out,fault-storm}.bench-test.ts through vitest with
 * bench/workerd/vitest.config.ts, collects the `BENCH_JSON ` lines they print,
 * and prints one JSON line with every figure on stdout (vitest's output goes to
 * stderr). Knobs: BENCH_SEED, BENCH_FANOUT_SIZES (default "1000,10000"),
 * BENCH_FANOUT_RUNS (3), BENCH_STORM_ORDERS (1000), BENCH_STORM_CONCURRENCY
 * (50), BENCH_ENGINE_LOGS=1 (keep the engine's info/warn logs), and
 * BENCH_ONLY=fan-out|fault-storm to run one file.
 */

const round2 = (n: number) => Math.round(n * 100) / 100;

async function main(): Promise<void> {
  const seed = process.env.BENCH_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
  console.error(`[execution] seed ${seed} (BENCH_SEED=${seed} reproduces the fault sequences)`);
  const loadBefore = loadavg().map(round2);
  const started = performance.now();
  const only = process.env.BENCH_ONLY;
  // Its own files only: bench/message-intake.ts runs the intake bench of the same folder.
  const files = (only ? [only] : ["fan-out", "fault-storm"]).map((name) => `bench/workerd/${name}.bench-test.ts`);
  const { code, figures } = await runWorkerdBench(files, { BENCH_SEED: seed }, "execution");
  const durationS = Math.round((performance.now() - started) / 1000);
  const expected = files.length;
  if (code !== 0 || Object.keys(figures).length < expected) {
    console.error(`[execution] vitest exited ${code} with ${Object.keys(figures).length} figure sets`);
    process.exitCode = 1;
  }
  console.log(
    JSON.stringify({
      bench: "execution",
      seed: Number(seed),
      ...figures,
      cpus: availableParallelism(),
      loadAverage: { before: loadBefore, after: loadavg().map(round2) },
      durationS,
      where: "workerd via @cloudflare/vitest-plugin (miniflare: local D1, Durable Objects, Queues)",
    }),
  );
}

main().catch((error: unknown) => {
  console.error(`[execution] ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  process.exit(1);
});
