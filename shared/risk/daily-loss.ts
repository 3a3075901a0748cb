/**
 * The daily loss limit and the personal circuit breaker, both measured as the
 * loss since 00:00 UTC. The limit flattens the account and pauses it until the
 * next 00:00 UTC; the breaker (a larger loss, or one that a member's wider
 * limit lets through) flattens it, pauses it and locks it until the member or
 * an admin unlocks it.
 */
import type { RiskLimits } from "./limits";
import type { AccountSnapshot } from "./types";

export type DailyLossState = "ok" | "loss_limit" | "circuit_breaker";

export interface DailyLossStatus {
  state: DailyLossState;
  /** Next 00:00 UTC, when the state is not ok. */
  pausedUntil?: number;
  /** Start-of-day equity less current equity, as % of start-of-day equity (0 when up). */
  lossPercent: number;
}

type DailyFigures = Pick<AccountSnapshot, "equity" | "startOfDayEquity">;

/**
 * Both compare current equity with start-of-day equity, so they see what was
 * realized today and what is unrealized now, and nothing carried in from an
 * earlier day. The breaker wins when both are reached: it is the stronger one.
 * Gains given back within the day trip neither (a member still up on the day
 * is not stopped).
 */
export function dailyLossStatus(
  account: DailyFigures,
  limits: Pick<RiskLimits, "dailyLossLimitPercent" | "circuitBreakerPercent">,
  now: number,
): DailyLossStatus {
  const start = account.startOfDayEquity;
  const current = account.equity;
  if (!(start > 0) || !Number.isFinite(current)) return { state: "ok", lossPercent: 0 };
  const lossPercent = round4((Math.max(0, start - current) / start) * 100);

  const state: DailyLossState =
    lossPercent >= limits.circuitBreakerPercent
      ? "circuit_breaker"
      : lossPercent >= limits.dailyLossLimitPercent
        ? "loss_limit"
        : "ok";
  if (state === "ok") return { state, lossPercent };
  return { state, pausedUntil: nextUtcMidnight(now), lossPercent };
}

/** One account's trading day as the executor has seen it. */
export interface EquityDay {
  /** The UTC date, YYYY-MM-DD. */
  day: string;
  startEquity: number;
  peakEquity: number;
  /** The equity seen most recently: tomorrow's start if nothing is seen after it before midnight. */
  lastEquity: number;
}

/**
 * Carries an account's day forward to an equity seen at `now`. The day starts
 * from the broker's own start of day for that date whenever it reports one;
 * otherwise a new UTC day starts from the last equity seen before midnight,
 * else from this equity.
 */
export function observeEquity(
  previous: EquityDay | null,
  equity: number,
  now: number,
  brokerStartOfDay: { date: string; startEquity: number } | null,
): EquityDay {
  const day = utcDay(now);
  const reported =
    brokerStartOfDay?.date === day && brokerStartOfDay.startEquity > 0 ? brokerStartOfDay.startEquity : null;
  const sameDay = previous?.day === day;
  const startEquity = reported ?? (sameDay ? previous.startEquity : (previous?.lastEquity ?? equity));
  const peakBefore = sameDay ? previous.peakEquity : startEquity;
  return { day, startEquity, peakEquity: Math.max(peakBefore, startEquity, equity), lastEquity: equity };
}

/** The UTC date of a moment, YYYY-MM-DD: the key of daily counters and of an account's day. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

export function nextUtcMidnight(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
