import { describe, expect, it } from "vitest";
import {
  admit,
  BREAKER_DEFAULTS,
  type BreakerState,
  CLOSED_BREAKER,
  record,
} from "../../../shared/execution/circuit-breaker";

const T0 = 1_800_000_000_000;

function failTimes(state: BreakerState, n: number, now = T0): ReturnType<typeof record> {
  let result: ReturnType<typeof record> = { state, changed: null };
  for (let i = 0; i < n; i += 1) result = record(result.state, false, now);
  return result;
}

describe("the broker circuit breaker", () => {
  it("stays closed below the minimum number of calls, then opens when most calls failed", () => {
    const under = failTimes(CLOSED_BREAKER, BREAKER_DEFAULTS.minimumCalls - 1);
    expect(under).toMatchObject({ changed: null, state: { phase: "closed" } });
    const opened = record(under.state, false, T0);
    expect(opened).toMatchObject({ changed: "opened", state: { phase: "open", openedAt: T0, trips: 1, outcomes: [] } });
  });

  it("holds calls while open and tells how long, then lets one probe through after the cool-down", () => {
    const { state: open } = failTimes(CLOSED_BREAKER, BREAKER_DEFAULTS.minimumCalls);
    expect(admit(open, T0 + 1_000)).toMatchObject({ allow: false, retryAfterMs: BREAKER_DEFAULTS.coolDownMs - 1_000 });
    expect(record(open, true, T0 + 1_000)).toEqual({ state: open, changed: null });

    const probe = admit(open, T0 + BREAKER_DEFAULTS.coolDownMs);
    expect(probe).toMatchObject({ allow: true, probe: true, state: { phase: "half_open" } });
    // A second caller waits while the probe runs; a probe that never reports back is given up.
    expect(admit(probe.state, T0 + BREAKER_DEFAULTS.coolDownMs + 1_000)).toMatchObject({ allow: false });
    const late = T0 + BREAKER_DEFAULTS.coolDownMs + BREAKER_DEFAULTS.probeTimeoutMs;
    expect(admit(probe.state, late)).toMatchObject({ allow: true, probe: true, state: { probeStartedAt: late } });
  });

  it("closes on a successful probe and opens again on a failed one", () => {
    const { state: open } = failTimes(CLOSED_BREAKER, BREAKER_DEFAULTS.minimumCalls);
    const { state: halfOpen } = admit(open, T0 + BREAKER_DEFAULTS.coolDownMs);
    expect(record(halfOpen, true, T0 + 61_000)).toEqual({ state: { ...CLOSED_BREAKER, trips: 1 }, changed: "closed" });
    expect(record(halfOpen, false, T0 + 61_000)).toMatchObject({
      changed: "opened",
      state: { phase: "open", openedAt: T0 + 61_000, probeStartedAt: null },
    });
  });

  it("lets every call through while closed", () => {
    expect(admit(CLOSED_BREAKER, T0)).toEqual({ allow: true, probe: false, state: CLOSED_BREAKER });
  });
});
