import type { BrokerCapabilities } from "../../shared/brokers/adapter";
import { throttlePolicy } from "../../shared/brokers/adapter";
import { rateLimiterFor } from "../objects";

/** What stands between the engine and a live broker: the broker's circuit breaker and the account's throttle. */
export interface BrokerGuard {
  admit(): Promise<{ ok: true } | { ok: false; retryAfterMs: number; reason: "circuit_open" | "throttled" }>;
  /** ok=false only for the broker's health (5xx, timeouts, unknown outcomes), not for a refused order. */
  record(ok: boolean): Promise<void>;
}

export const breakerName = (broker: string) => `breaker:${broker}`;

export function brokerGuard(
  env: Env,
  broker: string,
  accountRef: string,
  capabilities: BrokerCapabilities,
): BrokerGuard {
  const breaker = rateLimiterFor(env, breakerName(broker));
  const throttleKey = `throttle:${broker}:${accountRef}`;
  const throttle = rateLimiterFor(env, throttleKey);
  const policy = throttlePolicy(capabilities);
  return {
    async admit() {
      const verdict = await breaker.breakerAdmit(breakerName(broker));
      if (!verdict.allow) return { ok: false, retryAfterMs: verdict.retryAfterMs, reason: "circuit_open" };
      const limited = await throttle.limit(throttleKey, policy);
      if (!limited.allowed) return { ok: false, retryAfterMs: limited.retryAfterMs, reason: "throttled" };
      return { ok: true };
    },
    async record(ok) {
      await breaker.breakerRecord(breakerName(broker), ok);
    },
  };
}
