/**
 * Generic Cell Rate Algorithm. State is one number per key: the theoretical
 * arrival time (TAT). `limit` requests may arrive in any `periodMs` window,
 * including as an instant burst, and capacity refills smoothly.
 */

export interface RateLimitPolicy {
  limit: number;
  periodMs: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  remaining: number;
  retryAfterMs: number;
  /** The TAT to store: unchanged when the request is refused. */
  tat: number;
}

export function gcra(
  policy: RateLimitPolicy,
  storedTat: number | undefined,
  nowMs: number,
  cost = 1,
): RateLimitDecision {
  const emissionInterval = policy.periodMs / policy.limit;
  const tat = Math.max(storedTat ?? nowMs, nowMs);
  const newTat = tat + emissionInterval * cost;
  const allowAt = newTat - policy.periodMs;

  if (allowAt > nowMs) {
    return {
      allowed: false,
      remaining: 0,
      retryAfterMs: Math.ceil(allowAt - nowMs),
      tat,
    };
  }
  return {
    allowed: true,
    remaining: Math.floor((policy.periodMs - (newTat - nowMs)) / emissionInterval + 1e-9),
    retryAfterMs: 0,
    tat: newTat,
  };
}

export function assertValidPolicy(policy: RateLimitPolicy): void {
  if (!Number.isInteger(policy.limit) || policy.limit < 1) throw new RangeError("limit must be a positive integer");
  if (!Number.isFinite(policy.periodMs) || policy.periodMs < 1) throw new RangeError("periodMs must be positive");
}
