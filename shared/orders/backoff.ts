/**
 * Retry delays for order submission: exponential with full jitter (a uniform
 * delay between 0 and min(cap, base × 2^(attempt − 1))), never shorter than
 * the broker's Retry-After.
 */
export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  /** From the broker's Retry-After; the delay is never less. */
  retryAfterMs?: number | null;
  /** Uniform in [0, 1). Inject it for deterministic results; defaults to Math.random. */
  random?: () => number;
}

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 300_000;

/** `attempt` is 1 for the first retry (Queues' `message.attempts` after the first failure). */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? BACKOFF_BASE_MS;
  const cap = options.capMs ?? BACKOFF_CAP_MS;
  const random = options.random ?? Math.random;
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const ceiling = Math.min(cap, base * 2 ** Math.min(exponent, 52));
  const jittered = Math.floor(Math.min(Math.max(random(), 0), 1) * ceiling);
  return Math.max(jittered, Math.ceil(options.retryAfterMs ?? 0));
}

/**
 * A Retry-After header as milliseconds: delta-seconds or an HTTP date
 * (relative to `now`). Null when absent or unreadable.
 */
export function parseRetryAfterMs(header: string | null | undefined, now: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** Queues take whole seconds (at most 12 hours). */
export function toDelaySeconds(delayMs: number): number {
  return Math.min(43_200, Math.max(0, Math.ceil(delayMs / 1000)));
}
