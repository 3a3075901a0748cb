import { describe, expect, it } from "vitest";
import {
  canAddLiveConnection,
  canAddProvider,
  canFollow,
  canTradeLive,
  canUseAnalytics,
  checkSignalQuota,
  entitlements,
} from "../../../shared/billing/entitlements";
import { buildPlanCatalog } from "../../../shared/billing/plans";

const ent = (
  communityPlan: string,
  traderPlan: string,
  urls = { community: "https://x/up-c", trader: "https://x/up-t" },
) =>
  entitlements({
    community: { id: "c1", plan: communityPlan },
    member: { userId: "u1", plan: traderPlan },
    upgradeUrls: urls,
  });

describe("entitlements", () => {
  it("answers limits and member features from the plans", () => {
    expect(ent("professional", "pro")).toMatchObject({
      communityPlan: "professional",
      limits: { members: 100, providers: 10, signalsPerDay: 1_000 },
      member: {
        traderPlan: "pro",
        liveTrading: true,
        maxLiveConnections: 3,
        analytics: true,
        priorityExecution: false,
      },
      upgrade: { community: { plan: "enterprise", url: "https://x/up-c" }, trader: { plan: "premium" } },
    });
    // Unknown plans (a renamed or removed plan in the database) count as free.
    expect(ent("gold", "diamond")).toMatchObject({ communityPlan: "free", member: { traderPlan: "free" } });
    const custom = entitlements({
      community: { id: "c1", plan: "professional" },
      catalog: buildPlanCatalog({ community: { professional: { limits: { signalsPerDay: 5 } } } }),
    });
    expect(custom.limits.signalsPerDay).toBe(5);
    expect(custom.member).toBeUndefined();
  });

  it("Scenario: Gated actions explain the denial and point at the upgrade", () => {
    const free = ent("free", "free");
    const live = canTradeLive(free);
    expect(live).toMatchObject({ allowed: false, code: "LIVE_TRADING_NOT_IN_PLAN", upgrade: { plan: "basic" } });
    expect(!live.allowed && live.reason).toBe(
      "Your Free plan is paper trading only; live trading needs a paid trader plan. Upgrade to Basic with /subscription or at https://x/up-t .",
    );
    expect(canAddLiveConnection(free, 0)).toMatchObject({ allowed: false, code: "LIVE_TRADING_NOT_IN_PLAN" });
    expect(canAddLiveConnection(ent("free", "basic"), 0)).toEqual({ allowed: true });
    const full = canAddLiveConnection(ent("free", "basic"), 1);
    expect(full).toMatchObject({ allowed: false, code: "LIVE_CONNECTION_LIMIT_REACHED", upgrade: { plan: "pro" } });
    expect(!full.allowed && full.reason).toContain("allows 1 live broker connection, and all are in use");
    expect(canAddLiveConnection(ent("free", "premium"), 500)).toEqual({ allowed: true });
    expect(canUseAnalytics(ent("free", "basic"))).toMatchObject({ allowed: false, code: "ANALYTICS_NOT_IN_PLAN" });
    expect(canUseAnalytics(ent("free", "pro"))).toEqual({ allowed: true });

    expect(canAddProvider(free, 1)).toEqual({ allowed: true });
    const providers = canAddProvider(free, 2);
    expect(!providers.allowed && providers.reason).toContain("Upgrade to Professional with /subscription or at ");
    expect(canFollow(free, 9)).toEqual({ allowed: true });
    expect(canFollow(free, 10)).toMatchObject({ allowed: false, code: "MEMBER_LIMIT_REACHED" });
    expect(checkSignalQuota(free, 49)).toEqual({ allowed: true });

    // At the top plan there is nothing to upgrade to, and the message says only what happened.
    const top = checkSignalQuota(ent("enterprise", "premium", { community: "", trader: "" }), 10_000);
    expect(top).toMatchObject({ allowed: false, code: "SIGNAL_LIMIT_REACHED", upgrade: null });
    expect(!top.allowed && top.reason).toBe(
      "This community's Enterprise plan allows 10000 signals a day (UTC), and today's are used up, so nothing was executed.",
    );
    // Without a link (the reader is not an owner or admin of the community), they are told whom to ask.
    const noLink = canFollow(entitlements({ community: { id: "c", plan: "free" } }), 10);
    expect(
      !noLink.allowed &&
        noLink.reason.endsWith("Ask an owner or admin to upgrade to Professional (they can use /subscription)."),
    ).toBe(true);
  });
});
