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
 * BENCH_ONLY=fan-out|fault-storm to run one file. BENCH_FANOUT_UNTIL=queued
 * times each fan-out run only until every entry is persisted and queued, each
 * run in its own workerd process (its queue backlog dies with it).
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
  const { code, figures } =
    process.env.BENCH_FANOUT_UNTIL === "queued" && files.length === 1 && files[0]?.includes("fan-out")
      ? await fanOutRunsInOwnProcesses(files, seed)
      : await runWorkerdBench(files, { BENCH_SEED: seed }, "execution");
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

interface FanOutFigures {
  target?: unknown;
  followers: number;
  measuredUntil: string;
  perRun: { submitMs: number; entriesPersisted: number }[];
}

/** One process per run; the per-size figures of every run, pooled. */
async function fanOutRunsInOwnProcesses(files: readonly string[], seed: string) {
  const runs = Number(process.env.BENCH_FANOUT_RUNS ?? "3");
  const pooled = new Map<string, FanOutFigures>();
  let code = 0;
  for (let run = 1; run <= runs; run++) {
    const result = await runWorkerdBench(files, { BENCH_SEED: seed, BENCH_FANOUT_RUNS: "1" }, "execution");
    code ||= result.code;
    for (const [name, value] of Object.entries(result.figures)) {
      const figures = value as FanOutFigures;
      const into = pooled.get(name);
      if (into) into.perRun.push(...figures.perRun);
      else pooled.set(name, { ...figures, perRun: [...figures.perRun] });
    }
  }
  const figures: Record<string, unknown> = {};
  for (const [name, { target, followers, measuredUntil, perRun }] of pooled) {
    const submits = perRun.map((r) => r.submitMs).sort((a, b) => a - b);
    figures[name] = {
      target,
      followers,
      measuredUntil,
      runs: perRun.length,
      processPerRun: true,
      persistedAndQueued: { medianMs: submits[Math.floor(submits.length / 2)], maxMs: submits.at(-1) },
      everyRunPersistedAll: perRun.every((r) => r.entriesPersisted === followers),
      perRun,
    };
  }
  return { code, figures };
}

main().catch((error: unknown) => {
  console.error(`[execution] ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  process.exit(1);
});
