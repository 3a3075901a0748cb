import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommunityExecutor } from "../../durable-objects/community-executor";
import type { PaperAccountState } from "../../shared/brokers/paper/engine";
import { parseSignal } from "../../shared/signals/parser";
import { fakeDiscordApi, snowflake } from "../support/discord";
import {
  communityWithFollowers,
  deliver,
  executorOf,
  queuedMessages,
  settle,
  submit,
  type TestCommunity,
} from "../support/execution";
import { AROUND_THE_CLOCK } from "../support/risk-defaults";

/**
 * A provider's entry with a trailing stop (risk-management, "Trailing stops from the signal"), through the real
 * executor, D1 and paper broker: the follower's protective stop is a reduce-only trailing stop placed after the fill.
 */

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => discord.restore());

/** Moves the paper market's price walk for an instrument key. */
async function movePrice(community: TestCommunity, key: string, price: number) {
  await runInDurableObject(executorOf(community.communityId), async (instance: CommunityExecutor) => {
    const parts = (instance as unknown as { parts: { paper: { quotes: { anchor?(k: string, p: number): void } } } })
      .parts;
    parts.paper.quotes.anchor?.(key, price);
  });
}

async function paperAccount(community: TestCommunity, userId: string): Promise<PaperAccountState> {
  return runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
    const [row] = state.storage.sql
      .exec<{ state: string }>("select state from paper_accounts where user_id = ?", userId)
      .toArray();
    return JSON.parse(row?.state ?? "null") as PaperAccountState;
  });
}

describe("a trailing stop inside an entry signal", () => {
  it("Scenario: A paper follower's entry with a trailing stop ends with a reduce-only trailing stop", async () => {
    // Room for the 1% risk size (about 50,000 at 190) under the position cap, so the size shows the trail's distance.
    const community = await communityWithFollowers(1, {}, { ...AROUND_THE_CLOCK, maxPositionPercent: 60 });
    const [follower = ""] = community.followerIds;
    const parsed = parseSignal("BUY AAPL 190 TS 2%");
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(parsed.signal).toMatchObject({ orderType: "limit", entry: { price: 190 }, trailingStop: { percent: 2 } });

    const { signalId } = await submit(community, parsed.signal);
    // The market trades just under the limit, so the entry fills when it is sent.
    await movePrice(community, "AAPL", 189);
    await deliver("order-submissions", await queuedMessages(community));

    const orders = await community.tenant.execution.listOrders({ signalId, limit: 1000 });
    const entry = orders.find((o) => o.userId === follower && o.leg === "entry");
    // 1% of the 100,000 paper equity over the 2% trail at 190 (3.80 a share): 263 shares (the default sizing
    // without a stop, 2% of equity, would be 10).
    expect(entry).toMatchObject({ status: "filled", quantity: 263, filledQuantity: 263 });
    const fill = entry?.averageFillPrice ?? 0;
    expect(fill).toBeGreaterThan(0);
    expect(fill).toBeLessThanOrEqual(190);

    const exits = orders.filter((o) => o.parentOrderId === entry?.id);
    const stops = exits.filter((o) => o.leg === "stop");
    expect(stops.map((o) => [o.orderType, o.side, o.quantity, o.status])).toEqual([
      ["trailing_stop", "sell", 263, "submitted"],
    ]);
    expect(stops[0]?.intent).toMatchObject({
      orderType: "trailing_stop",
      trail: { percent: 2 },
      positionEffect: "close",
    });
    // Its level is 2% under the best price the broker has seen since it was placed (about the fill).
    const level = stops[0]?.stopPrice ?? 0;
    expect(level).toBeGreaterThan(fill * 0.97);
    expect(level).toBeLessThanOrEqual(fill * 0.98 + 0.01);
    expect(exits.some((o) => o.orderType === "stop")).toBe(false);

    // At the paper broker: a reduce-only trailing sell of the whole fill, trailing 2%.
    const account = await paperAccount(community, follower);
    const working = Object.values(account.orders).filter((o) => o.orderType === "trailing_stop");
    expect(working).toHaveLength(1);
    expect(working[0]).toMatchObject({
      side: "sell",
      quantity: 263,
      reduceOnly: true,
      status: "submitted",
      trail: { percent: 2 },
    });
    expect(Object.values(account.orders).some((o) => o.orderType === "stop")).toBe(false);
    await settle(community);
  });

  it("Scenario: A stop move turns a trailing stop into a fixed stop at the new price", async () => {
    const community = await communityWithFollowers(1, { sizingMode: "fixed_quantity", amount: 5 });
    const [follower = ""] = community.followerIds;
    const parsed = parseSignal("BUY AAPL 190 TS 2%");
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const { signalId } = await submit(community, parsed.signal);
    await movePrice(community, "AAPL", 189);
    await deliver("order-submissions", await queuedMessages(community));

    const outcome = await executorOf(community.communityId).manageTrades({
      communityId: community.communityId,
      providerUserId: community.providerId,
      sourceId: snowflake(),
      sourceTimestamp: Date.now(),
      signalId,
      management: { stop: { price: 180 }, cancelEntries: false, closePercent: null, symbol: null, reported: false },
    });
    expect(outcome).toMatchObject({ ok: true, stopsMoved: 1 });
    const stops = (await community.tenant.execution.listOrders({ userId: follower, limit: 1000 }))
      .reverse()
      .filter((o) => o.leg === "stop");
    expect(stops.map((o) => [o.orderType, o.status, o.quantity, o.stopPrice])).toEqual([
      ["trailing_stop", "canceled", 5, expect.any(Number)],
      ["stop", "submitted", 5, 180],
    ]);
    expect(stops[1]?.intent).toMatchObject({ orderType: "stop", positionEffect: "close" });
    expect(stops[1]?.intent.trail).toBeUndefined();
    const account = await paperAccount(community, follower);
    const working = Object.values(account.orders).filter((o) => o.status === "submitted" && o.orderType !== "limit");
    expect(working.map((o) => [o.orderType, o.stopPrice, o.reduceOnly])).toEqual([["stop", 180, true]]);
    await settle(community);
  });
});
