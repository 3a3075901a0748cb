import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  communityWithFollowers,
  fakeDiscordApi,
  AAPL_MARKET_BUY as MARKET_BUY,
  settle,
  submit,
} from "../support/execution";
import { seedPaperAccount, utcDate } from "../support/paper-accounts";

const DAY_MS = 24 * 3600_000;

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => discord.restore());

describe("daily loss limit and circuit breaker in the executor", () => {
  it("Scenario: A loss realized today trips the daily loss limit", async () => {
    const community = await communityWithFollowers(1);
    const [follower = ""] = community.followerIds;
    // 100,000 at 00:00 UTC; a round trip this morning lost 6,000 and nothing is open now.
    await seedPaperAccount(community, follower, {
      cash: 94_000,
      realizedPnl: -6_000,
      day: { date: utcDate(Date.now()), startEquity: 100_000 },
    });
    const { summary } = await submit(community, { ...MARKET_BUY, symbol: "MSFT" });
    expect(summary).toMatchObject({ ordersQueued: 0, skipped: { daily_loss_limit: 1 } });
    const next = await submit(community, { ...MARKET_BUY, symbol: "NVDA" });
    expect(next.summary.skipped).toEqual({ daily_loss_limit: 1 });
    await settle(community);
  });

  it("Scenario: A loss carried from yesterday does not trip the daily loss limit", async () => {
    const community = await communityWithFollowers(1);
    const [follower = ""] = community.followerIds;
    // Bought 50 AAPL at 200 yesterday on 100,000; it closed yesterday at 100 and has not moved today.
    const yesterday = Date.now() - DAY_MS;
    await seedPaperAccount(community, follower, {
      cash: 90_000,
      positions: [{ symbol: "AAPL", quantity: 50, averageCost: 200, lastPrice: 100 }],
      day: { date: utcDate(yesterday), startEquity: 100_000 },
      markedAt: yesterday,
    });
    const { summary, signalId } = await submit(community, { ...MARKET_BUY, symbol: "MSFT" });
    expect(summary).toMatchObject({ ordersQueued: 1, skipped: {} });
    const orders = await community.tenant.execution.listOrders({ signalId });
    expect(orders.map((o) => o.leg)).toEqual(["entry"]);
    await settle(community);
  });

  it("Scenario: The circuit breaker trips on profits given back from today's high", async () => {
    const community = await communityWithFollowers(1);
    const [follower = ""] = community.followerIds;
    const today = { date: utcDate(Date.now()), startEquity: 100_000 };
    // Up 10% this morning: 50 AAPL bought at 200 now mark at 400.
    await seedPaperAccount(community, follower, {
      cash: 90_000,
      positions: [{ symbol: "AAPL", quantity: 50, averageCost: 200, lastPrice: 400 }],
      day: today,
    });
    const first = await submit(community, { ...MARKET_BUY, symbol: "MSFT" });
    expect(first.summary).toMatchObject({ ordersQueued: 1 });
    // AAPL falls back to 218: 100,900, still up on the day but 8.3% below the high.
    await seedPaperAccount(community, follower, {
      cash: 90_000,
      positions: [{ symbol: "AAPL", quantity: 50, averageCost: 200, lastPrice: 218 }],
      day: today,
    });
    const { summary, signalId } = await submit(community, { ...MARKET_BUY, symbol: "NVDA" });
    expect(summary.skipped).toEqual({ circuit_breaker: 1 });
    const flatten = (await community.tenant.execution.listOrders({ signalId })).filter((o) =>
      o.leg.startsWith("flatten"),
    );
    expect(flatten).toMatchObject([{ symbol: "AAPL", side: "sell", quantity: 50 }]);
    await settle(community);
  });
});
