import { spawn } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The execution engine's benchmarks (issue 7, docs/architecture.md §10), inside workerd:
 * runs bench/workerd/*.bench-test.ts through vitest with
 * bench/workerd/vitest.config.ts, collects the `BENCH_JSON ` lines they print,
 * and prints one JSON line with every figure on stdout (vitest's output goes to
 * stderr). Knobs: BENCH_SEED, BENCH_FANOUT_SIZES (default "1000,10000"),
 * BENCH_FANOUT_RUNS (3), BENCH_STORM_ORDERS (1000), BENCH_STORM_CONCURRENCY
 * (50), BENCH_ENGINE_LOGS=1 (keep the engine's info/warn logs), and
 * BENCH_ONLY=fan-out|fault-storm to run one file.
 */

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const MARKER = "BENCH_JSON ";
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes in vitest's output.
const ANSI = /\u001b\[[0-9;]*m/g;
const NOISE = /^Sourcemap for ".*" points to missing source files$/;

const round2 = (n: number) => Math.round(n * 100) / 100;

function runVitest(seed: string): Promise<{ code: number; figures: Record<string, unknown> }> {
  const only = process.env.BENCH_ONLY;
  const args = ["vitest", "run", "--config", "bench/workerd/vitest.config.ts"];
  if (only) args.push(`bench/workerd/${only}.bench-test.ts`);
  return new Promise((resolve, reject) => {
    const child = spawn("npx", args, {
      cwd: ROOT,
      env: { ...process.env, BENCH_SEED: seed, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const figures: Record<string, unknown> = {};
    const onLines = () => {
      let buffered = "";
      return (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        for (const raw of lines) {
          const line = raw.replace(ANSI, "");
          const at = line.indexOf(MARKER);
          if (at >= 0) {
            try {
              const { name, ...rest } = JSON.parse(line.slice(at + MARKER.length)) as { name: string };
              figures[name] = rest;
            } catch (error) {
              console.error(`[execution] unreadable figures line: ${(error as Error).message}`);
            }
          }
          if (!NOISE.test(line.trim())) console.error(line);
        }
      };
    };
    child.stdout.on("data", onLines());
    child.stderr.on("data", onLines());
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), figures }));
  });
}

async function main(): Promise<void> {
  const seed = process.env.BENCH_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
  console.error(`[execution] seed ${seed} (BENCH_SEED=${seed} reproduces the fault sequences)`);
  const loadBefore = loadavg().map(round2);
  const started = performance.now();
  const { code, figures } = await runVitest(seed);
  const durationS = Math.round((performance.now() - started) / 1000);
  const expected = process.env.BENCH_ONLY ? 1 : 2;
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
