import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  backoffDelayMs,
  FOLLOW_UP_OFFSETS_MS,
  isMarketRemainderExpired,
  MARKET_REMAINDER_TIMEOUT_MS,
  nextFollowUpAt,
  parseRetryAfterMs,
  toDelaySeconds,
} from "../../../shared/orders";

describe("order retries and follow-ups", () => {
  it("Scenario: Retries back off exponentially with full jitter and honour Retry-After", () => {
    const top = (attempt: number) => backoffDelayMs(attempt, { random: () => 0.999_999_999 });
    expect([1, 2, 3, 4, 5].map(top)).toEqual([999, 1_999, 3_999, 7_999, 15_999]);
    expect(top(9)).toBe(255_999);
    expect(top(10)).toBe(299_999); // capped at 5 minutes
    expect(top(1_000)).toBe(299_999);
    expect(backoffDelayMs(3, { random: () => 0 })).toBe(0);
    expect(backoffDelayMs(3, { random: () => 0.5 })).toBe(2_000);
    expect(backoffDelayMs(2, { baseMs: 100, capMs: 150, random: () => 0.999 })).toBe(149);

    // Never less than Retry-After, even above the cap.
    expect(backoffDelayMs(1, { random: () => 0, retryAfterMs: 30_000 })).toBe(30_000);
    expect(backoffDelayMs(1, { random: () => 0.5, retryAfterMs: 600_000 })).toBe(600_000);
    expect(backoffDelayMs(6, { random: () => 0.999, retryAfterMs: 1_000 })).toBe(31_968);

    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 3_600_000 })),
        (attempt, r, retryAfterMs) => {
          const delay = backoffDelayMs(attempt, { random: () => r, retryAfterMs });
          const ceiling = Math.min(300_000, 1_000 * 2 ** (attempt - 1));
          expect(delay).toBeGreaterThanOrEqual(retryAfterMs ?? 0);
          expect(delay).toBeLessThanOrEqual(Math.max(ceiling, retryAfterMs ?? 0));
          expect(Number.isInteger(delay)).toBe(true);
        },
      ),
    );

    const now = Date.UTC(2026, 2, 10, 12, 0, 0);
    expect(parseRetryAfterMs("7", now)).toBe(7_000);
    expect(parseRetryAfterMs("Tue, 10 Mar 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfterMs("Tue, 10 Mar 2026 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfterMs("soon", now)).toBeNull();
    expect(parseRetryAfterMs(null, now)).toBeNull();
    expect(toDelaySeconds(1_001)).toBe(2);
    expect(toDelaySeconds(10 ** 9)).toBe(43_200);
  });

  it("Scenario: Open orders are followed up on schedule and market remainders expire after 5 minutes", () => {
    const submittedAt = 1_000_000;
    const schedule: number[] = [];
    for (
      let at: number | null = nextFollowUpAt(submittedAt, submittedAt);
      at !== null;
      at = nextFollowUpAt(submittedAt, at)
    ) {
      schedule.push((at - submittedAt) / 1_000);
    }
    expect(schedule).toEqual([
      1, 2, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 660, 720, 780, 840, 900,
    ]);
    expect(FOLLOW_UP_OFFSETS_MS.at(-1)).toBe(15 * 60_000);
    // A late wake-up skips what it missed instead of replaying it.
    expect(nextFollowUpAt(submittedAt, submittedAt + 3_500)).toBe(submittedAt + 5_000);
    expect(nextFollowUpAt(submittedAt, submittedAt + 15 * 60_000)).toBeNull();

    expect(MARKET_REMAINDER_TIMEOUT_MS).toBe(300_000);
    const market = { orderType: "market", status: "partially_filled" as const, submittedAt };
    expect(isMarketRemainderExpired(market, submittedAt + 299_999)).toBe(false);
    expect(isMarketRemainderExpired(market, submittedAt + 300_000)).toBe(true);
    expect(isMarketRemainderExpired({ ...market, status: "submitted" }, submittedAt + 300_000)).toBe(true);
    expect(isMarketRemainderExpired({ ...market, status: "filled" }, submittedAt + 300_000)).toBe(false);
    expect(isMarketRemainderExpired({ ...market, orderType: "limit" }, submittedAt + 300_000)).toBe(false);
    expect(isMarketRemainderExpired({ ...market, status: "queued", submittedAt: null }, submittedAt + 300_000)).toBe(
      false,
    );
  });
});
