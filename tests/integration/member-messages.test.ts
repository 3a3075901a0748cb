import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { utcDay } from "../../shared/risk/daily-loss";
import { directMessagesTo, fakeDiscordApi } from "../support/discord";
import {
  AAPL_LONG,
  communityWithFollowers,
  deliver,
  executorOf,
  AAPL_MARKET_BUY as MARKET_BUY,
  queuedMessages,
  settle,
  submit,
  type TestCommunity,
} from "../support/execution";
import { seedPaperAccount } from "../support/paper-accounts";
import { SATURDAY_MORNING } from "../support/risk-defaults";

const BADGE = "🧪 PAPER · Test community · from @provider";

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => {
  vi.useRealTimers();
  discord.restore();
});

async function dmStartingWith(userId: string, start: string): Promise<string> {
  return vi.waitFor(
    async () => {
      const found = (await directMessagesTo(discord, userId)).find((text) => text.startsWith(start));
      if (!found)
        throw new Error(
          `no DM starting with ${JSON.stringify(start)} yet: ${JSON.stringify(await directMessagesTo(discord, userId))}`,
        );
      return found;
    },
    { timeout: 10_000, interval: 50 },
  );
}

/** A follower who already holds one position (MSFT) and allows one open position. */
async function fullFollower(community: TestCommunity): Promise<string> {
  const [follower = ""] = community.followerIds;
  await community.tenant.riskProfiles.setSettings(follower, { maxOpenPositions: 1 });
  await seedPaperAccount(community, follower, {
    cash: 96_000,
    positions: [{ symbol: "MSFT", quantity: 10, averageCost: 400, lastPrice: 400 }],
    day: null,
  });
  return follower;
}

/** A follower's copy of a market buy, sent to the paper broker (which fills it at once), and its fill message. */
async function marketBuyFilled() {
  const community = await communityWithFollowers(1);
  const [follower = ""] = community.followerIds;
  await submit(community, MARKET_BUY);
  await deliver("order-submissions", await queuedMessages(community));
  const fill = await dmStartingWith(follower, `${BADGE}\n✅ Filled`);
  return { community, follower, fill };
}

describe("order messages", () => {
  it("Scenario: Every order message carries one badge", async () => {
    const { community, fill } = await marketBuyFilled();
    expect(fill.split("\n")[1]).toMatch(/^✅ Filled: bought [\d,]+ × AAPL @ \$[\d,]+\.\d{2,}, \$[\d,]+\.\d\d total\.$/);
    await settle(community);
  });

  it("Scenario: An entry filled at once carries its explanations in the fill message", async () => {
    const { community, follower, fill } = await marketBuyFilled();
    expect(fill).toMatch(
      /\n• Sized at .* \(the default sizing\): [\d,]+ shares at \$[\d,.]+, \$[\d,.]+; the provider's signal said 10\./,
    );
    expect(fill).toContain("\n• The signal has no stop: default stop 2% below the entry, at $");
    await settle(community);
    expect((await directMessagesTo(discord, follower)).some((text) => text.includes("📨 Order placed"))).toBe(false);
  });
});

describe("skipped copies", () => {
  it("Scenario: A skipped copy is told to the member with the reason and the way out", async () => {
    const community = await communityWithFollowers(1);
    const follower = await fullFollower(community);
    const { summary } = await submit(community, AAPL_LONG);
    expect(summary).toMatchObject({ ordersQueued: 0, skipped: { max_open_positions: 1 } });
    const told = await dmStartingWith(follower, BADGE);
    expect(told).toBe(
      `${BADGE}\n⏭️ Not copied — @provider · BUY AAPL. You hold 1 of 1 open positions. Close one (/portfolio) or change your limits (/risk set).`,
    );
    await settle(community);
  });

  it("Scenario: A standing reason is told once a day", async () => {
    const community = await communityWithFollowers(1, {}, {});
    const [follower = ""] = community.followerIds;
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(SATURDAY_MORNING);
    await submit(community, MARKET_BUY);
    await submit(community, { ...MARKET_BUY, symbol: "NVDA" });
    vi.useRealTimers();
    const told = await dmStartingWith(follower, BADGE);
    expect(told).toBe(
      `${BADGE}\n⏭️ Not copied — @provider · BUY AAPL. The market is closed (regular hours are 09:30–16:00 New York time, Monday to Friday). Orders are not held for the next open, so nothing was placed; you may opt into extended hours with /risk hours. You are told this once a day: other signals today are not copied for the same reason.`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await directMessagesTo(discord, follower)).toHaveLength(1);
    await settle(community);
  });

  it("Scenario: Members who chose the digest get one message a day", async () => {
    const community = await communityWithFollowers(1);
    const follower = await fullFollower(community);
    await community.tenant.riskProfiles.setSkipNotices(follower, "digest");
    await submit(community, AAPL_LONG);
    await submit(community, { ...AAPL_LONG, symbol: "NVDA" });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await directMessagesTo(discord, follower)).toEqual([]);

    const executor = executorOf(community.communityId);
    // Today's skips wait for the day to end.
    expect(await executor.sendSkipDigests({ communityId: community.communityId })).toEqual({ sent: 0 });
    const today = utcDay(Date.now());
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 24 * 3_600_000);
    expect(await executor.sendSkipDigests({ communityId: community.communityId })).toEqual({ sent: 1 });
    expect(await executor.sendSkipDigests({ communityId: community.communityId })).toEqual({ sent: 0 });
    vi.useRealTimers();
    const digest = await dmStartingWith(follower, "🧪 PAPER · Test community\n📋");
    expect(digest).toBe(
      [
        "🧪 PAPER · Test community",
        `📋 Daily digest for ${today}: 2 signals you follow were not copied.`,
        "• @provider · BUY AAPL: You hold 1 of 1 open positions.",
        "• @provider · BUY NVDA: You hold 1 of 1 open positions.",
        "To hear about each one as it happens: /risk notify skips:each.",
      ].join("\n"),
    );
    await settle(community);
  });
});
