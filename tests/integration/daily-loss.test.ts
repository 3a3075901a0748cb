import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { upsertUser } from "../../platform/db/users";
import { directMessagesTo, fakeDiscordApi, snowflake } from "../support/discord";
import {
  communityWithFollowers,
  db,
  executorOf,
  AAPL_MARKET_BUY as MARKET_BUY,
  settle,
  submit,
  type TestCommunity,
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

  it("Scenario: The circuit breaker flattens, locks the account and alerts the admins", async () => {
    const community = await communityWithFollowers(1);
    const [follower = ""] = community.followerIds;
    const admin = await upsertUser(db, { discordId: snowflake(), username: "admin" });
    await community.tenant.memberships.upsert(admin.id, "admin");
    await seedDownNinePercent(community, follower);

    const { summary, signalId } = await submit(community, { ...MARKET_BUY, symbol: "MSFT" });
    expect(summary).toMatchObject({ ordersQueued: 0, skipped: { circuit_breaker: 1 } });
    const flatten = (await community.tenant.execution.listOrders({ signalId })).filter((o) =>
      o.leg.startsWith("flatten"),
    );
    expect(flatten).toMatchObject([{ symbol: "AAPL", side: "sell", quantity: 50 }]);
    expect(await lockOf(community, follower)).toMatchObject({ loss_percent: 9, unlocked_at: null });
    const [locked] = await auditOf(community, "risk.account_locked");
    expect(locked).toMatchObject({ actor_id: null, target: follower });
    expect(JSON.parse(locked?.data ?? "{}")).toMatchObject({ lossPercent: 9, limitPercent: 8, signalId });

    await vi.waitFor(async () => {
      const member = await directMessagesTo(discord, follower);
      expect(member.some((text) => text.startsWith("🔒 Your personal circuit breaker tripped: you are down 9%"))).toBe(
        true,
      );
      const admins = await directMessagesTo(discord, admin.id);
      expect(admins.some((text) => text.includes("personal circuit breaker tripped: down 9% today (limit 8%)"))).toBe(
        true,
      );
    });
    await settle(community);
  });

  it("Scenario: A locked account stays locked until the member or an admin unlocks it", async () => {
    const community = await communityWithFollowers(2);
    const [member = "", other = ""] = community.followerIds;
    const admin = await upsertUser(db, { discordId: snowflake(), username: "admin" });
    await seedDownNinePercent(community, member);
    await seedDownNinePercent(community, other);
    const tripped = await submit(community, { ...MARKET_BUY, symbol: "MSFT" });
    expect(tripped.summary.skipped).toEqual({ circuit_breaker: 2 });
    const executor = executorOf(community.communityId);

    // The member unlocks the same day: the lock goes, the day's pause stays, and the breaker does not trip again.
    const mine = await executor.unlockAccount({ communityId: community.communityId, userId: member, actorId: member });
    expect(mine).toMatchObject({ unlocked: true });
    expect(mine.message).toMatch(/^Unlocked: new entries resume at .+ \(00:00 UTC\), when today's pause ends\.$/);
    const sameDay = await submit(community, { ...MARKET_BUY, symbol: "NVDA" });
    expect(sameDay.summary.skipped).toEqual({ circuit_breaker: 1, account_locked: 1 });
    expect((await community.tenant.execution.listOrders({ signalId: sameDay.signalId })).length).toBe(0);
    expect(await auditOf(community, "risk.account_locked")).toHaveLength(2);

    // A new day: the other member's account is still locked and refuses entries, but an exit goes out.
    await settle(community); // the flattens are done before the accounts are set for the new day
    await runInDurableObject(executor, async (_instance, state) => {
      state.storage.sql.exec("delete from pauses");
      state.storage.sql.exec("update locks set day = '2026-01-01'");
    });
    const today = { date: utcDate(Date.now()), startEquity: 100_000 };
    for (const userId of [member, other]) {
      await seedPaperAccount(community, userId, {
        cash: 90_000,
        positions: [{ symbol: "TSLA", quantity: 100, averageCost: 100, lastPrice: 100 }],
        day: today,
      });
    }
    const nextDay = await submit(community, { ...MARKET_BUY, symbol: "AMD" });
    expect(nextDay.summary).toMatchObject({ ordersQueued: 1, skipped: { account_locked: 1 } });
    const [placed] = await community.tenant.execution.listOrders({ signalId: nextDay.signalId });
    expect(placed?.userId).toBe(member);
    // At the position's own price (the development feed anchors its walk there), so the day's figures hold still.
    const exit = await submit(community, {
      ...MARKET_BUY,
      action: "sell",
      symbol: "TSLA",
      quantity: null,
      orderType: "limit",
      entry: { price: 100 },
    });
    expect(exit.summary).toMatchObject({ ordersQueued: 2, skipped: {} });

    // An admin unlocks the other member: audited with the admin as actor, and the member is told.
    const byAdmin = await executor.unlockAccount({
      communityId: community.communityId,
      userId: other,
      actorId: admin.id,
    });
    expect(byAdmin).toEqual({ unlocked: true, pausedUntil: null, message: "Unlocked: new entries are placed again." });
    const unlocks = await auditOf(community, "risk.account_unlocked");
    expect(unlocks.map((row) => [row.actor_id, row.target])).toEqual([
      [member, member],
      [admin.id, other],
    ]);
    expect(
      (await executor.unlockAccount({ communityId: community.communityId, userId: other, actorId: admin.id })).unlocked,
    ).toBe(false);
    const after = await submit(community, { ...MARKET_BUY, symbol: "INTC" });
    expect(after.summary).toMatchObject({ ordersQueued: 2, skipped: {} });
    await vi.waitFor(async () => {
      expect(
        (await directMessagesTo(discord, other)).some((text) => text.startsWith("🔓 An admin unlocked your account")),
      ).toBe(true);
    });
    await settle(community);
  });
});

/** 100,000 at 00:00 UTC, now 91,000: 50 AAPL bought at 200 mark at 20. */
async function seedDownNinePercent(community: TestCommunity, userId: string) {
  await seedPaperAccount(community, userId, {
    cash: 90_000,
    positions: [{ symbol: "AAPL", quantity: 50, averageCost: 200, lastPrice: 20 }],
    day: { date: utcDate(Date.now()), startEquity: 100_000 },
  });
}

async function lockOf(community: TestCommunity, userId: string) {
  return runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
    const [row] = state.storage.sql
      .exec<{ loss_percent: number; unlocked_at: number | null }>(
        "select loss_percent, unlocked_at from locks where user_id = ?",
        userId,
      )
      .toArray();
    return row ?? null;
  });
}

async function auditOf(community: TestCommunity, event: string) {
  const rows = await env.DB.prepare(
    "select actor_id, target, data from audit_log where community_id = ? and event = ? order by seq",
  )
    .bind(community.communityId, event)
    .all<{ actor_id: string | null; target: string | null; data: string }>();
  return rows.results;
}
