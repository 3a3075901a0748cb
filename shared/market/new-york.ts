/**
 * The US market's clock and calendar: New York time, from the runtime's time-zone data (so daylight saving is
 * always right). The one place the platform reads the time in New York: the regular session (the risk engine's
 * `marketOpen`), a day order's close (the paper broker) and today's date for option expirations (the parser).
 * Holidays are not modelled.
 */

const NEW_YORK = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York",
  hourCycle: "h23",
  weekday: "short",
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
  second: "numeric",
});

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

/** A moment as a clock on a New York wall shows it. */
export interface NewYorkTime {
  year: number;
  /** 1–12. */
  month: number;
  day: number;
  /** 0 (Sunday) to 6 (Saturday). */
  weekday: number;
  hour: number;
  minute: number;
  second: number;
}

export function newYorkTime(ms: number): NewYorkTime {
  const parts = NEW_YORK.formatToParts(new Date(ms));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    year: Number(part("year")),
    month: Number(part("month")),
    day: Number(part("day")),
    weekday: WEEKDAYS.indexOf(part("weekday") as (typeof WEEKDAYS)[number]),
    hour: Number(part("hour")),
    minute: Number(part("minute")),
    second: Number(part("second")),
  };
}

/** Today's calendar date in New York. */
export function marketDate(ms: number): { year: number; month: number; day: number } {
  const { year, month, day } = newYorkTime(ms);
  return { year, month, day };
}

const SESSION_OPENS = 9 * 60 + 30;
const SESSION_CLOSES = 16 * 60;

/** The US regular session in words, for the messages that refuse or explain it. */
export const REGULAR_SESSION = "09:30–16:00 New York time, Monday to Friday";

/** The US regular session: 09:30–16:00 New York time, Monday to Friday. */
export function isRegularSession(ms: number): boolean {
  const time = newYorkTime(ms);
  if (time.weekday === 0 || time.weekday === 6) return false;
  const minutes = time.hour * 60 + time.minute;
  return minutes >= SESSION_OPENS && minutes < SESSION_CLOSES;
}

/** New York's offset from UTC at `ms` (−4 h or −5 h). */
export function newYorkOffsetMs(ms: number): number {
  const t = newYorkTime(ms);
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The next regular close after `ms` (16:00 New York time, today's if not yet past), as epoch milliseconds. */
export function nextRegularClose(ms: number): number {
  const offsetMs = newYorkOffsetMs(ms);
  const local = new Date(ms + offsetMs);
  const close = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), SESSION_CLOSES / 60);
  const closeLocal = close <= ms + offsetMs ? close + 86_400_000 : close;
  return closeLocal - newYorkOffsetMs(closeLocal - offsetMs);
}
