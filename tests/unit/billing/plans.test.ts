import { describe, expect, it } from "vitest";
import {
  buildPlanCatalog,
  COMMUNITY_PLAN_IDS,
  DEFAULT_PLAN_CATALOG,
  nextPlanUp,
  ProviderPriceIdsSchema,
  planForPriceId,
  planRank,
  TRADER_PLAN_IDS,
  trialDaysOf,
} from "../../../shared/billing/plans";
import { loadConfig } from "../../../shared/config";

describe("plan table", () => {
  it("Scenario: Default plans follow the billing spec", () => {
    const { community, trader } = DEFAULT_PLAN_CATALOG;
    expect(community.free).toMatchObject({
      prices: { month: 0 },
      limits: { members: 10, providers: 2, signalsPerDay: 50 },
    });
    expect(community.professional).toMatchObject({
      prices: { month: 9_900, year: 99_000 },
      limits: { members: 100, providers: 10, signalsPerDay: 1_000 },
    });
    expect(community.enterprise).toMatchObject({
      prices: { month: 29_900, year: 299_000 },
      limits: { members: 1_000, providers: 50, signalsPerDay: 10_000 },
    });
    expect(trader.free.features).toEqual({
      liveTrading: false,
      maxLiveConnections: 0,
      analytics: false,
      priorityExecution: false,
    });
    expect(trader.basic).toMatchObject({
      prices: { month: 4_900 },
      features: { liveTrading: true, maxLiveConnections: 1 },
    });
    expect(trader.pro).toMatchObject({
      prices: { month: 9_900 },
      features: { maxLiveConnections: 3, analytics: true },
    });
    expect(trader.premium).toMatchObject({
      prices: { month: 29_900 },
      features: { maxLiveConnections: null, analytics: true, priorityExecution: true },
    });
    // Trials: 14 days for community plans and for Premium (the original's top trader plan), 7 for Basic and Pro.
    expect(COMMUNITY_PLAN_IDS.map((plan) => trialDaysOf(DEFAULT_PLAN_CATALOG, "community", plan))).toEqual([0, 14, 14]);
    expect(TRADER_PLAN_IDS.map((plan) => trialDaysOf(DEFAULT_PLAN_CATALOG, "trader", plan))).toEqual([0, 7, 7, 14]);
    expect(planRank("community", "enterprise")).toBeGreaterThan(planRank("community", "professional"));
    expect(planRank("trader", "unknown-plan")).toBe(0);
    expect(nextPlanUp("trader", "pro")).toBe("premium");
    expect(nextPlanUp("community", "enterprise")).toBeNull();
  });

  it("Scenario: Operators override names, prices and limits", () => {
    const catalog = buildPlanCatalog({
      community: {
        professional: { name: "Pro Community", limits: { members: 150 } },
        free: { prices: { month: 500 } },
      },
      trader: { basic: { prices: { year: 49_000 } }, pro: { trialDays: 21 } },
      trialDays: { trader: 10 },
    });
    expect(catalog.community.professional).toMatchObject({
      name: "Pro Community",
      prices: { month: 9_900, year: 99_000 },
      limits: { members: 150, providers: 10, signalsPerDay: 1_000 },
    });
    expect(catalog.community.free.prices).toEqual({ month: 0, year: 0 });
    expect(catalog.trader.basic.prices).toEqual({ month: 4_900, year: 49_000 });
    // A table-wide trial applies to its paid plans; a plan's own wins; free plans never have one.
    expect(TRADER_PLAN_IDS.map((plan) => trialDaysOf(catalog, "trader", plan))).toEqual([0, 10, 21, 10]);
    expect(trialDaysOf(catalog, "community", "professional")).toBe(14);
    expect(DEFAULT_PLAN_CATALOG.community.professional.limits.members).toBe(100);

    // Through the config: JSON vars, validated, and problems name the variable without quoting it.
    const base = { ENVIRONMENT: "test" };
    const good = loadConfig({
      ...base,
      BILLING_PLAN_OVERRIDES: '{"community":{"enterprise":{"limits":{"signalsPerDay":20000}}}}',
      STRIPE_PRICE_IDS: '{"community.professional.month":"price_123"}',
    });
    expect(good.ok && good.config.BILLING_PLAN_OVERRIDES?.community?.enterprise?.limits?.signalsPerDay).toBe(20_000);
    expect(good.ok && good.config.STRIPE_PRICE_IDS).toEqual({ "community.professional.month": "price_123" });
    const bad = loadConfig({
      ...base,
      BILLING_PLAN_OVERRIDES: "{oops",
      POLAR_PRODUCT_IDS: '{"community.free.month":"x"}',
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problems.map((problem) => problem.variable).sort()).toEqual([
      "BILLING_PLAN_OVERRIDES",
      "POLAR_PRODUCT_IDS",
    ]);
    expect(JSON.stringify(bad.problems)).not.toContain("{oops");
  });

  it("maps provider price ids back to plans", () => {
    const ids = ProviderPriceIdsSchema.parse({
      "trader.pro.month": "price_pro",
      "community.enterprise.year": "price_ent_y",
    });
    expect(planForPriceId(ids, "price_ent_y")).toEqual({ subject: "community", plan: "enterprise", interval: "year" });
    expect(planForPriceId(ids, "price_other")).toBeNull();
    expect(ProviderPriceIdsSchema.safeParse({ "trader.free.month": "x" }).success).toBe(false);
  });
});
