import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PaperBrokerAdapter } from "../../shared/brokers/paper/adapter";
import type { NormalizedSignal } from "../../shared/signals/schema";
import { fakeDiscordApi, snowflake } from "../support/discord";
import {
  AAPL_LONG,
  communityWithFollowers,
  deliver,
  executorOf,
  AAPL_MARKET_BUY as MARKET_AAPL,
  settle,
  submit,
  type TestCommunity,
} from "../support/execution";
import { interceptOrderQueue } from "../support/order-queue";

const RESTING_BUY = { ...AAPL_LONG, entry: { price: 1 }, stopLoss: null, takeProfits: [] } satisfies NormalizedSignal;

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => {
  discord.restore();
  vi.restoreAllMocks();
});

async function queuedOrder(community: TestCommunity) {
  const { signalId } = await submit(community, RESTING_BUY);
  const [order] = await community.tenant.execution.listOrders({ signalId });
  expect(order).toMatchObject({ status: "queued" });
  return order ?? expect.fail("no order");
}

describe("kill switch guards", () => {
  it("Scenario: A halt cancels only its own community's queued orders", async () => {
    const halted = await communityWithFollowers(1);
    const other = await communityWithFollowers(1);
    const queue = interceptOrderQueue();
    try {
      const mine = await queuedOrder(halted);
      const theirs = await queuedOrder(other);
      const result = await executorOf(halted.communityId).halt({
        communityId: halted.communityId,
        reason: "test",
        actorId: null,
      });
      expect(result.canceledOrders).toBe(1);
      expect(await halted.tenant.execution.getOrder(mine.id)).toMatchObject({ status: "canceled" });
      expect((await halted.tenant.execution.orderEvents(mine.id)).at(-1)).toMatchObject({ cause: "kill_switch" });
      expect(await other.tenant.execution.getOrder(theirs.id)).toMatchObject({
        status: "queued",
        updatedAt: theirs.updatedAt,
      });
    } finally {
      queue.restore();
    }
    await settle(halted);
    await settle(other);
  });

  it("Scenario: An order message delivered while halted never reaches the broker", async () => {
    const community = await communityWithFollowers(1);
    const queue = interceptOrderQueue();
    const placements = vi.spyOn(PaperBrokerAdapter.prototype, "placeOrder");
    try {
      const order = await queuedOrder(community);
      // The executor learns of the halt from the community's settings; its queued orders are not swept here.
      await community.tenant.community.setHalted(true, { actorId: null, reason: "test" });
      expect(await executorOf(community.communityId).syncSettings({ communityId: community.communityId })).toEqual({
        ok: true,
        halted: true,
      });
      expect(await community.tenant.execution.getOrder(order.id)).toMatchObject({ status: "queued" });

      const result = await deliver("order-submissions", queue.sentFor(community));
      expect(result.explicitAcks).toHaveLength(1);
      expect(await community.tenant.execution.getOrder(order.id)).toMatchObject({ status: "canceled" });
      expect((await community.tenant.execution.orderEvents(order.id)).at(-1)).toMatchObject({
        fromStatus: "queued",
        toStatus: "canceled",
        cause: "kill_switch",
      });
      expect(placements).not.toHaveBeenCalled();
    } finally {
      queue.restore();
    }
    await settle(community);
  });
});

describe("kill switch and orders that reduce a position", () => {
  const SELL_AAPL = { ...MARKET_AAPL, action: "sell", quantity: null } satisfies NormalizedSignal;

  it("Scenario: A halt keeps orders that only reduce a position working", async () => {
    const community = await communityWithFollowers(1);
    const queue = interceptOrderQueue();
    const placements = vi.spyOn(PaperBrokerAdapter.prototype, "placeOrder");
    try {
      await submit(community, MARKET_AAPL);
      await deliver("order-submissions", queue.sentFor(community));
      const [entry] = await community.tenant.execution.listOrders({ status: "filled" });
      expect(entry).toMatchObject({ leg: "entry", symbol: "AAPL" });
      const exitSignal = await submit(community, SELL_AAPL);
      const openingSignal = await submit(community, { ...RESTING_BUY, symbol: "MSFT" });
      const [exit] = await community.tenant.execution.listOrders({ signalId: exitSignal.signalId });
      const [opening] = await community.tenant.execution.listOrders({ signalId: openingSignal.signalId });
      expect(exit).toMatchObject({ leg: "exit", status: "queued" });
      expect(opening).toMatchObject({ leg: "entry", status: "queued" });

      const halt = await executorOf(community.communityId).halt({
        communityId: community.communityId,
        reason: "test",
        actorId: null,
      });
      expect(halt.canceledOrders).toBe(1);
      expect(await community.tenant.execution.getOrder(opening?.id ?? "")).toMatchObject({ status: "canceled" });
      expect(await community.tenant.execution.getOrder(exit?.id ?? "")).toMatchObject({ status: "queued" });

      const before = placements.mock.calls.length;
      await deliver("order-submissions", queue.sentFor(community));
      expect(await community.tenant.execution.getOrder(exit?.id ?? "")).toMatchObject({ status: "filled" });
      expect(placements.mock.calls.length - before).toBe(1);
      const positions = await community.tenant.execution.positionsOf();
      expect(positions.find((p) => p.symbol === "AAPL")?.quantity ?? 0).toBe(0);
    } finally {
      queue.restore();
    }
    await settle(community);
  });

  it("Scenario: A member can reduce their own position during a halt", async () => {
    const community = await communityWithFollowers(1);
    const [member = ""] = community.followerIds;
    const queue = interceptOrderQueue();
    try {
      await submit(community, MARKET_AAPL);
      await deliver("order-submissions", queue.sentFor(community));
      await executorOf(community.communityId).halt({
        communityId: community.communityId,
        reason: "test",
        actorId: null,
      });
      const trade = (signal: NormalizedSignal) =>
        executorOf(community.communityId).submitManualTrade({
          signalId: crypto.randomUUID(),
          communityId: community.communityId,
          userId: member,
          signal,
          sourceId: snowflake(),
          sourceTimestamp: Date.now(),
        });
      expect(await trade(MARKET_AAPL)).toMatchObject({ status: "refused", code: "COMMUNITY_HALTED" });
      expect(await trade(SELL_AAPL)).toMatchObject({ status: "accepted", ordersQueued: 1 });
    } finally {
      queue.restore();
    }
    await settle(community);
  });
});
