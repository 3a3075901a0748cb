/**
 * Option expirations. A date written without a year is its next occurrence on the options market's
 * calendar (New York), today included, so "12/20" posted on 2026-11-23 is 2026-12-20 and "11/22" is 2027-11-22.
 */

import { marketDate } from "../market/new-york";

export interface WrittenDate {
  year: number | null;
  month: number;
  day: number;
}

export function isCalendarDay(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** The ISO date meant, or null when no such calendar day exists (2/30, 13/01). */
export function resolveExpiration(written: WrittenDate, now: Date): string | null {
  const { month, day } = written;
  if (written.year !== null) {
    return written.year >= 1970 && written.year <= 9999 && isCalendarDay(written.year, month, day)
      ? isoDate(written.year, month, day)
      : null;
  }
  const today = marketDate(now.getTime());
  const todayKey = today.year * 10_000 + today.month * 100 + today.day;
  // Feb 29 can be up to 8 years away; every other day is at most a year away.
  for (let year = today.year; year <= today.year + 8; year++) {
    if (isCalendarDay(year, month, day) && year * 10_000 + month * 100 + day >= todayKey) {
      return isoDate(year, month, day);
    }
  }
  return null;
}

/** Today plus `days` calendar days, for "0DTE". */
export function daysFromToday(now: Date, days: number): string {
  const today = marketDate(now.getTime());
  const date = new Date(Date.UTC(today.year, today.month - 1, today.day + days));
  return isoDate(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
}
