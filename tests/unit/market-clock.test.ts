import { describe, expect, it } from "vitest";
import {
  isRegularSession,
  marketDate,
  newYorkOffsetMs,
  newYorkTime,
  nextRegularClose,
} from "../../shared/market/new-york";

const at = (iso: string) => Date.parse(iso);

describe("the New York market clock", () => {
  it("reads the wall clock in New York, daylight saving included", () => {
    // 2026-10-20 is in EDT (UTC−4), 2026-12-01 in EST (UTC−5).
    expect(newYorkTime(at("2026-10-20T14:30:00Z"))).toEqual({
      year: 2026,
      month: 10,
      day: 20,
      weekday: 2,
      hour: 10,
      minute: 30,
      second: 0,
    });
    expect(newYorkOffsetMs(at("2026-10-20T14:30:00Z"))).toBe(-4 * 3600_000);
    expect(newYorkOffsetMs(at("2026-12-01T14:30:00Z"))).toBe(-5 * 3600_000);
    expect(newYorkTime(at("2026-12-01T05:00:00Z")).hour).toBe(0);
  });

  it("knows the regular session: 09:30 to 16:00, Monday to Friday", () => {
    expect(isRegularSession(at("2026-10-20T13:29:59Z"))).toBe(false);
    expect(isRegularSession(at("2026-10-20T13:30:00Z"))).toBe(true);
    expect(isRegularSession(at("2026-10-20T19:59:59Z"))).toBe(true);
    expect(isRegularSession(at("2026-10-20T20:00:00Z"))).toBe(false);
    expect(isRegularSession(at("2026-12-01T14:29:00Z"))).toBe(false);
    expect(isRegularSession(at("2026-12-01T14:30:00Z"))).toBe(true);
    // Saturday and Sunday, at what would be mid-session.
    expect(isRegularSession(at("2026-10-24T15:00:00Z"))).toBe(false);
    expect(isRegularSession(at("2026-10-25T15:00:00Z"))).toBe(false);
  });

  it("gives today's date in New York, which lags UTC in the evening", () => {
    expect(marketDate(at("2026-11-23T03:00:00Z"))).toEqual({ year: 2026, month: 11, day: 22 });
    expect(marketDate(at("2026-11-23T05:00:00Z"))).toEqual({ year: 2026, month: 11, day: 23 });
  });

  it("finds the next regular close, across a change of daylight saving", () => {
    expect(new Date(nextRegularClose(at("2026-10-20T14:30:00Z"))).toISOString()).toBe("2026-10-20T20:00:00.000Z");
    expect(new Date(nextRegularClose(at("2026-10-20T20:00:00Z"))).toISOString()).toBe("2026-10-21T20:00:00.000Z");
    // Saturday 2026-10-31 evening (EDT) to Sunday 2026-11-01, when New York goes back to EST.
    expect(new Date(nextRegularClose(at("2026-10-31T22:00:00Z"))).toISOString()).toBe("2026-11-01T21:00:00.000Z");
  });
});
