/**
 * A small closed-loop load generator: `concurrency` workers share a budget of
 * `requests` and each sends its next request as soon as the previous answer's
 * body has been read (or, with `ratePerSecond`, when its start time is due).
 * Latency is measured from sending to the end of the body. Bounded in count
 * and in time; loopback only.
 */

export interface LoadOptions {
  /** Absolute URL on 127.0.0.1 (or ::1 / localhost). */
  url: string;
  requests: number;
  concurrency: number;
  /** Stop issuing new requests after this long (default 60 s). */
  maxDurationMs?: number;
  /** Per-request timeout (default 10 s); a timeout counts as an error. */
  timeoutMs?: number;
  /** Request init, or a factory called per request (e.g. to sign each body). */
  init?: RequestInit | ((index: number) => RequestInit | Promise<RequestInit>);
  /** Status every answer should have; others are counted in `unexpected`. */
  expectStatus?: number;
  /** Optional pacing: start at most this many requests a second (open-loop arrivals, capped by concurrency). */
  ratePerSecond?: number;
}

export interface LatencySummary {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface LoadResult extends LatencySummary {
  requests: number;
  completed: number;
  errors: number;
  unexpected: number;
  statuses: Record<string, number>;
  rps: number;
  durationMs: number;
  timedOut: boolean;
  firstError?: string;
}

const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);
const round = (value: number) => Math.round(value * 100) / 100;

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export function summarize(latencies: readonly number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / (sorted.length || 1);
  return {
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
    meanMs: round(mean),
  };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const target = new URL(options.url);
  if (!LOOPBACK.has(target.hostname)) throw new Error(`load targets loopback only, not ${target.hostname}`);
  if (options.requests < 1 || options.concurrency < 1) throw new Error("requests and concurrency must be >= 1");
  if (options.requests > 1_000_000) throw new Error("requests is capped at 1,000,000");

  const maxDurationMs = options.maxDurationMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let issued = 0;
  let errors = 0;
  let unexpected = 0;
  let firstError: string | undefined;
  let timedOut = false;

  const started = performance.now();
  const deadline = started + maxDurationMs;

  const worker = async () => {
    while (issued < options.requests) {
      if (performance.now() >= deadline) {
        timedOut = true;
        return;
      }
      const index = issued++;
      if (options.ratePerSecond) {
        const due = started + (index * 1000) / options.ratePerSecond;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const base = typeof options.init === "function" ? await options.init(index) : (options.init ?? {});
      const t0 = performance.now();
      try {
        const response = await fetch(target, { ...base, signal: AbortSignal.timeout(timeoutMs) });
        await response.arrayBuffer();
        latencies.push(performance.now() - t0);
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        if (options.expectStatus !== undefined && response.status !== options.expectStatus) unexpected++;
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    }
  };

  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.requests) }, worker));
  const durationMs = performance.now() - started;
  return {
    requests: issued,
    completed: latencies.length,
    errors,
    unexpected,
    statuses,
    ...summarize(latencies),
    rps: round((latencies.length / durationMs) * 1000),
    durationMs: Math.round(durationMs),
    timedOut,
    ...(firstError ? { firstError } : {}),
  };
}
