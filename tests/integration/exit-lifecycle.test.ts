import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommunityExecutor } from "../../durable-objects/community-executor";
import { forCommunity } from "../../platform/db/tenant/for-community";
import type { PaperAccountState } from "../../shared/brokers/paper/engine";
import { roundPrice } from "../../shared/risk/instruments";
import type { NormalizedSignal } from "../../shared/signals/schema";
import {
  EPHEMERAL,
  fakeDiscordApi,
  interactionResponse,
  member,
  postInteraction,
  setUpCommunity,
  slash,
  snowflake,
} from "../support/discord";
import {
  AAPL_LONG,
  communityWithFollowers,
  db,
  deliver,
  executorOf,
  AAPL_MARKET_BUY as MARKET_BUY,
  queuedMessages,
  settle,
  submit,
  type TestCommunity,
} from "../support/execution";

const SELL_ALL = { ...MARKET_BUY, action: "sell", quantity: null } satisfies NormalizedSignal;

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => discord.restore());

interface DeskInternals {
  parts: {
    paper: {
      quotes: { anchor?(symbol: string, price: number): void };
      adapterFor(userId: string): { placeOrder(intent: unknown): Promise<unknown> };
    };
  };
}

/** Moves the development price walk of an instrument key (the paper broker's market) to a new price. */
async function movePrice(community: TestCommunity, key: string, price: number) {
  await runInDurableObject(executorOf(community.communityId), async (instance: CommunityExecutor) => {
    (instance as unknown as DeskInternals).parts.paper.quotes.anchor?.(key, price);
  });
}

async function ordersOf(community: TestCommunity) {
  return community.tenant.execution.listOrders({ limit: 1000 });
}

/** Delivers every queued order message (what the executor sent to ORDER_QUEUE), as the queue would. */
async function deliverQueued(community: TestCommunity) {
  await deliver("order-submissions", await queuedMessages(community));
}

/** One follow-up of every open order (what the alarm and the reconciliation cron do). */
async function followUp(community: TestCommunity) {
  return executorOf(community.communityId).reconcile({ communityId: community.communityId });
}

async function paperAccount(community: TestCommunity, userId: string): Promise<PaperAccountState> {
  return runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
    const [row] = state.storage.sql
      .exec<{ state: string }>("select state from paper_accounts where user_id = ?", userId)
      .toArray();
    return JSON.parse(row?.state ?? "null") as PaperAccountState;
  });
}

/** Waits until a direct message containing `words` has gone out (DMs travel through NOTIFY_QUEUE). */
async function dmContaining(words: string, timeoutMs = 8000): Promise<string> {
  const started = Date.now();
  for (;;) {
    const found = discord.calls
      .map((s) => (s.body as { content?: string } | null)?.content ?? "")
      .find((text) => text.includes(words));
    if (found) return found;
    if (Date.now() - started > timeoutMs) throw new Error(`no direct message with "${words}"`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A follower who bought `quantity` AAPL at about 100 with the signal's exits, all placed. */
async function holding(quantity: number, signal: NormalizedSignal = MARKET_BUY) {
  const community = await communityWithFollowers(1, { sizingMode: "fixed_quantity", amount: quantity });
  const [userId = ""] = community.followerIds;
  await movePrice(community, "AAPL", 100);
  const { signalId } = await submit(community, signal);
  await deliverQueued(community);
  const entry = (await ordersOf(community)).find((o) => o.signalId === signalId && o.leg === "entry");
  expect(entry).toMatchObject({ status: "filled", filledQuantity: quantity });
  return { community, userId, entry: entry ?? expect.fail("no entry") };
}

describe("exits never outlive their position", () => {
  it("Scenario: An exit signal cancels the position's stop and take-profit", async () => {
    const { community, userId, entry } = await holding(20);
    const exits = (await ordersOf(community)).filter((o) => o.parentOrderId === entry.id);
    expect(exits.map((o) => [o.leg, o.quantity, o.status]).sort()).toEqual([
      ["stop", 20, "submitted"],
      ["tp1", 20, "submitted"],
    ]);

    const sell = await submit(community, SELL_ALL);
    expect(sell.summary.ordersQueued).toBe(1);
    await deliverQueued(community);
    const after = await ordersOf(community);
    expect(after.find((o) => o.signalId === sell.signalId)).toMatchObject({
      leg: "exit",
      status: "filled",
      quantity: 20,
    });
    for (const exit of after.filter((o) => o.parentOrderId === entry.id)) {
      expect(exit).toMatchObject({ status: "canceled", statusReason: "the position is closed" });
    }
    // The price falls through the old stop: nothing fills, the account never goes short.
    await movePrice(community, "AAPL", 80);
    await followUp(community);
    const account = await paperAccount(community, userId);
    expect(account.positions.AAPL).toBeUndefined();
    expect(Object.values(account.orders).filter((o) => o.status === "submitted")).toEqual([]);
    const [position] = await community.tenant.execution.positionsOf(userId);
    expect(position).toMatchObject({ symbol: "AAPL", quantity: 0 });
    await dmContaining("stop canceled: the position is closed");
    await settle(community);
  });

  it("Scenario: A first take-profit resizes the stop to what is still held", async () => {
    const { community, userId, entry } = await holding(100, {
      ...MARKET_BUY,
      stopLoss: 95,
      takeProfits: [
        { price: 101, percent: 50 },
        { price: 110, percent: 50 },
      ],
    });
    await movePrice(community, "AAPL", 102);
    await followUp(community);
    const children = (await ordersOf(community)).filter((o) => o.parentOrderId === entry.id);
    const byId = (id: string) => children.find((o) => o.id === id);
    expect(byId(`${entry.id}:tp1`)).toMatchObject({ status: "filled", filledQuantity: 50 });
    expect(byId(`${entry.id}:stop`)).toMatchObject({
      status: "canceled",
      statusReason: "resized to 50: the position holds 50",
    });
    expect(byId(`${entry.id}:stop:50`)).toMatchObject({
      leg: "stop",
      quantity: 50,
      stopPrice: 95,
      status: "submitted",
    });
    expect(byId(`${entry.id}:tp2`)).toMatchObject({ quantity: 50, status: "submitted" });

    await movePrice(community, "AAPL", 111);
    await followUp(community);
    const last = (await ordersOf(community)).filter((o) => o.parentOrderId === entry.id);
    expect(last.find((o) => o.id === `${entry.id}:tp2`)).toMatchObject({ status: "filled" });
    expect(last.find((o) => o.id === `${entry.id}:stop:50`)).toMatchObject({
      status: "canceled",
      statusReason: "the position is closed",
    });
    expect((await paperAccount(community, userId)).positions.AAPL).toBeUndefined();
    await settle(community);
  });

  it("Scenario: A flatten cancels the position's exits", async () => {
    const { community, userId, entry } = await holding(20);
    // The day started far richer: the next signal trips the daily loss limit and flattens the account.
    await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
      const [row] = state.storage.sql
        .exec<{ state: string }>("select state from paper_accounts where user_id = ?", userId)
        .toArray();
      // Bought at 700 by its books and worth half the day's starting equity: a loss by any measure.
      const account = JSON.parse(row?.state ?? "{}") as PaperAccountState;
      account.day = { date: new Date().toISOString().slice(0, 10), startEquity: 200_000 };
      if (account.positions.AAPL) account.positions.AAPL.averageCost = 700;
      state.storage.sql.exec("update paper_accounts set state = ? where user_id = ?", JSON.stringify(account), userId);
    });
    const next = await submit(community, { ...MARKET_BUY, symbol: "MSFT" });
    expect(Object.keys(next.summary.skipped)).toEqual([expect.stringMatching(/^(daily_loss_limit|circuit_breaker)$/)]);
    await deliverQueued(community);
    const orders = await ordersOf(community);
    expect(orders.find((o) => o.leg.startsWith("flatten"))).toMatchObject({ status: "filled", quantity: 20 });
    for (const exit of orders.filter((o) => o.parentOrderId === entry.id)) {
      expect(exit).toMatchObject({ status: "canceled", statusReason: "the position is closed" });
    }
    expect((await paperAccount(community, userId)).positions.AAPL).toBeUndefined();
    await settle(community);
  });
});

describe("exits priced from the fill", () => {
  it("Scenario: Default exits are priced from each entry's own fill", async () => {
    const community = await communityWithFollowers(1, { sizingMode: "fixed_quantity", amount: 10 });
    const { signalId } = await submit(community, {
      ...AAPL_LONG,
      entry: { price: 195 },
      stopLoss: null,
      takeProfits: [],
    });
    // The market is at 189.50 when the order reaches the paper broker: the limit buy at 195 fills at the ask.
    await movePrice(community, "AAPL", 189.5);
    await deliverQueued(community);
    const orders = (await ordersOf(community)).filter((o) => o.signalId === signalId);
    const entry = orders.find((o) => o.leg === "entry");
    const fill = entry?.averageFillPrice ?? 0;
    expect(entry?.status).toBe("filled");
    expect(fill).toBeGreaterThan(189);
    expect(fill).toBeLessThan(190);
    const stop = orders.find((o) => o.leg === "stop");
    const target = orders.find((o) => o.leg === "tp1");
    expect(stop?.stopPrice).toBe(roundPrice(fill * 0.98, "equity"));
    expect(stop?.stopPrice).not.toBe(191.1);
    expect(target?.limitPrice).toBe(roundPrice(fill * 1.04, "equity"));
    expect(stop?.status).toBe("submitted");
    await settle(community);
  });

  it("Scenario: A signal's stop already through the market at the fill is sent at market", async () => {
    const community = await communityWithFollowers(1, { sizingMode: "fixed_quantity", amount: 10 });
    const [userId = ""] = community.followerIds;
    const { signalId } = await submit(community, {
      ...AAPL_LONG,
      entry: { price: 195 },
      stopLoss: 191,
      takeProfits: [{ price: 200, percent: null }],
    });
    await movePrice(community, "AAPL", 189.5);
    await deliverQueued(community);
    const orders = (await ordersOf(community)).filter((o) => o.signalId === signalId);
    expect(orders.find((o) => o.leg === "entry")).toMatchObject({ status: "filled", filledQuantity: 10 });
    expect(orders.find((o) => o.leg === "stop")).toMatchObject({
      orderType: "market",
      stopPrice: null,
      quantity: 10,
      status: "filled",
    });
    // The market stop closed the position, so the take-profit (still at the signal's 200) is canceled with it.
    const target = orders.find((o) => o.leg === "tp1");
    expect(target).toMatchObject({ limitPrice: 200, status: "canceled" });
    const account = await paperAccount(community, userId);
    expect(account.positions.AAPL).toBeUndefined();
    // It never reached the broker: a sell with nothing left to sell is not sent.
    expect(Object.values(account.orders).map((o) => o.clientOrderId)).not.toContain(target?.clientOrderId);
    await dmContaining("Stop-loss: The stop $191.00 was already through the market at the fill");
    await settle(community);
  });
});

describe("a cancel that races a send", () => {
  /** Sends the community's only queued order through the executor, running `during` inside the broker call. */
  async function sendWhile(community: TestCommunity, during: (executor: CommunityExecutor) => Promise<unknown>) {
    const [message] = await queuedMessages(community);
    const orderId = message?.orderId ?? expect.fail("nothing queued");
    const [userId = ""] = community.followerIds;
    await runInDurableObject(executorOf(community.communityId), async (executor: CommunityExecutor) => {
      const adapter = (executor as unknown as DeskInternals).parts.paper.adapterFor(userId);
      const placeOrder = adapter.placeOrder.bind(adapter);
      let once = false;
      adapter.placeOrder = async (intent) => {
        if (!once) {
          once = true;
          await during(executor);
        }
        return placeOrder(intent);
      };
      try {
        await executor.submitOrder({ communityId: community.communityId, orderId, attempt: 1 });
      } finally {
        adapter.placeOrder = placeOrder;
      }
    });
    return (await community.tenant.execution.getOrder(orderId)) ?? expect.fail("order vanished");
  }

  it("Scenario: A fill that raced a cancel is adopted with its exits", async () => {
    const community = await communityWithFollowers(1, { sizingMode: "fixed_quantity", amount: 10 });
    await movePrice(community, "AAPL", 100);
    await submit(community, MARKET_BUY);
    const order = await sendWhile(community, (executor) =>
      executor.halt({ communityId: community.communityId, reason: "test halt", actorId: null }),
    );
    expect(order).toMatchObject({ status: "filled", filledQuantity: 10 });
    expect(order.brokerOrderId).not.toBeNull();
    const events = await community.tenant.execution.orderEvents(order.id);
    expect(events.map((e) => `${e.fromStatus}→${e.toStatus}:${e.cause}`)).toEqual([
      "null→queued:signal",
      "queued→canceled:kill_switch",
      "canceled→filled:late_fill_adopted",
    ]);
    const exits = (await ordersOf(community)).filter((o) => o.parentOrderId === order.id);
    expect(exits.map((o) => [o.leg, o.quantity, o.status]).sort()).toEqual([
      ["stop", 10, "submitted"],
      ["tp1", 10, "submitted"],
    ]);
    await dmContaining("while it was being sent, but the broker had already filled it: 10 × AAPL @ $");
    await executorOf(community.communityId).resume({ communityId: community.communityId, actorId: null });
    await settle(community);
  });

  it("Scenario: An order canceled while being sent is canceled at the broker", async () => {
    const community = await communityWithFollowers(1, { sizingMode: "fixed_quantity", amount: 10 });
    const [userId = ""] = community.followerIds;
    await submit(community, { ...AAPL_LONG, entry: { price: 50 }, stopLoss: 45, takeProfits: [] });
    const [queued] = await ordersOf(community);
    const order = await sendWhile(community, (executor) =>
      executor.cancelOrder({ communityId: community.communityId, orderId: queued?.id ?? "", userId }),
    );
    expect(order).toMatchObject({ status: "canceled", filledQuantity: 0 });
    expect(order.brokerOrderId).not.toBeNull();
    expect(order.statusReason).toContain("it had reached the broker");
    const account = await paperAccount(community, userId);
    expect(account.orders[order.brokerOrderId ?? ""]).toMatchObject({ status: "canceled" });
    expect(account.positions.AAPL).toBeUndefined();
    await settle(community);
  });
});

describe("options", () => {
  it("Scenario: An option trade is recorded and shown as contracts of its contract", async () => {
    const community = await setUpCommunity({ aroundTheClock: true });
    const trader = member();
    await postInteraction(slash("portfolio", [], { at: community.at, who: trader }));
    const userId =
      (await env.DB.prepare("select id from users where discord_id = ?").bind(trader.id).first<{ id: string }>())?.id ??
      expect.fail("no user");
    const call = { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" } as const;
    const signalId = crypto.randomUUID();
    const summary = await executorOf(community.communityId).submitManualTrade({
      signalId,
      communityId: community.communityId,
      userId,
      signal: {
        ...AAPL_LONG,
        assetClass: "option",
        option: call,
        entry: { price: 2.5 },
        quantity: 2,
        stopLoss: null,
        takeProfits: [],
      },
      sourceId: snowflake(),
      sourceTimestamp: Date.now(),
    });
    expect(summary).toMatchObject({ status: "accepted", ordersQueued: 1 });
    const tenant = forCommunity(db, community.communityId);
    const queued = await tenant.execution.listOrders({ userId });
    await deliver(
      "order-submissions",
      queued.map((o) => ({ communityId: community.communityId, orderId: o.id, clientOrderId: o.clientOrderId })),
    );
    const orders = await tenant.execution.listOrders({ userId });
    const entry = orders.find((o) => o.leg === "entry");
    expect(entry).toMatchObject({ status: "filled", filledQuantity: 2 });
    const fill = entry?.averageFillPrice ?? 0;
    expect(fill).toBeLessThan(3);
    const stop = orders.find((o) => o.leg === "stop");
    expect(stop).toMatchObject({ quantity: 2, status: "submitted", stopPrice: roundPrice(fill * 0.98, "option") });
    expect(stop?.intent).toMatchObject({ option: call });
    expect(orders.find((o) => o.leg === "tp1")).toMatchObject({
      quantity: 2,
      limitPrice: roundPrice(fill * 1.04, "option"),
    });

    const positions = await tenant.execution.positionsOf(userId);
    expect(positions).toMatchObject([{ symbol: "AAPL261220C00190000", assetClass: "option", quantity: 2 }]);
    await dmContaining("✅ Filled: bought 2 × AAPL 20 Dec 2026 $190 Call @ $");

    const portfolio = await interactionResponse(
      await postInteraction(slash("portfolio", [], { at: community.at, who: trader })),
    );
    expect(portfolio.data?.flags).toBe(EPHEMERAL);
    const fieldOf = (reply: typeof portfolio, name: string) =>
      ((reply.data?.embeds ?? []) as { fields: { name: string; value: string }[] }[])[0]?.fields.find(
        (field) => field.name === name,
      )?.value;
    expect(fieldOf(portfolio, "Positions")).toMatch(/• AAPL 20 Dec 2026 \$190 Call \(🧪 PAPER\): long 2 @ \$\d\.\d\d/);
    const listed = await interactionResponse(
      await postInteraction(slash("orders", [], { at: community.at, who: trader })),
    );
    expect(fieldOf(listed, "Working")).toMatch(
      /sell 2 × AAPL 20 Dec 2026 \$190 Call stop \$\d\.\d\d \(stop-loss\) — sent to broker/,
    );

    const report = await executorOf(community.communityId).reconcile({ communityId: community.communityId });
    expect(report.unknownPositions).toEqual([]);
    await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
      await state.storage.deleteAlarm();
    });
  });
});
