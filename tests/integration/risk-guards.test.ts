import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { directMessagesTo, fakeDiscordApi } from "../support/discord";
import {
  AAPL_LONG,
  communityWithFollowers,
  executorOf,
  AAPL_MARKET_BUY as MARKET_BUY,
  settle,
  submit,
} from "../support/execution";
import { seedPaperAccount, utcDate } from "../support/paper-accounts";
import { SATURDAY_MORNING } from "../support/risk-defaults";

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => {
  vi.useRealTimers();
  discord.restore();
});

describe("trading hours in the executor", () => {
  it("Scenario: An equity entry outside regular hours is refused and the member told", async () => {
    // The product default (regular hours only); the second member opted into extended hours.
    const community = await communityWithFollowers(2, {}, {});
    const [regular = "", extended = ""] = community.followerIds;
    await community.tenant.riskProfiles.setSettings(extended, { regularHoursOnly: false });

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(SATURDAY_MORNING);
    const equity = await submit(community, MARKET_BUY);
    const crypto = await submit(community, {
      ...MARKET_BUY,
      assetClass: "crypto",
      symbol: "BTC/USD",
      orderType: "limit",
      entry: { price: 60_000 },
      quantity: 0.01,
    });
    vi.useRealTimers();

    expect(equity.summary).toMatchObject({ ordersQueued: 1, skipped: { outside_regular_hours: 1 } });
    const [placed] = await community.tenant.execution.listOrders({ signalId: equity.signalId });
    expect(placed?.userId).toBe(extended);
    expect(crypto.summary).toMatchObject({ ordersQueued: 2, skipped: {} });
    await vi.waitFor(async () => {
      const told = await directMessagesTo(discord, regular);
      expect(told.some((text) => text.includes("⏭️ Not copied — @provider · BUY AAPL. The market is closed"))).toBe(
        true,
      );
    });
    expect((await directMessagesTo(discord, extended)).some((text) => text.includes("⏭️ Not copied"))).toBe(false);
    await settle(community);
  });
});

describe("total exposure in the executor", () => {
  it("Scenario: The total exposure cap reduces an entry through the executor", async () => {
    // The community allows 40% per position and ten positions; the member keeps 70% of equity at work at most.
    const community = await communityWithFollowers(
      1,
      { sizingMode: "fixed_quantity", amount: 300 },
      { regularHoursOnly: false, maxPositionPercent: 40, maxOpenPositions: 10 },
    );
    const [member = ""] = community.followerIds;
    await community.tenant.riskProfiles.setSettings(member, { maxTotalExposurePercent: 70 });
    // 100,000 of equity: 30,000 long MSFT and 30,000 short TSLA (a short's proceeds are in the cash).
    await seedPaperAccount(community, member, {
      cash: 100_000,
      positions: [
        { symbol: "MSFT", quantity: 300, averageCost: 100, lastPrice: 100 },
        { symbol: "TSLA", quantity: -300, averageCost: 100, lastPrice: 100 },
      ],
      day: { date: utcDate(Date.now()), startEquity: 100_000 },
    });

    const { summary, signalId } = await submit(community, { ...AAPL_LONG, entry: { price: 100 }, stopLoss: 95 });
    expect(summary).toMatchObject({ ordersQueued: 1, ordersReduced: 1 });
    const [order] = await community.tenant.execution.listOrders({ signalId });
    expect(order).toMatchObject({ userId: member, quantity: 100 });
    expect(order?.intent.reductions).toEqual([
      {
        reason: "max_total_exposure",
        from: 300,
        to: 100,
        message:
          "Reduced from 300 to 100 shares to fit your max total exposure of 70% of equity ($70,000.00, $60,000.00 already open or on its way).",
      },
    ]);
    await vi.waitFor(async () => {
      expect(
        (await directMessagesTo(discord, member)).some((text) => text.includes("to fit your max total exposure")),
      ).toBe(true);
    });
    await settle(community);
  });
});

describe("same-direction signals", () => {
  it("Scenario: A same-direction add within five seconds is combined into one position", async () => {
    const community = await communityWithFollowers(1, { sizingMode: "fixed_quantity", amount: 10 });
    const first = await submit(community, AAPL_LONG);
    expect(first.summary).toMatchObject({ ordersQueued: 1 });

    // A different size a moment later: an add to the same position, not a second AAPL position.
    const add = await submit(community, { ...AAPL_LONG, quantity: 5 });
    expect(add.summary).toMatchObject({
      status: "accepted",
      ordersQueued: 1,
      skipped: {},
      combinedWith: first.signalId,
    });
    expect(add.summary.message).toBe(
      "combined with your signal of a moment ago into one position; accepted: 1 follower → 1 order queued",
    );
    const [joined] = await community.tenant.execution.listOrders({ signalId: add.signalId });
    expect(joined?.intent.notes).toContain(
      "Combined with the provider's AAPL entry of a moment ago: this adds to that one position.",
    );

    // The same add more than 5 s later is a signal of its own: a second AAPL position, which the limit refuses.
    await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
      state.storage.sql.exec("update recent_signals set at = at - 6000");
    });
    const late = await submit(community, { ...AAPL_LONG, quantity: 7 });
    expect(late.summary).toMatchObject({ ordersQueued: 0, skipped: { max_positions_per_symbol: 1 } });
    expect(late.summary.combinedWith).toBeUndefined();
    await settle(community);
  });
});
