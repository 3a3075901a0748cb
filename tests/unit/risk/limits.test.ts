import { describe, expect, it } from "vitest";
import { PAPER_RISK_CAPABILITIES } from "../../../shared/brokers/paper/engine";
import { ValidationError } from "../../../shared/errors";
import {
  communityRiskSettingsSchema,
  decide,
  effectiveLimits,
  parseMemberRiskSettings,
  RISK_DEFAULTS,
  SKIP_REASON_CODES,
  SKIP_REASONS,
  type SkipReason,
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
        message: "Reduced from 200 to 100 shares to fit your max position of 10% of equity (10000.00).",
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
    expect(adding.reductions[0]?.message).toContain("4000.00 already held");
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
          "Reduced from 50 to 25 shares to fit your buying power: the order needs 5000.00 and 2550.00 is available.",
      },
    ]);

    // After an earlier limit cut 200 shares to 100, the amount needed is that of the 100.
    const afterCut = placed(decide(input({ accounts: [paperAccount({}, { buyingPower: 5_000 })] })));
    expect(afterCut.reductions.map((r) => r.message)).toEqual([
      "Reduced from 200 to 100 shares to fit your max position of 10% of equity (10000.00).",
      "Reduced from 100 to 50 shares to fit your buying power: the order needs 10000.00 and 5000.00 is available.",
    ]);

    const refused = skipped(
      decide(
        input({ sizing: { mode: "fixed_quantity", quantity: 50 }, accounts: [paperAccount({}, { buyingPower: 50 })] }),
      ),
    );
    expect(refused.reason).toBe("insufficient_buying_power");
    expect(refused.details).toMatchObject({ needed: 5_000, available: 50, smallestLotCost: 100 });
    expect(refused.message).toBe(
      "Insufficient buying power: the order needs 5000.00 (50 shares of AAPL), 50.00 is available, and even one lot needs 100.00.",
    );
  });

  it("Scenario: Each refusal carries a reason code and words for the member", () => {
    const account = (snap: Parameters<typeof paperAccount>[1], overrides: Parameters<typeof paperAccount>[0] = {}) => [
      paperAccount(overrides, snap),
    ];
    const cases: Record<SkipReason, Parameters<typeof input>[0]> = {
      daily_loss_limit: { accounts: account({ equity: 95_000 }) },
      circuit_breaker: { accounts: account({ equity: 101_000, intradayPeakEquity: 110_000 }) },
      max_open_positions: {
        accounts: account({ positions: ["MSFT", "TSLA", "NVDA"].map((symbol) => position({ symbol })) }),
      },
      max_positions_per_symbol: { accounts: account({ positions: [position()] }) },
      max_position_size: { limits: limits({ maxPositionPercent: 0.05 }) },
      max_notional: { limits: limits({ maxNotionalPerPosition: 50 }) },
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

    expect(Object.keys(cases).sort()).toEqual([...SKIP_REASON_CODES].sort());
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
      symbolAllowList: ["AAPL", "MSFT"],
      allowedAssetClasses: ["equity" as const],
    };
    const loosened = effectiveLimits(strict, {
      maxPositionPercent: 25,
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
