import { env } from "cloudflare:workers";
import { afterAll, beforeAll } from "vitest";
import { summarize } from "../../lib/load";

/** A knob the runner passed as a string binding (bench/workerd/vitest.config.ts). */
export function benchVar(name: string, fallback: string): string {
  const value = (env as unknown as Record<string, unknown>)[name];
  return typeof value === "string" && value !== "" ? value : fallback;
}

/** Prints one bench's figures; bench/execution.ts collects every line with this marker. */
export function emitFigures(name: string, figures: Record<string, unknown>): void {
  console.log(`BENCH_JSON ${JSON.stringify({ name, ...figures })}`);
}

/** A progress line on the runner's stderr (kept by the bench config's console filter). */
export function progress(message: string): void {
  console.log(`BENCH_LOG ${message}`);
}

/** mulberry32: a small seeded PRNG, so fault sequences are reproducible from the printed seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function latencyFigures(values: readonly number[]) {
  const { p50Ms, p95Ms, p99Ms, maxMs, meanMs } = summarize(values);
  return { count: values.length, p50Ms, p95Ms, p99Ms, maxMs, meanMs };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Serially: the next signal waits until the last one's orders stop changing (sent, filled, exits placed, members
 * told), so each intake is measured without the previous fan-out's queue work on the same cores. In production the
 * queue consumers run in their own invocations.
 */
export async function quietOrders(communityId: string, quietMs = 200, maxMs = 10_000): Promise<void> {
  const started = Date.now();
  let last = "";
  let stableSince = Date.now();
  while (Date.now() - started < maxMs) {
    const row = await env.DB.prepare(
      "select count(*) as n, coalesce(max(updated_at), 0) as at from orders where community_id = ?",
    )
      .bind(communityId)
      .first<{ n: number; at: number }>();
    const snapshot = `${row?.n}:${row?.at}`;
    if (snapshot !== last) {
      last = snapshot;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) return;
    await sleep(25);
  }
}

/**
 * Drops the engine's info and warn log lines at the console. In workerd under
 * vitest every console call is captured with its stack and shipped to the
 * Node process, which costs far more than logging does in production and
 * would dominate the figures; errors still show. Returns the undo.
 */
export function muteEngineLogs(): () => void {
  const { log, info, warn } = console;
  const quiet =
    (write: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      const first = args[0];
      if (typeof first === "string" && (first.startsWith('{"level":"info"') || first.startsWith('{"level":"warn"')))
        return;
      write(...args);
    };
  console.log = quiet(log);
  console.info = quiet(info);
  console.warn = quiet(warn);
  return () => {
    Object.assign(console, { log, info, warn });
  };
}

/** Mutes the engine's log lines for the bench file's run (BENCH_ENGINE_LOGS=1 keeps them). */
export function muteEngineLogsDuringRun(): void {
  let unmute: () => void = () => {};
  beforeAll(() => {
    if (benchVar("BENCH_ENGINE_LOGS", "0") !== "1") unmute = muteEngineLogs();
  });
  afterAll(() => unmute());
}

/** `prefix` + three letters: tickers no list or word takes for something else, one per signal. */
export function benchTicker(prefix: string, n: number): string {
  const letter = (i: number) => String.fromCharCode(65 + (i % 26));
  return `${prefix}${letter(Math.floor(n / 676))}${letter(Math.floor(n / 26))}${letter(n)}`;
}

/** What `bench/profile-workerd.ts` explains: one measured operation, from and to in epoch ms. */
export interface ProfiledSpan {
  label: string;
  from: number;
  to: number;
}

const profiling = () => benchVar("BENCH_PROFILE", "0") === "1";

/**
 * The measured part begins: under `bench/profile-workerd.ts` (BENCH_PROFILE=1), tells it to start the CPU profiler
 * and waits for it to attach; otherwise does nothing.
 */
export async function profileStarts(): Promise<void> {
  if (!profiling()) return;
  console.log("BENCH_PROFILE_START");
  await sleep(3_000);
}

/** The measured part ended: under the profiler, hands it the spans to explain and waits while it stops. */
export async function profileEnds(spans: readonly ProfiledSpan[]): Promise<void> {
  if (!profiling()) return;
  console.log(`BENCH_PROFILE_SPANS ${JSON.stringify(spans)}`);
  await sleep(8_000);
}
