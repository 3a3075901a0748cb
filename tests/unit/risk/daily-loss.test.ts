import { describe, expect, it } from "vitest";
import { dailyLossStatus, decide, nextUtcMidnight, observeEquity } from "../../../shared/risk";
import { input, limits, NOW, paperAccount, placed, position, signal, skipped, snapshot } from "./fixtures";

const MIDNIGHT = Date.UTC(2026, 2, 11);

describe("risk engine: daily loss and circuit breaker", () => {
  it("Scenario: The daily loss limit skips, flattens and pauses until 00:00 UTC", () => {
    // Start-of-day equity less current equity: what was realized today and what is unrealized now.
    const figures = (realized: number, unrealized: number) => snapshot({ equity: 100_000 + realized + unrealized });

    expect(dailyLossStatus(figures(-2_000, -2_999), limits(), NOW)).toEqual({ state: "ok", lossPercent: 4.999 });
    // Realized plus unrealized, from start-of-day equity: 5% of 100,000.
    expect(dailyLossStatus(figures(-3_000, -2_000), limits(), NOW)).toEqual({
      state: "loss_limit",
      pausedUntil: MIDNIGHT,
      lossPercent: 5,
    });
    expect(dailyLossStatus(figures(-3_000, -2_000), limits({ dailyLossLimitPercent: 6 }), NOW).state).toBe("ok");

    const decision = skipped(decide(input({ accounts: [paperAccount({}, figures(-3_000, -2_000))] })));
    expect(decision).toMatchObject({ reason: "daily_loss_limit", flattenAndPauseUntil: MIDNIGHT });
    expect(decision.message).toBe(
      "You are down 5% today (limit 5%): positions are closed and trading pauses until 00:00 UTC.",
    );

    // Exits are never held back: a sell still goes out while paused.
    const exit = decide(
      input({
        signal: signal({ action: "sell", orderType: "market", entry: null }),
        accounts: [paperAccount({}, { ...figures(-3_000, -2_000), positions: [position()] })],
      }),
    );
    expect(placed(exit).intents[0]).toMatchObject({ leg: "exit", side: "sell", quantity: 40 });

    expect(nextUtcMidnight(Date.UTC(2026, 11, 31, 23, 59, 59))).toBe(Date.UTC(2027, 0, 1));
    expect(nextUtcMidnight(Date.UTC(2026, 2, 10))).toBe(MIDNIGHT);
  });

  it("Scenario: The circuit breaker trips at 8% down on the day and locks the account", () => {
    // 8% below start-of-day equity, with a member's daily loss limit wide enough to let it through.
    const wide = limits({ dailyLossLimitPercent: 10 });
    const down8 = snapshot({ equity: 92_000 });
    expect(dailyLossStatus(down8, wide, NOW)).toEqual({
      state: "circuit_breaker",
      pausedUntil: MIDNIGHT,
      lossPercent: 8,
    });
    expect(dailyLossStatus(snapshot({ equity: 92_001 }), wide, NOW).state).toBe("ok");

    const decision = skipped(decide(input({ limits: wide, accounts: [paperAccount({}, down8)] })));
    expect(decision).toMatchObject({ reason: "circuit_breaker", flattenAndPauseUntil: MIDNIGHT, lockAccount: true });
    expect(decision.details).toMatchObject({ lossPercent: 8, limitPercent: 8 });
    expect(decision.message).toContain("your account is locked until you unlock it with /risk unlock or an admin does");

    // With the default 5% limit a drop straight to 9% trips the breaker, the stronger of the two.
    const gap = skipped(decide(input({ accounts: [paperAccount({}, snapshot({ equity: 91_000 }))] })));
    expect(gap).toMatchObject({ reason: "circuit_breaker", lockAccount: true });

    // Gains given back within the day trip nothing: up 10% this morning, up 1% now.
    const gaveBack = snapshot({ equity: 101_000 });
    expect(dailyLossStatus(gaveBack, limits(), NOW)).toEqual({ state: "ok", lossPercent: 0 });
    expect(placed(decide(input({ accounts: [paperAccount({}, gaveBack)] }))).intents[0]?.leg).toBe("entry");
  });

  it("Scenario: A pause or a lock holds new entries but never exits", () => {
    const locked = {
      reason: "account_locked" as const,
      message: "Your account is locked since your circuit breaker tripped on 2026-03-09.",
    };
    const healthy = paperAccount({}, { positions: [position()] });
    const entry = skipped(decide(input({ accounts: [healthy], hold: locked, circuitBreakerArmed: false })));
    expect(entry).toMatchObject({ reason: "account_locked", message: locked.message });
    expect(entry.flattenAndPauseUntil).toBeUndefined();

    const exit = decide(
      input({
        signal: signal({ action: "sell", orderType: "market", entry: null }),
        accounts: [healthy],
        hold: locked,
        circuitBreakerArmed: false,
      }),
    );
    expect(placed(exit).intents[0]).toMatchObject({ leg: "exit", side: "sell", quantity: 40 });

    // Paused by the daily loss limit and still falling: the breaker, still armed, trips through the pause.
    const paused = { reason: "daily_loss_limit" as const, message: "Paused until 00:00 UTC." };
    const falling = paperAccount({}, { equity: 91_500 });
    expect(skipped(decide(input({ accounts: [falling], hold: paused })))).toMatchObject({
      reason: "circuit_breaker",
      lockAccount: true,
    });
    // Unlocked the same day (disarmed), the pause holds without a second trip or a second flatten.
    const held = skipped(decide(input({ accounts: [falling], hold: paused, circuitBreakerArmed: false })));
    expect(held).toMatchObject({ reason: "daily_loss_limit", message: paused.message });
    expect(held.flattenAndPauseUntil).toBeUndefined();
    expect(held.lockAccount).toBeUndefined();
  });

  it("Scenario: The account's day rolls at 00:00 UTC and keeps its peak", () => {
    const morning = Date.UTC(2026, 2, 10, 9);
    let day = observeEquity(null, 100_000, morning, null);
    day = observeEquity(day, 104_000, morning + 3600_000, null);
    day = observeEquity(day, 101_000, morning + 7200_000, null);
    expect(day).toEqual({ day: "2026-03-10", startEquity: 100_000, peakEquity: 104_000, lastEquity: 101_000 });

    // After midnight the day starts from the last equity seen before it, and the peak starts over.
    const next = observeEquity(day, 99_000, Date.UTC(2026, 2, 11, 0, 5), null);
    expect(next).toEqual({ day: "2026-03-11", startEquity: 101_000, peakEquity: 101_000, lastEquity: 99_000 });
    expect(dailyLossStatus({ equity: 99_000, startOfDayEquity: 101_000 }, limits(), NOW)).toMatchObject({
      state: "ok",
      lossPercent: 1.9802,
    });

    // The broker's own start of day for today wins; one for another day is ignored.
    const reported = observeEquity(null, 95_000, morning, { date: "2026-03-10", startEquity: 97_000 });
    expect(reported).toMatchObject({ startEquity: 97_000, peakEquity: 97_000 });
    const stale = observeEquity(null, 95_000, morning, { date: "2026-03-09", startEquity: 97_000 });
    expect(stale).toMatchObject({ startEquity: 95_000 });
    // Reported later in the day, it still wins over what the executor had assumed.
    expect(observeEquity(day, 101_000, morning + 3 * 3600_000, { date: "2026-03-10", startEquity: 120_000 })).toEqual({
      day: "2026-03-10",
      startEquity: 120_000,
      peakEquity: 120_000,
      lastEquity: 101_000,
    });
  });
});
