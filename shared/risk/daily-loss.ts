/**
 * The daily loss limit and the personal circuit breaker. Either one means:
 * flatten the account and pause its trading until the next 00:00 UTC.
 */
import type { RiskLimits } from "./limits";
import type { AccountSnapshot } from "./types";

export type DailyLossState = "ok" | "loss_limit" | "circuit_breaker";

export interface DailyLossStatus {
  state: DailyLossState;
  /** Next 00:00 UTC, when the state is not ok. */
  pausedUntil?: number;
  /** Realized plus unrealized loss today, as % of start-of-day equity (0 when up). */
  lossPercent: number;
  /** Drop from the day's highest equity, in %. */
  drawdownPercent: number;
}

type DailyFigures = Pick<
  AccountSnapshot,
  "startOfDayEquity" | "realizedPnlToday" | "unrealizedPnl" | "intradayPeakEquity"
>;

/**
 * The loss limit compares today's P&L (realized plus unrealized) with
 * start-of-day equity. The circuit breaker compares current equity with the
 * day's peak, so it also trips after a run-up is given back; without a known
 * peak it measures from the start of the day.
 */
export function dailyLossStatus(
  account: DailyFigures,
  limits: Pick<RiskLimits, "dailyLossLimitPercent" | "circuitBreakerPercent">,
  now: number,
): DailyLossStatus {
  const start = account.startOfDayEquity;
  if (!(start > 0)) return { state: "ok", lossPercent: 0, drawdownPercent: 0 };
  const pnl = account.realizedPnlToday + account.unrealizedPnl;
  const current = start + pnl;
  const peak = Math.max(start, current, account.intradayPeakEquity ?? start);
  const lossPercent = round4((Math.max(0, -pnl) / start) * 100);
  const drawdownPercent = round4(((peak - current) / peak) * 100);

  const state: DailyLossState =
    drawdownPercent >= limits.circuitBreakerPercent
      ? "circuit_breaker"
      : lossPercent >= limits.dailyLossLimitPercent
        ? "loss_limit"
        : "ok";
  if (state === "ok") return { state, lossPercent, drawdownPercent };
  return { state, pausedUntil: nextUtcMidnight(now), lossPercent, drawdownPercent };
}

export function nextUtcMidnight(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
