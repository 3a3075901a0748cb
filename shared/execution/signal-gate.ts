/**
 * The checks a signal passes before any follower is looked at: staleness, the
 * double-post window, conflicting directions and same-direction adds. Pure:
 * the executor supplies what it remembers and applies the verdict.
 */
import { instrumentKey } from "../quotes/instrument";
import type { OptionContract } from "../risk/types";

export const DEFAULT_MAX_SIGNAL_AGE_SECONDS = 60;
export const DOUBLE_POST_WINDOW_MS = 5_000;
/** A signal stamped further in the future than this is not trusted either. */
const MAX_CLOCK_SKEW_MS = 30_000;

export type Direction = "long" | "short" | "flat";

export interface GateSignal {
  action: "buy" | "sell" | "short" | "cover" | "close";
  assetClass: "equity" | "option" | "crypto";
  symbol: string;
  option: OptionContract | null;
}

export interface RecentSignalRef {
  signalId: string;
  symbol: string;
  /** The instrument key; null for a signal remembered before it was kept (never combined with). */
  instrument: string | null;
  direction: Direction;
  fingerprint: string;
  at: number;
}

export type GateVerdict =
  | { kind: "pass" }
  | { kind: "expired"; reason: string }
  | { kind: "duplicate"; of: string; reason: string }
  | { kind: "conflict"; with: string; reason: string }
  | { kind: "combine"; with: string; reason: string };

/** Which way a signal pushes the position: opening a long or short, or exiting. */
export function directionOf(signal: GateSignal): Direction {
  if (signal.action === "buy") return "long";
  if (signal.action === "short") return "short";
  return "flat";
}

/** The symbol that conflicts are judged on (the underlying for options). */
export const conflictSymbol = (signal: GateSignal) => (signal.option?.underlying ?? signal.symbol).toUpperCase();

/** The instrument a signal trades, as positions are keyed (an option's contract, not its underlying). */
export const gateInstrument = (signal: GateSignal) => instrumentKey(signal);

/** A stable text of the normalized signal: key order does not matter. */
export function signalFingerprint(signal: unknown): string {
  return JSON.stringify(sortKeys(signal));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** The community's maximum signal age (its `maxSignalAgeSeconds` setting), or the default. */
export function maxSignalAgeSeconds(settings: Record<string, unknown> | null | undefined): number {
  const value = Number(settings?.maxSignalAgeSeconds);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_SIGNAL_AGE_SECONDS;
}

/**
 * Why a signal stamped `sourceTimestamp` may not execute at `now`: older than the maximum age, or further in the
 * future than the clock skew allowed. Null when its time is fine.
 */
export function staleness(
  sourceTimestamp: number,
  now: number,
  maxAgeSeconds: number,
): { kind: "expired"; reason: string } | null {
  const age = now - sourceTimestamp;
  if (age > maxAgeSeconds * 1000) {
    return {
      kind: "expired",
      reason: `The signal is ${Math.round(age / 1000)} s old; signals older than ${maxAgeSeconds} s are never executed.`,
    };
  }
  if (-age > MAX_CLOCK_SKEW_MS) {
    return { kind: "expired", reason: "The signal's timestamp is in the future; it is not executed." };
  }
  return null;
}

export function gateSignal(input: {
  signal: GateSignal;
  fingerprint: string;
  sourceTimestamp: number;
  now: number;
  maxAgeSeconds: number;
  recentFromProvider: readonly RecentSignalRef[];
}): GateVerdict {
  const stale = staleness(input.sourceTimestamp, input.now, input.maxAgeSeconds);
  if (stale) return stale;
  const windowStart = input.now - DOUBLE_POST_WINDOW_MS;
  const recent = input.recentFromProvider.filter((r) => r.at >= windowStart);
  const twin = recent.find((r) => r.fingerprint === input.fingerprint);
  if (twin) {
    return {
      kind: "duplicate",
      of: twin.signalId,
      reason: "The same signal was posted less than 5 s ago; it is executed once.",
    };
  }
  const direction = directionOf(input.signal);
  const symbol = conflictSymbol(input.signal);
  const opposite = recent.find(
    (r) => r.symbol === symbol && direction !== "flat" && r.direction !== "flat" && r.direction !== direction,
  );
  if (opposite) {
    return {
      kind: "conflict",
      with: opposite.signalId,
      reason: `Conflicting signals: ${symbol} was signalled ${opposite.direction} and ${direction} within 5 s, so both are refused.`,
    };
  }
  // Not identical (that is a double post), so an add: the two make one position for every follower.
  const instrument = gateInstrument(input.signal);
  const sameWay = recent.find((r) => direction !== "flat" && r.direction === direction && r.instrument === instrument);
  if (sameWay) {
    return {
      kind: "combine",
      with: sameWay.signalId,
      reason: `Combined with the ${direction} ${instrument} signal posted ${Math.max(0, Math.round((input.now - sameWay.at) / 1000))} s earlier: an add within 5 s is one position.`,
    };
  }
  return { kind: "pass" };
}
