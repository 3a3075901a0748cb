import { BROKER_IDS } from "../../shared/brokers/ids";
import type { BreakerState } from "../../shared/execution/circuit-breaker";
import { rateLimiterFor } from "../objects";
import { breakerName } from "./broker-guard";

/** Every live broker's breaker, for GET /api/v1/ops/metrics. */
export async function breakerStates(env: Env): Promise<{ broker: string; state: BreakerState }[]> {
  const live = BROKER_IDS.filter((b) => b !== "paper");
  return Promise.all(
    live.map(async (broker) => ({
      broker,
      state: await rateLimiterFor(env, breakerName(broker)).breakerState(breakerName(broker)),
    })),
  );
}
