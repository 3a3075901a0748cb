import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PaperAccountState } from "../../shared/brokers/paper/engine";
import { fakeDiscordApi } from "../support/discord";
import {
  AAPL_LONG,
  AAPL_SELL_ALL,
  communityWithFollowers,
  deliver,
  executorOf,
  settle,
  submit,
  type TestCommunity,
} from "../support/execution";
import { interceptOrderQueue } from "../support/order-queue";
import { seedPaperAccount } from "../support/paper-accounts";

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => discord.restore());

async function paperPositions(community: TestCommunity, userId: string) {
  return runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
    const [row] = state.storage.sql
      .exec<{ state: string }>("select state from paper_accounts where user_id = ?", userId)
      .toArray();
    const account = JSON.parse(row?.state ?? "{}") as PaperAccountState;
    return Object.values(account.positions ?? {}).map((p) => ({ symbol: p.symbol, quantity: p.quantity }));
  });
}

async function signalsCounted(community: TestCommunity): Promise<number> {
  return runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
    const [row] = state.storage.sql
      .exec<{ value: number }>("select value from counters where key = 'signals'")
      .toArray();
    return row?.value ?? 0;
  });
}

describe("exit signals", () => {
  it("Scenario: Two exit signals in flight close the position once", async () => {
    const community = await communityWithFollowers(1);
    const [holder = ""] = community.followerIds;
    await seedPaperAccount(community, holder, {
      cash: 96_000,
      positions: [{ symbol: "AAPL", quantity: 20, averageCost: 200, lastPrice: 200 }],
      day: null,
    });
    const queue = interceptOrderQueue();
    try {
      const trim = await submit(community, { ...AAPL_SELL_ALL, action: "close", quantityPercent: 50 });
      const sell = await submit(community, AAPL_SELL_ALL);
      const close = await submit(community, { ...AAPL_SELL_ALL, action: "close" });
      const [trimOrder] = await community.tenant.execution.listOrders({ signalId: trim.signalId });
      const [sellOrder] = await community.tenant.execution.listOrders({ signalId: sell.signalId });
      expect(trimOrder).toMatchObject({ side: "sell", quantity: 10 });
      expect(sellOrder).toMatchObject({ side: "sell", quantity: 10 });
      expect(close.summary).toMatchObject({ ordersQueued: 0, skipped: { no_position_to_close: 1 } });
      expect(await community.tenant.execution.listOrders({ signalId: close.signalId })).toEqual([]);

      await deliver("order-submissions", queue.sentFor(community));
      expect(await paperPositions(community, holder)).toEqual([]);
    } finally {
      queue.restore();
    }
    await settle(community);
  });

  it("Scenario: A trim by shares closes the same fraction for every follower", async () => {
    const community = await communityWithFollowers(2);
    const [onDefault = "", onFixed = ""] = community.followerIds;
    await community.tenant.follows.upsert({
      followerUserId: onFixed,
      providerUserId: community.providerId,
      sizingMode: "fixed_quantity",
      amount: 40,
      mode: "auto",
    });
    for (const [userId, quantity] of [
      [onDefault, 100],
      [onFixed, 40],
    ] as const) {
      await seedPaperAccount(community, userId, {
        cash: 100_000 - quantity * 100,
        positions: [{ symbol: "NVDA", quantity, averageCost: 100, lastPrice: 100 }],
        day: null,
      });
    }
    const queue = interceptOrderQueue();
    try {
      // The provider's own entry: 40 shares (the followers already hold theirs, so they skip it).
      const entry = await submit(community, {
        ...AAPL_LONG,
        symbol: "NVDA",
        quantity: 40,
        entry: { price: 100 },
        stopLoss: 95,
        takeProfits: [{ price: 110, percent: null }],
      });
      expect(entry.summary.status).toBe("accepted");
      const trim = await submit(community, { ...AAPL_SELL_ALL, symbol: "NVDA", action: "close", quantity: 10 });
      expect(trim.summary).toMatchObject({ status: "accepted", ordersQueued: 2 });
      const orders = await community.tenant.execution.listOrders({ signalId: trim.signalId });
      const byMember = Object.fromEntries(orders.map((o) => [o.userId, o.quantity]));
      expect(byMember).toEqual({ [onDefault]: 25, [onFixed]: 10 });
    } finally {
      queue.restore();
    }
    await settle(community);
  });

  it("Scenario: An exit by shares without the provider's position is refused", async () => {
    const community = await communityWithFollowers(1);
    const [holder = ""] = community.followerIds;
    await seedPaperAccount(community, holder, {
      cash: 90_000,
      positions: [{ symbol: "TSLA", quantity: 40, averageCost: 250, lastPrice: 250 }],
      day: null,
    });
    const queue = interceptOrderQueue();
    try {
      const entry = await submit(community, {
        ...AAPL_LONG,
        symbol: "TSLA",
        quantity: null,
        entry: { price: 250 },
        stopLoss: 240,
        takeProfits: [{ price: 260, percent: null }],
      });
      expect(entry.summary.status).toBe("accepted");
      const trim = await submit(community, { ...AAPL_SELL_ALL, symbol: "TSLA", action: "close", quantity: 10 });
      expect(trim.summary).toMatchObject({ status: "refused", code: "EXIT_QUANTITY_UNKNOWN", ordersQueued: 0 });
      expect(trim.summary.message).toContain("as a percentage");
      expect(await community.tenant.execution.listOrders({ signalId: trim.signalId })).toEqual([]);
      expect((await community.tenant.execution.getSignal(trim.signalId))?.status).toBe("refused");
      expect(await signalsCounted(community)).toBe(1);
    } finally {
      queue.restore();
    }
    await settle(community);
  });
});
