/**
 * A circuit breaker for one broker across all accounts: when most recent calls
 * fail with server errors or timeouts, submissions pause for a cool-down (the
 * orders stay queued), then a single probe decides whether to resume. Pure:
 * the state is plain data that the caller stores.
 */

export const BREAKER_DEFAULTS = {
  /** Outcomes remembered. */
  window: 50,
  /** No verdict on fewer calls than this. */
  minimumCalls: 20,
  /** Open when more than this share of the window failed. */
  failureRatio: 0.5,
  coolDownMs: 60_000,
  /** A probe that never reports back is given up after this long. */
  probeTimeoutMs: 30_000,
} as const;

type BreakerPhase = "closed" | "open" | "half_open";

export interface BreakerState {
  phase: BreakerPhase;
  /** Most recent last; true = the call succeeded (or failed for a reason that is not the broker's health). */
  outcomes: boolean[];
  openedAt: number | null;
  probeStartedAt: number | null;
  /** How many times it opened, for the metrics. */
  trips: number;
}

export const CLOSED_BREAKER: BreakerState = {
  phase: "closed",
  outcomes: [],
  openedAt: null,
  probeStartedAt: null,
  trips: 0,
};

export type BreakerVerdict =
  | { allow: true; probe: boolean; state: BreakerState }
  | { allow: false; retryAfterMs: number; state: BreakerState };

/** May a call go to the broker now? In half-open, only one probe at a time is let through. */
export function admit(state: BreakerState, now: number, options = BREAKER_DEFAULTS): BreakerVerdict {
  if (state.phase === "closed") return { allow: true, probe: false, state };
  if (state.phase === "open") {
    const reopensAt = (state.openedAt ?? now) + options.coolDownMs;
    if (now < reopensAt) return { allow: false, retryAfterMs: reopensAt - now, state };
    return { allow: true, probe: true, state: { ...state, phase: "half_open", probeStartedAt: now } };
  }
  const probeRunning = state.probeStartedAt !== null && now - state.probeStartedAt < options.probeTimeoutMs;
  if (probeRunning)
    return { allow: false, retryAfterMs: options.probeTimeoutMs - (now - (state.probeStartedAt ?? now)), state };
  return { allow: true, probe: true, state: { ...state, probeStartedAt: now } };
}

/** Records a call's outcome; returns the new state and whether it just opened or closed. */
export function record(
  state: BreakerState,
  ok: boolean,
  now: number,
  options = BREAKER_DEFAULTS,
): { state: BreakerState; changed: "opened" | "closed" | null } {
  if (state.phase === "half_open") {
    if (ok) return { state: { ...CLOSED_BREAKER, trips: state.trips }, changed: "closed" };
    return { state: { ...state, phase: "open", openedAt: now, probeStartedAt: null }, changed: "opened" };
  }
  if (state.phase === "open") return { state, changed: null };
  const outcomes = [...state.outcomes, ok].slice(-options.window);
  const failures = outcomes.filter((o) => !o).length;
  if (outcomes.length >= options.minimumCalls && failures / outcomes.length > options.failureRatio) {
    return {
      state: { phase: "open", outcomes: [], openedAt: now, probeStartedAt: null, trips: state.trips + 1 },
      changed: "opened",
    };
  }
  return { state: { ...state, outcomes }, changed: null };
}
