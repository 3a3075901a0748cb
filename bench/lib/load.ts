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

/**
 * Of several runs of one bench, the one with the median p99 (a run without one sorts last): what a bench reports
 * when one run's p99, a few samples from its top, moves too much from run to run to stand alone.
 */
export function medianRunByP99<T>(runs: readonly T[], p99Of: (run: T) => number | null | undefined): T | undefined {
  const sorted = [...runs].sort((a, b) => (p99Of(a) ?? Infinity) - (p99Of(b) ?? Infinity));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** One kind of request in a load run: where it goes, how it is built, what it should answer. */
export interface Lane {
  url: string;
  init?: LoadOptions["init"];
  expectStatus?: number;
}

/** What one lane saw during a run. */
class LaneTally {
  readonly target: URL;
  readonly latencies: number[] = [];
  readonly statuses: Record<string, number> = {};
  issued = 0;
  errors = 0;
  unexpected = 0;
  firstError: string | undefined;

  constructor(readonly lane: Lane) {
    this.target = new URL(lane.url);
    if (!LOOPBACK.has(this.target.hostname)) {
      throw new Error(`load targets loopback only, not ${this.target.hostname}`);
    }
  }

  /** Sends the lane's `index`th request and records its latency (send to end of body) or its failure. */
  async send(index: number, timeoutMs: number): Promise<void> {
    this.issued++;
    const init = this.lane.init;
    const base = typeof init === "function" ? await init(index) : (init ?? {});
    const t0 = performance.now();
    try {
      const response = await fetch(this.target, { ...base, signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      this.latencies.push(performance.now() - t0);
      this.statuses[response.status] = (this.statuses[response.status] ?? 0) + 1;
      if (this.lane.expectStatus !== undefined && response.status !== this.lane.expectStatus) this.unexpected++;
    } catch (error) {
      this.errors++;
      this.firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }

  result(durationMs: number, timedOut: boolean): LoadResult {
    return {
      requests: this.issued,
      completed: this.latencies.length,
      errors: this.errors,
      unexpected: this.unexpected,
      statuses: this.statuses,
      ...summarize(this.latencies),
      rps: round((this.latencies.length / durationMs) * 1000),
      durationMs: Math.round(durationMs),
      timedOut,
      ...(this.firstError ? { firstError: this.firstError } : {}),
    };
  }
}

function checkBudget(requests: number, concurrency: number): void {
  if (requests < 1 || concurrency < 1) throw new Error("requests and concurrency must be >= 1");
  if (requests > 1_000_000) throw new Error("requests is capped at 1,000,000");
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  checkBudget(options.requests, options.concurrency);
  const tally = new LaneTally({ url: options.url, init: options.init, expectStatus: options.expectStatus });
  const maxDurationMs = options.maxDurationMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let issued = 0;
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
      await tally.send(index, timeoutMs);
    }
  };

  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.requests) }, worker));
  return tally.result(performance.now() - started, timedOut);
}

/**
 * Several kinds of request side by side, in one closed loop: `concurrency` workers share a budget of
 * `requestsPerLane` per lane and take the lanes in strict turn (request i goes to lane i mod n), so every lane is
 * measured under the same load at the same moments. One result per lane, in the lanes' order. Bounded in count and
 * time; loopback only.
 */
export async function runInterleaved(options: {
  lanes: readonly Lane[];
  requestsPerLane: number;
  concurrency: number;
  maxDurationMs?: number;
  timeoutMs?: number;
}): Promise<LoadResult[]> {
  const total = options.requestsPerLane * options.lanes.length;
  checkBudget(total, options.concurrency);
  const tallies = options.lanes.map((lane) => new LaneTally(lane));
  const timeoutMs = options.timeoutMs ?? 10_000;
  let issued = 0;
  let timedOut = false;
  const started = performance.now();
  const deadline = started + (options.maxDurationMs ?? 120_000);

  const worker = async () => {
    while (issued < total) {
      if (performance.now() >= deadline) {
        timedOut = true;
        return;
      }
      const index = issued++;
      const tally = tallies[index % tallies.length];
      await tally?.send(Math.floor(index / tallies.length), timeoutMs);
    }
  };

  await Promise.all(Array.from({ length: Math.min(options.concurrency, total) }, worker));
  const durationMs = performance.now() - started;
  return tallies.map((tally) => tally.result(durationMs, timedOut));
}
