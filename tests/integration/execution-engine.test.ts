import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FAN_OUT_CHUNK } from "../../durable-objects/executor/signal-fan-out";
import { PaperBrokerAdapter } from "../../shared/brokers/paper/adapter";
import { signComponentId } from "../../shared/discord/components";
import { effectiveFollowMode } from "../../shared/execution/follow-mode";
import type { NormalizedSignal } from "../../shared/signals/schema";
import { fakeDiscordApi, snowflake } from "../support/discord";
import {
  AAPL_LONG,
  addFollowersInBulk,
  communityWithFollowers,
  deliver,
  executorOf,
  AAPL_MARKET_BUY as MARKET_BUY,
  queuedMessages,
  settle,
  storedSignal,
  submit,
  type TestCommunity,
} from "../support/execution";
import { TEST_VARS } from "../support/test-vars";

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => discord.restore());

async function ordersOf(community: TestCommunity, signalId?: string) {
  return community.tenant.execution.listOrders({ limit: 1000, ...(signalId ? { signalId } : {}) });
}

async function dmsTo(userId: string) {
  const user = await env.DB.prepare("select discord_id from users where id = ?")
    .bind(userId)
    .first<{ discord_id: string }>();
  return discord.calls.filter((s) => (s.body as { recipient_id?: string } | null)?.recipient_id === user?.discord_id);
}

describe("signal gates", () => {
  it("Scenario: A signal fans out to every enabled follower", async () => {
    const community = await communityWithFollowers(3);
    const { summary, signalId } = await submit(community, MARKET_BUY);
    expect(summary).toMatchObject({ status: "accepted", followers: 3, ordersQueued: 3 });
    expect(summary.message).toBe("accepted: 3 followers → 3 orders queued");
    const orders = await ordersOf(community, signalId);
    expect(orders.map((o) => o.status)).toEqual(["queued", "queued", "queued"]);
    expect(new Set(orders.map((o) => o.clientOrderId)).size).toBe(3);
    for (const order of orders) expect(order.clientOrderId).toMatch(/^[A-Za-z0-9]{1,20}$/);
    const events = await community.tenant.execution.orderEvents(orders[0]?.id ?? "");
    expect(events).toMatchObject([{ fromStatus: null, toStatus: "queued", cause: "signal" }]);
    await settle(community);
  });

  it("Scenario: A redelivered signal is executed once", async () => {
    const community = await communityWithFollowers(2);
    const first = await submit(community, MARKET_BUY);
    const again = await executorOf(community.communityId).submitSignal({
      signalId: first.signalId,
      communityId: community.communityId,
      providerUserId: community.providerId,
      signal: MARKET_BUY,
      source: "slash",
      sourceId: first.sourceId,
      sourceTimestamp: Date.now(),
    });
    expect(again).toMatchObject({ status: "duplicate", code: "DUPLICATE_SOURCE", ordersQueued: 0 });
    expect(await ordersOf(community)).toHaveLength(2);
    await settle(community);
  });

  it("Scenario: A double post within five seconds is one signal", async () => {
    const community = await communityWithFollowers(2);
    await submit(community, MARKET_BUY);
    const second = await submit(community, { ...MARKET_BUY });
    expect(second.summary).toMatchObject({ status: "duplicate", code: "DOUBLE_POST" });
    expect(await ordersOf(community)).toHaveLength(2);
    await settle(community);
  });

  it("Scenario: Opposite signals within five seconds are both refused", async () => {
    const community = await communityWithFollowers(2);
    const long = await submit(community, { ...MARKET_BUY, orderType: "limit", entry: { price: 1 } });
    const short = await submit(community, { ...MARKET_BUY, action: "short" });
    expect(short.summary).toMatchObject({ status: "refused", code: "CONFLICTING_SIGNALS" });
    expect(short.summary.message).toContain("both are refused");
    const firstOrders = await ordersOf(community, long.signalId);
    expect(firstOrders.every((o) => o.status === "canceled")).toBe(true);
    const stored = await community.tenant.execution.getSignal(long.signalId);
    expect(stored?.status).toBe("refused");
    await settle(community);
  });

  it("Scenario: A stale signal is expired and never executed", async () => {
    const community = await communityWithFollowers(2);
    const { summary, signalId } = await submit(community, MARKET_BUY, { sourceTimestamp: Date.now() - 61_000 });
    expect(summary).toMatchObject({ status: "expired", code: "SIGNAL_EXPIRED" });
    expect(await ordersOf(community)).toHaveLength(0);
    const stored = await community.tenant.execution.getSignal(signalId);
    expect(stored).toMatchObject({ status: "expired" });
    expect(stored?.statusReason).toContain("older than 60 s");
  });

  it("Scenario: A malformed signal is refused at the executor's door", async () => {
    const community = await communityWithFollowers(2);
    const input = await storedSignal(community);
    const executor = executorOf(community.communityId);
    const stopAboveEntry = await executor.submitSignal({ ...input, signal: { ...AAPL_LONG, stopLoss: 191 } });
    expect(stopAboveEntry).toMatchObject({ status: "refused", code: "INVALID_SIGNAL_INPUT", ordersQueued: 0 });
    expect(stopAboveEntry.message).toContain("stopLoss");
    const { symbol: _symbol, ...withoutSymbol } = AAPL_LONG;
    const missing = await executor.submitSignal({ ...input, signal: withoutSymbol as NormalizedSignal });
    expect(missing).toMatchObject({ status: "refused", code: "INVALID_SIGNAL_INPUT" });
    expect(missing.message).toContain("symbol");
    expect(await ordersOf(community)).toHaveLength(0);
  });
});

describe("plan limits", () => {
  it("Scenario: The plan's signals-per-day limit refuses further signals", async () => {
    const community = await communityWithFollowers(1);
    const executor = executorOf(community.communityId);
    await runInDurableObject(executor, async (_instance, state) => {
      state.storage.sql.exec(
        "insert into counters (day, key, value) values (?, 'signals', 50)",
        new Date().toISOString().slice(0, 10),
      );
    });
    const { summary, signalId } = await submit(community, MARKET_BUY);
    expect(summary).toMatchObject({ status: "refused", code: "SIGNAL_LIMIT_REACHED", ordersQueued: 0 });
    expect(summary.message).toContain("allows 50 signals a day");
    expect(summary.message).toContain("/subscription");
    expect(await ordersOf(community, signalId)).toHaveLength(0);
  });
});

describe("kill switch", () => {
  it("Scenario: A halt stops a fan-out under way", { timeout: 60_000 }, async () => {
    const FOLLOWERS = 3000;
    const community = await communityWithFollowers(0);
    await addFollowersInBulk(community, FOLLOWERS);
    const signal: NormalizedSignal = { ...MARKET_BUY, orderType: "limit", entry: { price: 1 } };
    const sourceId = snowflake();
    const { signal: row } = await community.tenant.signals.store({
      providerUserId: community.providerId,
      source: "slash",
      sourceId,
      sourceTimestamp: Date.now(),
      channelId: null,
      rawText: null,
      normalized: signal,
    });
    // In the object itself: the halt arrives while the first chunk is being sent, as a concurrent request would.
    const { summary, halted } = await runInDurableObject(executorOf(community.communityId), async (executor) => {
      const queue = (executor as unknown as { env: Env }).env.ORDER_QUEUE;
      const sendBatch = queue.sendBatch.bind(queue);
      let halting: Promise<{ halted: boolean }> | null = null;
      queue.sendBatch = (messages, options) => {
        halting ??= executor.halt({ communityId: community.communityId, reason: "test halt", actorId: null });
        return sendBatch(messages, options);
      };
      try {
        const summary = await executor.submitSignal({
          signalId: row.id,
          communityId: community.communityId,
          providerUserId: community.providerId,
          signal,
          source: "slash",
          sourceId,
          sourceTimestamp: Date.now(),
        });
        return { summary, halted: await (halting ?? Promise.resolve({ halted: false })) };
      } finally {
        queue.sendBatch = sendBatch;
      }
    });
    expect(halted.halted).toBe(true);
    expect(summary.stoppedByHalt).toBe(true);
    expect(summary.message).toContain("the kill switch stopped the rest");
    const orders = await ordersOf(community);
    expect(orders.length).toBeGreaterThan(0);
    // The halt lands during the first step's send, while the second may be on its way (a step's delivery overlaps
    // the next step's planning): no later step may start, even on a read of D1 made before the halt's write.
    expect(orders.filter((o) => o.leg === "entry").length).toBeLessThanOrEqual(2 * FAN_OUT_CHUNK);
    expect(orders.filter((o) => o.status === "queued")).toHaveLength(0);
    const refused = await submit(community, { ...MARKET_BUY, symbol: "MSFT" });
    expect(refused.summary).toMatchObject({ status: "refused", code: "COMMUNITY_HALTED" });
    expect((await community.tenant.community.get())?.halted).toBe(true);
    await settle(community);
  });
});

describe("kill switch during a store", () => {
  it("Scenario: A halt that lands while a step is stored cancels that step's entries", {
    timeout: 60_000,
  }, async () => {
    const community = await communityWithFollowers(0);
    await addFollowersInBulk(community, 2 * FAN_OUT_CHUNK);
    const signal: NormalizedSignal = { ...MARKET_BUY, orderType: "limit", entry: { price: 1 } };
    const input = await storedSignal(community, signal);
    const { summary, sent } = await runInDurableObject(executorOf(community.communityId), async (executor) => {
      const { DB: db, ORDER_QUEUE: queue } = (executor as unknown as { env: Env }).env;
      const batch = db.batch.bind(db);
      const sendBatch = queue.sendBatch.bind(queue);
      let sent = 0;
      let halting: Promise<unknown> | null = null;
      // The halt arrives while the first step's orders are being written to D1, as a concurrent request would.
      const insertsOrders = (statements: D1PreparedStatement[]) =>
        statements.some((s) =>
          /^insert or ignore into orders /i.test((s as unknown as { statement?: string }).statement ?? ""),
        );
      db.batch = ((statements: D1PreparedStatement[]) => {
        const result = batch(statements);
        if (insertsOrders(statements)) {
          halting ??= result.then(() =>
            executor.halt({ communityId: community.communityId, reason: "test halt", actorId: null }),
          );
        }
        return result;
      }) as typeof db.batch;
      queue.sendBatch = (messages, options) => {
        sent += [...messages].length;
        return sendBatch(messages, options);
      };
      try {
        const summary = await executor.submitSignal(input);
        await halting;
        return { summary, sent };
      } finally {
        db.batch = batch;
        queue.sendBatch = sendBatch;
      }
    });
    expect(summary.stoppedByHalt).toBe(true);
    const orders = await ordersOf(community);
    expect(orders.filter((o) => o.status === "queued")).toHaveLength(0);
    expect(orders.every((o) => o.status === "canceled")).toBe(true);
    expect(sent).toBe(0);
  });
});

describe("risk limits in flight", () => {
  it("Scenario: Two signals in flight cannot both pass a limit that only one fits", async () => {
    const community = await communityWithFollowers(1);
    const [follower] = community.followerIds;
    await community.tenant.riskProfiles.setSettings(follower ?? "", { maxOpenPositions: 1 });
    const [a, b] = await Promise.all([
      submit(community, { ...MARKET_BUY, orderType: "limit", entry: { price: 1 } }),
      submit(community, { ...MARKET_BUY, orderType: "limit", entry: { price: 1 }, symbol: "MSFT" }),
    ]);
    expect(a.summary.ordersQueued + b.summary.ordersQueued).toBe(1);
    const skipped = { ...a.summary.skipped, ...b.summary.skipped };
    expect(skipped).toEqual({ max_open_positions: 1 });
    expect(await ordersOf(community)).toHaveLength(1);
    await settle(community);
  });

  it("Scenario: An over-limit quantity is reduced to fit", async () => {
    const community = await communityWithFollowers(1, { sizingMode: "fixed_quantity", amount: 1000 });
    const { summary, signalId } = await submit(community, {
      ...AAPL_LONG,
      entry: { price: 100 },
      stopLoss: 95,
      takeProfits: [{ price: 110, percent: null }],
    });
    expect(summary).toMatchObject({ ordersQueued: 1, ordersReduced: 1 });
    expect(summary.message).toContain("(1 reduced to fit)");
    const [order] = await ordersOf(community, signalId);
    expect(order?.quantity).toBe(100); // 10% of 100,000 at 100
    await waitFor(async () =>
      discord.calls.some((s) => JSON.stringify(s.body).includes("was reduced to fit your limits")),
    );
    const intent = order?.intent as { reductions: { reason: string; from: number; to: number }[] } | undefined;
    expect(intent?.reductions[0]).toMatchObject({
      reason: "max_position_size",
      from: 1000,
      to: 100,
    });
    await settle(community);
  });

  it("Scenario: The daily loss limit flattens and pauses the member", async () => {
    const community = await communityWithFollowers(1);
    const [follower = ""] = community.followerIds;
    // The member bought 50 AAPL at 200 this morning, from 100,000 of equity; AAPL now marks at 100.
    await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
      const today = new Date().toISOString().slice(0, 10);
      const account = {
        version: 1,
        currency: "USD",
        startingCash: 100_000,
        cash: 90_000,
        realizedPnl: 0,
        shortingEnabled: true,
        positions: {
          AAPL: {
            key: "AAPL",
            assetClass: "equity",
            symbol: "AAPL",
            option: null,
            quantity: 50,
            averageCost: 200,
            lastPrice: 100,
            lastPriceAt: new Date().toISOString(),
            realizedPnl: 0,
            openedAt: new Date().toISOString(),
          },
        },
        orders: {},
        clientOrderIds: {},
        nextOrderSeq: 1,
        day: { date: today, startEquity: 100_000 },
        createdAt: new Date().toISOString(),
      };
      state.storage.sql.exec(
        "insert into paper_accounts (user_id, state, updated_at) values (?, ?, ?)",
        follower,
        JSON.stringify(account),
        Date.now(),
      );
    });
    const { summary, signalId } = await submit(community, { ...MARKET_BUY, symbol: "MSFT" });
    expect(summary.skipped).toEqual({ daily_loss_limit: 1 });
    const flatten = (await ordersOf(community, signalId)).filter((o) => o.leg.startsWith("flatten"));
    expect(flatten).toMatchObject([{ symbol: "AAPL", side: "sell", quantity: 50, orderType: "market" }]);
    const next = await submit(community, { ...MARKET_BUY, symbol: "NVDA" });
    expect(next.summary.skipped).toEqual({ daily_loss_limit: 1 });
    await settle(community);
  });
});

describe("orders and fills", () => {
  it("Scenario: Default exits are placed after the entry fills", async () => {
    const community = await communityWithFollowers(1);
    const { signalId } = await submit(community, MARKET_BUY);
    await deliver("order-submissions", await queuedMessages(community));
    const orders = await ordersOf(community, signalId);
    const entry = orders.find((o) => o.leg === "entry");
    expect(entry).toMatchObject({ status: "filled" });
    const fill = entry?.averageFillPrice ?? 0;
    const stop = orders.find((o) => o.leg === "stop");
    const target = orders.find((o) => o.leg === "tp1");
    expect(stop).toMatchObject({ side: "sell", orderType: "stop", parentOrderId: entry?.id, status: "submitted" });
    expect(target).toMatchObject({ side: "sell", orderType: "limit", parentOrderId: entry?.id, status: "submitted" });
    expect(stop?.stopPrice).toBeCloseTo(fill * 0.98, 0);
    expect(target?.limitPrice).toBeCloseTo(fill * 1.04, 0);
    const [position] = await community.tenant.execution.positionsOf(community.followerIds[0]);
    expect(position).toMatchObject({ symbol: "AAPL", quantity: entry?.filledQuantity });
    await settle(community);
  });

  it("Scenario: A redelivered order message sends nothing twice", async () => {
    const community = await communityWithFollowers(1);
    await submit(community, { ...MARKET_BUY, orderType: "limit", entry: { price: 1 } });
    const messages = await queuedMessages(community);
    // Counted at the broker: every placement request the paper broker receives.
    const placements = vi.spyOn(PaperBrokerAdapter.prototype, "placeOrder");
    await deliver("order-submissions", messages);
    const again = await deliver("order-submissions", messages, 2);
    const sentOnce = placements.mock.calls.filter(([intent]) => intent.clientOrderId === messages[0]?.clientOrderId);
    placements.mockRestore();
    expect(sentOnce).toHaveLength(1);
    expect(again.explicitAcks).toHaveLength(1);
    const order = (await ordersOf(community)).find((o) => o.leg === "entry");
    const events = await community.tenant.execution.orderEvents(order?.id ?? "");
    expect(events.filter((e) => e.toStatus === "submitted")).toHaveLength(1);
    await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
      const [row] = state.storage.sql.exec<{ state: string }>("select state from paper_accounts").toArray();
      const paperOrders = Object.values(JSON.parse(row?.state ?? "{}").orders) as { clientOrderId: string }[];
      expect(paperOrders.filter((o) => o.clientOrderId === order?.clientOrderId)).toHaveLength(1);
    });
    await settle(community);
  });

  it("Scenario: A dead-lettered order is failed and its member told", async () => {
    const community = await communityWithFollowers(1);
    await submit(community, { ...MARKET_BUY, orderType: "limit", entry: { price: 1 } });
    const [message] = await queuedMessages(community);
    await deliver("order-submissions-dlq", [message]);
    const [order] = await ordersOf(community);
    expect(order).toMatchObject({ status: "failed" });
    await waitFor(async () => (await dmsTo(order?.userId ?? "")).length > 0);
    // The message says which order failed and what to do about it.
    const text = await waitForDm((content) => content.includes(`order \`${order?.id}\``));
    expect(text).toContain(`Not placed: your buy ${order?.quantity} AAPL limit (order \`${order?.id}\`)`);
    expect(text).toContain("could not be sent to the broker after every retry");
    expect(text).toContain("nothing was traded");
    expect(text).toContain("Place it again with /trade");
    await settle(community);
  });

  it("Scenario: Confirm mode waits for the member's confirmation", { timeout: 15_000 }, async () => {
    const community = await communityWithFollowers(1, { mode: "confirm" });
    const [follower = ""] = community.followerIds;
    await submit(community, MARKET_BUY);
    const [order] = await ordersOf(community);
    expect(order?.status).toBe("queued");
    const skipped = await deliver("order-submissions", await queuedMessages(community));
    expect(skipped.explicitAcks).toHaveLength(1);
    expect((await ordersOf(community))[0]?.status).toBe("queued");
    await waitFor(async () => (await dmsTo(follower)).length > 0);
    const dm = discord.calls.find((s) => JSON.stringify(s.body).includes("Confirm your order"));
    const body = dm?.body as { components: { components: { custom_id: string }[] }[] } | undefined;
    const customId = body?.components[0]?.components[0]?.custom_id;
    // The buttons expire with the 30-second confirmation window, and the message says so.
    expect(customId).toBe(
      await signComponentId(
        TEST_VARS.SESSION_SECRET,
        { kind: "order", action: "confirm", id: order?.id ?? "" },
        { lifetimeSeconds: 30, nowMs: Number.parseInt(customId?.split(":")[3] ?? "0", 36) * 1000 - 30_000 },
      ),
    );
    expect(JSON.stringify(dm?.body)).toContain("It is canceled if not confirmed within 30 seconds.");
    const answer = await executorOf(community.communityId).confirmOrder({
      communityId: community.communityId,
      orderId: order?.id ?? "",
      userId: follower,
      decision: "confirm",
    });
    expect(answer.ok).toBe(true);
    // Sent through the real queue, behind whatever earlier tests left in it (the halt test's 500 messages).
    await waitFor(
      async () => (await ordersOf(community)).some((o) => o.leg === "entry" && o.status === "filled"),
      12_000,
    );
    await settle(community);
  });

  it("Scenario: An unconfirmed order is canceled at its deadline", async () => {
    const community = await communityWithFollowers(1, { mode: "confirm" });
    const before = Date.now();
    await submit(community, MARKET_BUY);
    const executor = executorOf(community.communityId);
    await runInDurableObject(executor, async (_instance, state) => {
      const [pending] = state.storage.sql.exec<{ due_at: number }>("select due_at from confirmations").toArray();
      // 30 s from the decision (the original's window), never minutes.
      expect(pending?.due_at).toBeGreaterThanOrEqual(before + 30_000);
      expect(pending?.due_at).toBeLessThanOrEqual(Date.now() + 30_000);
      state.storage.sql.exec("update confirmations set due_at = ?", Date.now() - 1);
    });
    await runDurableObjectAlarm(executor);
    const [order] = await ordersOf(community);
    expect(order).toMatchObject({ status: "canceled", statusReason: "confirmation timeout" });
    const late = await executor.confirmOrder({
      communityId: community.communityId,
      orderId: order?.id ?? "",
      userId: order?.userId ?? "",
      decision: "confirm",
    });
    expect(late.ok).toBe(false);
    await settle(community);
  });
});

describe("follow modes", () => {
  it("Scenario: Without a chosen mode, paper follows trade automatically and live follows ask first", async () => {
    // Resolved at each signal from the member's trading mode; an explicit choice always wins.
    expect(effectiveFollowMode(null, "paper")).toBe("auto");
    expect(effectiveFollowMode(null, "live")).toBe("confirm");
    expect(effectiveFollowMode("auto", "live")).toBe("auto");
    expect(effectiveFollowMode("confirm", "paper")).toBe("confirm");

    const community = await communityWithFollowers(1, { mode: null });
    const { signalId } = await submit(community, MARKET_BUY);
    const [order] = await ordersOf(community, signalId);
    expect(order?.intent.awaitingConfirmation).toBe(false);
    await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
      expect(state.storage.sql.exec("select * from confirmations").toArray()).toEqual([]);
    });
    await settle(community);
  });
});

/** The first direct message whose text passes `match`, once it has gone out. */
async function waitForDm(match: (content: string) => boolean): Promise<string> {
  const contents = () => discord.calls.map((s) => (s.body as { content?: string } | null)?.content ?? "");
  await waitFor(async () => contents().some(match));
  return contents().find(match) ?? "";
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 8000) {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("a member's own orders", () => {
  it("Scenario: A member's own trade goes through their risk limits", async () => {
    const community = await communityWithFollowers(1);
    const [member = ""] = community.followerIds;
    const signalId = crypto.randomUUID();
    const sourceId = snowflake();
    const trade = { ...AAPL_LONG, entry: { price: 100 }, stopLoss: 95, quantity: 500, takeProfits: [] };
    const summary = await executorOf(community.communityId).submitManualTrade({
      signalId,
      communityId: community.communityId,
      userId: member,
      signal: trade,
      sourceId,
      sourceTimestamp: Date.now(),
    });
    expect(summary).toMatchObject({ status: "accepted", ordersQueued: 1, ordersReduced: 1 });
    expect(summary.message).toContain("reduced to fit");
    const [order] = await ordersOf(community, signalId);
    expect(order).toMatchObject({ userId: member, quantity: 100, leg: "entry" });
    await settle(community);
  });

  it("Scenario: A member cancels an open order", async () => {
    const community = await communityWithFollowers(1, { mode: "confirm" });
    await submit(community, MARKET_BUY);
    const [order] = await ordersOf(community);
    const executor = executorOf(community.communityId);
    const stranger = await executor.cancelOrder({
      communityId: community.communityId,
      orderId: order?.id ?? "",
      userId: "someone-else",
    });
    expect(stranger.ok).toBe(false);
    const mine = await executor.cancelOrder({
      communityId: community.communityId,
      orderId: order?.id ?? "",
      userId: order?.userId ?? "",
    });
    expect(mine.ok).toBe(true);
    expect((await ordersOf(community))[0]?.status).toBe("canceled");
    await settle(community);
  });
});
