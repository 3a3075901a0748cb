import { spawn } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { medianRunByP99 } from "./load.ts";

/**
 * Runs bench files inside workerd (`vitest run --config
 * bench/workerd/vitest.config.ts <files>`) and collects the `BENCH_JSON `
 * lines they print, by bench name. vitest's own output goes to stderr.
 */

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const MARKER = "BENCH_JSON ";
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes in vitest's output.
const ANSI = /\u001b\[[0-9;]*m/g;
const NOISE = /^Sourcemap for ".*" points to missing source files$/;

export function runWorkerdBench(
  files: readonly string[],
  env: Record<string, string>,
  tag: string,
): Promise<{ code: number; figures: Record<string, unknown> }> {
  const args = ["vitest", "run", "--config", "bench/workerd/vitest.config.ts", ...files];
  return new Promise((resolve, reject) => {
    const child = spawn("npx", args, {
      cwd: ROOT,
      env: { ...process.env, ...env, NO_COLOR: "1", FORCE_COLOR: "0" },
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
              console.error(`[${tag}] unreadable figures line: ${(error as Error).message}`);
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

const round2 = (n: number) => Math.round(n * 100) / 100;

/** A run's p99, read from its figures (`roundTrip.p99Ms`, or whatever the bench names its headline figure). */
export type P99Of = (figures: Record<string, unknown>) => number | null;

/**
 * Runs one bench file inside workerd and prints its figures (`figuresName`) as one JSON line named `bench`, with
 * the CPU count, the load average before and after, the duration and where it ran. Exit code 1 without figures.
 *
 * `runs` above 1 runs the file that many times, one after another, and prints the run with the median p99
 * (`p99Of`), with every run's p99 in `p99AllRunsMs`: a p99 of a few hundred samples is their second or third
 * largest, and one stall moves it by hundreds of milliseconds from one run to the next on the same code.
 */
export async function printWorkerdBench(options: {
  bench: string;
  file: string;
  figuresName: string;
  where: string;
  runs?: number;
  p99Of?: P99Of;
}): Promise<void> {
  const loadBefore = loadavg().map(round2);
  const started = performance.now();
  const kept: { p99: number | null; figures: Record<string, unknown> }[] = [];
  const runs = Math.max(1, options.runs ?? 1);
  for (let run = 1; run <= runs; run++) {
    const { code, figures } = await runWorkerdBench([options.file], {}, options.bench);
    const mine = figures[options.figuresName] as Record<string, unknown> | undefined;
    if (code !== 0 || !mine) {
      console.error(`[${options.bench}] run ${run}: vitest exited ${code} without figures`);
      process.exitCode = 1;
      continue;
    }
    const p99 = options.p99Of?.(mine) ?? null;
    kept.push({ p99, figures: mine });
    if (runs > 1) console.error(`[${options.bench}] run ${run}/${runs}: p99 ${p99} ms`);
  }
  const median = medianRunByP99(kept, (run) => run.p99);
  console.log(
    JSON.stringify({
      bench: options.bench,
      ...median?.figures,
      ...(runs > 1 ? { runs, runsWithFigures: kept.length, p99AllRunsMs: kept.map((k) => k.p99) } : {}),
      cpus: availableParallelism(),
      loadAverage: { before: loadBefore, after: loadavg().map(round2) },
      durationS: Math.round((performance.now() - started) / 1000),
      where: options.where,
    }),
  );
}
