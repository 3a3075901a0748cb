import { describe, expect, it } from "vitest";
import { PAPER_RISK_CAPABILITIES } from "../../../shared/brokers/paper/engine";
import { ValidationError } from "../../../shared/errors";
import {
  communityRiskSettingsSchema,
  decide,
  EMPTY_RESERVED,
  effectiveLimits,
  parseMemberRiskSettings,
  RISK_DEFAULTS,
  SKIP_REASON_CODES,
  SKIP_REASONS,
  type SkipReason,
  STANDING_SKIP_REASONS,
  type StandingSkipReason,
  validateCommunityRiskSettings,
  validateMemberRiskSettings,
} from "../../../shared/risk";
import { input, leg, limits, paperAccount, placed, position, signal, skipped } from "./fixtures";

describe("risk engine: limits", () => {
  it("Scenario: An order over a limit is reduced to fit, with the reason", () => {
    // Default sizing wants 200 shares (1% risk, 5 a share to the stop); 10% of 100,000 fits 100.
    const reduced = placed(decide(input()));
    expect(leg(reduced, "entry").quantity).toBe(100);
    expect(reduced.reductions).toEqual([
      {
        reason: "max_position_size",
        from: 200,
        to: 100,
        message: "Reduced from 200 to 100 shares to fit your max position of 10% of equity ($10,000.00).",
      },
    ]);
    // Exits follow the reduced quantity.
    expect(leg(reduced, "stop").quantity).toBe(100);
    expect(leg(reduced, "tp1").quantity).toBe(100);

    // Limits apply in turn, each reduction starting where the last ended.
    const twice = placed(decide(input({ limits: limits({ maxNotionalPerPosition: 5_000 }) })));
    expect(twice.reductions.map(({ reason, from, to }) => ({ reason, from, to }))).toEqual([
      { reason: "max_position_size", from: 200, to: 100 },
      { reason: "max_notional", from: 100, to: 50 },
    ]);

    // What is already held in the instrument counts against the position limit.
    const adding = placed(
      decide(
        input({
          limits: limits({ maxPositionsPerSymbol: 2 }),
          accounts: [paperAccount({}, { positions: [position({ quantity: 40, marketPrice: 100 })] })],
        }),
      ),
    );
    expect(leg(adding, "entry").quantity).toBe(60);
    expect(adding.reductions[0]?.message).toContain("$4,000.00 already held");
    expect(adding.reservation.openPositions).toBe(0);
  });

  it("Scenario: Insufficient buying power is found before submission, with the amounts", () => {
    const reduced = placed(
      decide(
        input({
          sizing: { mode: "fixed_quantity", quantity: 50 },
          accounts: [paperAccount({}, { buyingPower: 2_550 })],
        }),
      ),
    );
    expect(leg(reduced, "entry").quantity).toBe(25);
    expect(reduced.reductions).toEqual([
      {
        reason: "insufficient_buying_power",
        from: 50,
        to: 25,
        message:
          "Reduced from 50 to 25 shares to fit your buying power: the order needs $5,000.00 and $2,550.00 is available.",
      },
    ]);

    // After an earlier limit cut 200 shares to 100, the amount needed is that of the 100.
    const afterCut = placed(decide(input({ accounts: [paperAccount({}, { buyingPower: 5_000 })] })));
    expect(afterCut.reductions.map((r) => r.message)).toEqual([
      "Reduced from 200 to 100 shares to fit your max position of 10% of equity ($10,000.00).",
      "Reduced from 100 to 50 shares to fit your buying power: the order needs $10,000.00 and $5,000.00 is available.",
    ]);

    const refused = skipped(
      decide(
        input({ sizing: { mode: "fixed_quantity", quantity: 50 }, accounts: [paperAccount({}, { buyingPower: 50 })] }),
      ),
    );
    expect(refused.reason).toBe("insufficient_buying_power");
    expect(refused.details).toMatchObject({ needed: 5_000, available: 50, smallestLotCost: 100 });
    expect(refused.message).toBe(
      "Insufficient buying power: the order needs $5,000.00 (50 shares of AAPL), $50.00 is available, and even one lot needs $100.00.",
    );
  });

  it("Scenario: Each refusal carries a reason code and words for the member", () => {
    const account = (snap: Parameters<typeof paperAccount>[1], overrides: Parameters<typeof paperAccount>[0] = {}) => [
      paperAccount(overrides, snap),
    ];
    // The standing's reasons (suspension, access role) are decided before the engine: tests/unit/membership-standing.test.ts.
    const cases: Record<Exclude<SkipReason, StandingSkipReason>, Parameters<typeof input>[0]> = {
      daily_loss_limit: { accounts: account({ equity: 95_000 }) },
      circuit_breaker: { accounts: account({ equity: 91_000 }) },
      account_locked: {
        hold: { reason: "account_locked", message: "Your account is locked since your circuit breaker tripped." },
        circuitBreakerArmed: false,
      },
      max_open_positions: {
        accounts: account({ positions: ["MSFT", "TSLA", "NVDA"].map((symbol) => position({ symbol })) }),
      },
      max_positions_per_symbol: { accounts: account({ positions: [position()] }) },
      max_position_size: { limits: limits({ maxPositionPercent: 0.05 }) },
      max_notional: { limits: limits({ maxNotionalPerPosition: 50 }) },
      max_total_exposure: {
        limits: limits({ maxTotalExposurePercent: 1 }),
        accounts: account({ positions: [position({ symbol: "MSFT" })] }),
      },
      min_balance: { accounts: account({ equity: 50, startOfDayEquity: 50, buyingPower: 50 }) },
      insufficient_buying_power: { accounts: account({ buyingPower: 10 }) },
      asset_class_not_allowed: { limits: limits({ allowedAssetClasses: ["crypto"] }) },
      symbol_not_allowed: { limits: limits({ symbolAllowList: ["MSFT"] }) },
      symbol_denied: { limits: limits({ symbolDenyList: ["AAPL"] }) },
      outside_regular_hours: { limits: limits({ regularHoursOnly: true }), marketOpen: false },
      below_min_price: {
        signal: signal({ entry: { price: 0.5 }, stopLoss: 0.45, takeProfits: [{ price: 0.6, percent: null }] }),
      },
      max_orders_per_day: { accounts: account({ ordersToday: 50 }) },
      no_position_to_close: { signal: signal({ action: "sell" }) },
      live_not_allowed: { member: { tradingMode: "live", paperOnly: true } },
      no_broker_account: { member: { tradingMode: "live", paperOnly: false } },
      quantity_rounds_to_zero: { sizing: { mode: "fixed_notional", notional: 50 } },
      no_price: { signal: signal({ orderType: "market", entry: null }), quotePrice: null },
      short_not_supported: {
        signal: signal({ action: "short", stopLoss: 105, takeProfits: [{ price: 90, percent: null }] }),
        accounts: account({}, { capabilities: { ...PAPER_RISK_CAPABILITIES, shorting: false } }),
      },
      stop_required: {
        signal: signal({ stopLoss: null }),
        sizing: { mode: "risk_percent", percent: 1 },
        limits: limits({ defaultStopPercent: null }),
      },
      invalid_stop: { signal: signal({ stopLoss: 105 }) },
      invalid_take_profit: { signal: signal({ takeProfits: [{ price: 95, percent: null }] }) },
      exit_quantity_unknown: {
        signal: signal({ action: "sell", quantity: 10 }),
        accounts: account({ positions: [position()] }),
        exitQuantityOf: { kind: "provider", position: null },
      },
    };

    const engineReasons = SKIP_REASON_CODES.filter(
      (code) => !(STANDING_SKIP_REASONS as readonly string[]).includes(code),
    );
    expect(Object.keys(cases).sort()).toEqual(engineReasons.sort());
    for (const [reason, overrides] of Object.entries(cases)) {
      const decision = skipped(decide(input(overrides)));
      expect({ reason, got: decision.reason }).toEqual({ reason, got: reason });
      expect(SKIP_REASONS[decision.reason].length).toBeGreaterThan(20);
      expect(decision.message.length).toBeGreaterThan(20);
      expect(decision.message).not.toMatch(/undefined|NaN/);
    }
  });

  it("Scenario: Members may only tighten the community's limits", () => {
    const community = { ...RISK_DEFAULTS, symbolDenyList: ["AMC"], maxNotionalPerPosition: 5_000 };
    const { limits: tightened, clamped } = effectiveLimits(community, {
      maxPositionPercent: 5,
      maxTotalExposurePercent: 50,
      dailyLossLimitPercent: 3,
      maxNotionalPerPosition: 2_000,
      allowedAssetClasses: ["equity", "crypto"],
      symbolDenyList: ["GME"],
      regularHoursOnly: true,
      minPrice: 5,
    });
    expect(clamped).toEqual([]);
    expect(tightened).toMatchObject({
      maxPositionPercent: 5,
      maxTotalExposurePercent: 50,
      dailyLossLimitPercent: 3,
      maxNotionalPerPosition: 2_000,
      allowedAssetClasses: ["equity", "crypto"],
      symbolDenyList: ["AMC", "GME"],
      regularHoursOnly: true,
      minPrice: 5,
      maxOpenPositions: 3,
    });

    const strict = {
      ...community,
      regularHoursOnly: true,
      allowExtendedHours: false,
      symbolAllowList: ["AAPL", "MSFT"],
      allowedAssetClasses: ["equity" as const],
    };
    const loosened = effectiveLimits(strict, {
      maxPositionPercent: 25,
      maxTotalExposurePercent: 100,
      dailyLossLimitPercent: 15,
      maxOpenPositions: 10,
      minPrice: 0.5,
      maxNotionalPerPosition: null,
      allowedAssetClasses: ["equity", "crypto"],
      symbolAllowList: ["AAPL", "TSLA"],
      regularHoursOnly: false,
      defaultStopPercent: null,
      defaultTakeProfitPercent: 6,
    });
    expect(loosened.limits).toMatchObject({
      maxPositionPercent: 10,
      maxTotalExposurePercent: 80,
      dailyLossLimitPercent: 5,
      maxOpenPositions: 3,
      minPrice: 1,
      maxNotionalPerPosition: 5_000,
      allowedAssetClasses: ["equity"],
      symbolAllowList: ["AAPL"],
      regularHoursOnly: true,
      // Default exits are the member's preference, not a limit.
      defaultStopPercent: null,
      defaultTakeProfitPercent: 6,
    });
    expect(loosened.clamped.map((c) => c.field).sort()).toEqual(
      [
        "allowedAssetClasses",
        "dailyLossLimitPercent",
        "maxNotionalPerPosition",
        "maxOpenPositions",
        "maxPositionPercent",
        "maxTotalExposurePercent",
        "minPrice",
        "regularHoursOnly",
        "symbolAllowList",
      ].sort(),
    );
    expect(loosened.clamped.find((c) => c.field === "maxPositionPercent")).toEqual({
      field: "maxPositionPercent",
      requested: 25,
      applied: 10,
      message: "maxPositionPercent: 25 is looser than the community's 10; 10 applies.",
    });
    // The community's defaults are never modified.
    expect(strict.maxPositionPercent).toBe(10);
  });

  it("Scenario: A member opts into extended hours unless the community forbids it", () => {
    // The product default: regular hours only, extended hours an opt-in the community allows.
    expect(RISK_DEFAULTS).toMatchObject({ regularHoursOnly: true, allowExtendedHours: true });
    const optedIn = effectiveLimits(RISK_DEFAULTS, { regularHoursOnly: false });
    expect(optedIn).toEqual({ limits: expect.objectContaining({ regularHoursOnly: false }), clamped: [] });
    const closed = { ...input(), marketOpen: false, now: Date.UTC(2026, 2, 10, 23) };
    expect(placed(decide({ ...closed, limits: optedIn.limits })).intents[0]?.leg).toBe("entry");

    const strict = effectiveLimits({ ...RISK_DEFAULTS, allowExtendedHours: false }, { regularHoursOnly: false });
    expect(strict.limits.regularHoursOnly).toBe(true);
    expect(strict.clamped).toMatchObject([{ field: "regularHoursOnly", requested: false, applied: true }]);
    const refused = skipped(decide({ ...closed, limits: strict.limits }));
    expect(refused.reason).toBe("outside_regular_hours");
    expect(refused.message).toContain("this community trades during regular hours only");
  });

  it("Scenario: Equity entries outside regular hours are refused by default with the reason", () => {
    const closed = { marketOpen: false, now: Date.UTC(2026, 2, 10, 23) };
    const refused = skipped(decide(input(closed)));
    expect(refused).toMatchObject({ reason: "outside_regular_hours", details: { assetClass: "equity" } });
    expect(refused.message).toBe(
      "The market is closed (regular hours are 09:30–16:00 New York time, Monday to Friday). Orders are not held for the next open, so nothing was placed; you may opt into extended hours with /risk hours.",
    );
    // Options too; crypto trades around the clock, and an exit is never held back.
    const option = { underlying: "AAPL", expiration: "2026-12-18", strike: 190, right: "call" as const };
    expect(
      skipped(
        decide(
          input({
            ...closed,
            signal: signal({ assetClass: "option", option, entry: { price: 2 }, stopLoss: 1, takeProfits: [] }),
          }),
        ),
      ).reason,
    ).toBe("outside_regular_hours");
    const crypto = signal({ assetClass: "crypto", symbol: "BTC/USD", entry: { price: 100 } });
    expect(placed(decide(input({ ...closed, signal: crypto }))).intents[0]?.leg).toBe("entry");
    const exit = decide(
      input({
        ...closed,
        signal: signal({ action: "sell", orderType: "market", entry: null }),
        accounts: [paperAccount({}, { positions: [position()] })],
      }),
    );
    expect(placed(exit).notes).toContain(
      "The market is closed; an exit is not held back by your regular-hours setting.",
    );
  });

  it("Scenario: An order over the total exposure cap is reduced to fit, with the reason", () => {
    // 100,000 of equity: 60,000 held (a long and a short) and 15,000 on its way leave 5,000 under 80%.
    const held = [
      position({ symbol: "MSFT", quantity: 300, marketPrice: 100 }),
      position({ symbol: "TSLA", direction: "short", quantity: 200, marketPrice: 150 }),
    ];
    const wide = limits({ maxPositionPercent: 30, maxOpenPositions: 10 });
    const reserved = { ...EMPTY_RESERVED, notional: 15_000, openPositions: 1, symbols: ["NVDA"] };
    const hundredShares = { mode: "fixed_quantity" as const, quantity: 100 };
    const reduced = placed(
      decide(
        input({ limits: wide, sizing: hundredShares, reserved, accounts: [paperAccount({}, { positions: held })] }),
      ),
    );
    expect(leg(reduced, "entry").quantity).toBe(50);
    expect(reduced.reductions).toEqual([
      {
        reason: "max_total_exposure",
        from: 100,
        to: 50,
        message:
          "Reduced from 100 to 50 shares to fit your max total exposure of 80% of equity ($80,000.00, $75,000.00 already open or on its way).",
      },
    ]);
    // A member who tightened it to 70% has no room left: nothing fits.
    const tight = effectiveLimits(wide, { maxTotalExposurePercent: 70 }).limits;
    const refused = skipped(
      decide(
        input({ limits: tight, sizing: hundredShares, reserved, accounts: [paperAccount({}, { positions: held })] }),
      ),
    );
    expect(refused).toMatchObject({ reason: "max_total_exposure", details: { available: 0 } });
    // An exit is never held back by it.
    const exit = decide(
      input({
        limits: tight,
        signal: signal({ action: "cover", symbol: "TSLA", orderType: "market", entry: null }),
        accounts: [paperAccount({}, { positions: held })],
      }),
    );
    expect(placed(exit).intents[0]).toMatchObject({ side: "buy_to_cover", quantity: 200 });
  });

  it("Scenario: Risk settings input is validated with clear messages", () => {
    expect(validateMemberRiskSettings({ dailyLossLimitPercent: 10 })).toEqual({
      ok: true,
      value: { dailyLossLimitPercent: 10 },
    });
    for (const outOfRange of [1, 1.99, 20.5, 25]) {
      expect(validateMemberRiskSettings({ dailyLossLimitPercent: outOfRange })).toEqual({
        ok: false,
        issues: [
          { path: "dailyLossLimitPercent", code: "custom", message: "Daily loss limit must be between 2% and 20%" },
        ],
      });
    }
    expect(validateMemberRiskSettings({ dailyLossLimitPercent: 2 }).ok).toBe(true);
    expect(validateMemberRiskSettings({ dailyLossLimitPercent: 20 }).ok).toBe(true);

    const bad = validateMemberRiskSettings({
      maxOpenPositions: 2.5,
      dailyLossLimitPercent: "5",
      allowedAssetClasses: [],
      symbolDenyList: ["bad symbol!"],
      leverage: 10,
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    const byPath = Object.fromEntries(bad.issues.map((issue) => [issue.path, issue.message]));
    expect(byPath).toMatchObject({
      maxOpenPositions: "Max open positions must be a whole number",
      dailyLossLimitPercent: "Daily loss limit must be a number",
      allowedAssetClasses: "Choose at least one asset class",
      "symbolDenyList.0": expect.stringContaining("a symbol is 1–32 letters"),
      "": "Unknown setting: leverage",
    });

    // Symbols are normalised; routes get a 400 ValidationError naming each field.
    expect(parseMemberRiskSettings({ symbolAllowList: [" aapl", "brk.b", "AAPL"] })).toEqual({
      symbolAllowList: ["AAPL", "BRK.B"],
    });
    try {
      parseMemberRiskSettings({ dailyLossLimitPercent: 30 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).status).toBe(400);
      expect((error as ValidationError).details).toEqual([
        { path: "dailyLossLimitPercent", code: "custom", message: "Daily loss limit must be between 2% and 20%" },
      ]);
    }

    // A community's stored settings fill in the product defaults.
    expect(validateCommunityRiskSettings({ maxOpenPositions: 5 })).toEqual({
      ok: true,
      value: { ...RISK_DEFAULTS, maxOpenPositions: 5 },
    });
    expect(communityRiskSettingsSchema.parse({})).toEqual(RISK_DEFAULTS);
  });
});
