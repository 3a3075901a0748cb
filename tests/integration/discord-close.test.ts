import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CommunityExecutor } from "../../durable-objects/community-executor";
import { forCommunity } from "../../platform/db/tenant/for-community";
import type { PaperAccountState } from "../../shared/brokers/paper/engine";
import type { OrderRow } from "../../shared/execution/orders";
import type { NormalizedSignal } from "../../shared/signals/schema";
import { REPLAYED_MESSAGE } from "../../workers/discord/replay-guard";
import {
  autocomplete,
  directMessagesTo,
  EPHEMERAL,
  fakeDiscordApi,
  interactionResponse,
  member,
  OPTION,
  postInteraction,
  type RegisteredCommunity,
  setUpCommunity,
  slash,
  snowflake,
  type TestMember,
} from "../support/discord";
import {
  AAPL_MARKET_BUY,
  AAPL_SELL_ALL,
  communityWithFollowers,
  db,
  deliver,
  executorOf,
  queuedMessages,
  settle,
  submit,
  type TestCommunity,
} from "../support/execution";
import { seedPaperAccount } from "../support/paper-accounts";

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => {
  discord.restore();
  vi.restoreAllMocks();
});

/** The market each test trades in: the development price walk of each symbol, anchored here. */
const PRICES: Record<string, number> = { AAPL: 200, MSFT: 400, NVDA: 100, TSLA: 250, AMD: 150 };

interface ExecutorInternals {
  parts: {
    paper: { quotes: { anchor?(symbol: string, price: number): void } };
    local: {
      pause(userId: string, until: number, reason: string): void;
      lock(userId: string, at: number, lossPercent: number): void;
    };
  };
}

/** A registered community whose prices are anchored, with a member who has run a command there (so they exist). */
async function communityWithMember(who: TestMember = member()) {
  const community = await setUpCommunity({ aroundTheClock: true });
  await anchorPrices(community.communityId);
  const userId = await joined(community, who);
  return { community, who, userId, tenant: forCommunity(db, community.communityId) };
}

async function anchorPrices(communityId: string) {
  await runInDurableObject(executorOf(communityId), async (instance: CommunityExecutor) => {
    for (const [symbol, price] of Object.entries(PRICES)) {
      (instance as unknown as ExecutorInternals).parts.paper.quotes.anchor?.(symbol, price);
    }
  });
}

/** The member's internal id, after a first command made them a member of the community. */
async function joined(community: RegisteredCommunity, who: TestMember): Promise<string> {
  await interactionResponse(await postInteraction(slash("orders", [], { at: community.at, who })));
  const row = await env.DB.prepare("select id from users where discord_id = ?").bind(who.id).first<{ id: string }>();
  return row?.id ?? expect.fail(`no user ${who.id}`);
}

/** Positions held (signed units by instrument key), as the member's paper account has them. */
async function held(communityId: string, userId: string): Promise<Record<string, number>> {
  return runInDurableObject(executorOf(communityId), async (_instance, state) => {
    const [row] = state.storage.sql
      .exec<{ state: string }>("select state from paper_accounts where user_id = ?", userId)
      .toArray();
    const account = JSON.parse(row?.state ?? "{}") as Partial<PaperAccountState>;
    return Object.fromEntries(
      Object.values(account.positions ?? {})
        .filter((position) => position.quantity !== 0)
        .map((position) => [position.key, position.quantity]),
    );
  });
}

/** Seeds the member's paper account with these positions (signed units) at the anchored prices. */
async function holding(communityId: string, userId: string, positions: Record<string, number>) {
  await seedPaperAccount({ communityId } as TestCommunity, userId, {
    cash: 100_000,
    positions: Object.entries(positions).map(([symbol, quantity]) => ({
      symbol,
      quantity,
      averageCost: PRICES[symbol] ?? 100,
      lastPrice: PRICES[symbol] ?? 100,
    })),
    day: null,
  });
}

/** A member's own trade placed through the executor, delivered as the queue would, until its orders settle. */
async function traded(communityId: string, userId: string, signal: NormalizedSignal) {
  const tenant = forCommunity(db, communityId);
  const summary = await executorOf(communityId).submitManualTrade({
    signalId: crypto.randomUUID(),
    communityId,
    userId,
    signal,
    sourceId: snowflake(),
    sourceTimestamp: Date.now(),
  });
  expect(summary).toMatchObject({ status: "accepted" });
  await deliverQueued(communityId);
  await deliverQueued(communityId);
  return tenant;
}

/** Every queued order message of the community, delivered to the consumer as ORDER_QUEUE would. */
async function deliverQueued(communityId: string) {
  const messages = await queuedMessages({ communityId, tenant: forCommunity(db, communityId) });
  if (messages.length > 0) await deliver("order-submissions", messages);
}

/** Runs /close as Discord sends it: the deferral (ephemeral), then the answer the edit of @original carries. */
async function runClose(community: RegisteredCommunity, who: TestMember, symbol: string) {
  const interaction = slash("close", [{ name: "symbol", type: OPTION.STRING, value: symbol }], {
    at: community.at,
    who,
  });
  const first = await interactionResponse(await postInteraction(interaction));
  expect(first.data?.flags).toBe(EPHEMERAL);
  if (first.type !== 5) return { interaction, first, answer: first.data?.content ?? "" };
  const edit = await discord.editOf(interaction);
  return { interaction, first, answer: String(edit.body.content) };
}

async function ordersOf(communityId: string, userId: string): Promise<OrderRow[]> {
  return (await forCommunity(db, communityId).execution.listOrders({ userId, limit: 1000 })).filter(
    (order) => order.userId === userId,
  );
}

/** The closes /close sent: market exits of no signal. */
const closesOf = (orders: readonly OrderRow[]) =>
  orders.filter((order) => order.signalId === null && order.leg === "exit" && order.orderType === "market");

async function filledUnits(orderId: string): Promise<number> {
  const row = await env.DB.prepare("select coalesce(sum(quantity), 0) as n from fills where order_id = ?")
    .bind(orderId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("/close", () => {
  it("Scenario: /close closes one symbol and cancels its stop and take-profit", async () => {
    const { community, who, userId, tenant } = await communityWithMember();
    await traded(community.communityId, userId, {
      ...AAPL_MARKET_BUY,
      quantity: 20,
      stopLoss: 180,
      takeProfits: [{ price: 220, percent: null }],
    });
    const exits = await vi.waitFor(async () => {
      const working = (await ordersOf(community.communityId, userId)).filter(
        (order) => order.parentOrderId !== null && order.status === "submitted",
      );
      if (working.length < 2) throw new Error("the stop and take-profit are not working yet");
      return working;
    });
    expect(await held(community.communityId, userId)).toEqual({ AAPL: 20 });

    const { first, answer } = await runClose(community, who, "$aapl");
    expect(first.type).toBe(5);
    expect(answer.split("\n")).toEqual([
      "✅ Closing your AAPL position (paper) at market, reduce-only:",
      "• Sent: sell 20 × AAPL at market (exit)",
      "• Canceled: sell 20 × AAPL stop $180.00 (stop-loss)",
      "• Canceled: sell 20 × AAPL limit $220.00 (take-profit 1)",
      "You get a message when each order fills.",
    ]);
    const [close] = closesOf(await ordersOf(community.communityId, userId));
    expect(close).toMatchObject({ side: "sell", quantity: 20, orderType: "market", signalId: null });
    expect(close?.intent.positionEffect).toBe("close");
    await deliverQueued(community.communityId);
    expect(await held(community.communityId, userId)).toEqual({});
    expect(await filledUnits(close?.id ?? "")).toBe(20);
    await vi.waitFor(
      async () => {
        const told = (await directMessagesTo(discord, userId)).find((dm) => dm.includes("✅ Filled: sold 20 × AAPL"));
        if (!told) throw new Error("no fill message yet");
        expect(told.split("\n")[0]).toMatch(/^🧪 PAPER · [^\n]+ · your own trade$/);
      },
      { timeout: 10_000, interval: 50 },
    );
    const after = await tenant.execution.getOrdersByIds(exits.map((exit) => exit.id));
    expect(after.map((exit) => [exit.status, exit.statusReason])).toEqual([
      ["canceled", "closed with /close"],
      ["canceled", "closed with /close"],
    ]);
    const audit = await tenant.audit.list({ limit: 50 });
    expect(audit.find((entry) => entry.event === "trading.positions_closed")).toMatchObject({
      actorId: userId,
      data: { symbol: "AAPL", sent: [close?.id], canceled: expect.arrayContaining(exits.map((exit) => exit.id)) },
    });
    await settle({ communityId: community.communityId, tenant });
  });

  it("Scenario: /close on a ticker also closes its option contracts", async () => {
    const { community, who, userId, tenant } = await communityWithMember();
    await holding(community.communityId, userId, { MSFT: 10 });
    await traded(community.communityId, userId, {
      ...AAPL_MARKET_BUY,
      assetClass: "option",
      option: { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" },
      orderType: "limit",
      entry: { price: 2.5 },
      quantity: 2,
    });
    await vi.waitFor(async () => {
      const working = (await ordersOf(community.communityId, userId)).filter(
        (order) => order.parentOrderId !== null && order.status === "submitted",
      );
      if (working.length < 2) throw new Error("the contracts' stop and take-profit are not working yet");
    });
    expect(await held(community.communityId, userId)).toEqual({ MSFT: 10, AAPL261220C00190000: 2 });

    const { answer } = await runClose(community, who, "AAPL");
    const lines = answer.split("\n");
    expect(lines.slice(0, 2)).toEqual([
      "✅ Closing your AAPL position (paper) at market, reduce-only:",
      "• Sent: sell 2 × AAPL 20 Dec 2026 $190 Call at market (exit)",
    ]);
    expect(lines.slice(2, 4)).toEqual([
      expect.stringMatching(/^• Canceled: sell 2 × AAPL 20 Dec 2026 \$190 Call stop \$\d\.\d\d \(stop-loss\)$/),
      expect.stringMatching(/^• Canceled: sell 2 × AAPL 20 Dec 2026 \$190 Call limit \$\d\.\d\d \(take-profit 1\)$/),
    ]);
    await deliverQueued(community.communityId);
    expect(await held(community.communityId, userId)).toEqual({ MSFT: 10 });
    const [close] = closesOf(await ordersOf(community.communityId, userId));
    expect(close).toMatchObject({ assetClass: "option", symbol: "AAPL", quantity: 2, status: "filled" });
    await settle({ communityId: community.communityId, tenant });
  });

  it("Scenario: /close all closes every position and cancels a pending entry", async () => {
    const { community, who, userId, tenant } = await communityWithMember();
    await holding(community.communityId, userId, { MSFT: 10, NVDA: 5 });
    await traded(community.communityId, userId, {
      ...AAPL_MARKET_BUY,
      symbol: "AMD",
      orderType: "limit",
      entry: { price: 100 },
      quantity: 10,
    });
    const [entry] = await ordersOf(community.communityId, userId);
    expect(entry).toMatchObject({ symbol: "AMD", leg: "entry", status: "submitted" });

    const { answer } = await runClose(community, who, "ALL");
    expect(answer.split("\n")).toEqual([
      "✅ Closing all your positions (paper) at market, reduce-only:",
      "• Sent: sell 10 × MSFT at market (exit)",
      "• Sent: sell 5 × NVDA at market (exit)",
      "• Canceled: buy 10 × AMD limit $100.00",
      "You get a message when each order fills.",
    ]);
    await deliverQueued(community.communityId);
    expect(await held(community.communityId, userId)).toEqual({});
    expect((await tenant.execution.getOrder(entry?.id ?? ""))?.status).toBe("canceled");
    const closes = closesOf(await ordersOf(community.communityId, userId));
    expect(closes.map((order) => [order.symbol, order.status]).sort()).toEqual([
      ["MSFT", "filled"],
      ["NVDA", "filled"],
    ]);
    await settle({ communityId: community.communityId, tenant });
  });

  it("Scenario: /close with nothing to close says so and sends nothing", async () => {
    const { community, who, userId } = await communityWithMember();
    expect((await runClose(community, who, "AAPL")).answer).toBe("You hold no AAPL here (paper). Nothing was sent.");
    expect((await runClose(community, who, "all")).answer).toBe(
      "You hold no positions here (paper). Nothing was sent.",
    );
    expect(await ordersOf(community.communityId, userId)).toEqual([]);
  });

  it("Scenario: /close buys a short position back to cover", async () => {
    const { community, who, userId, tenant } = await communityWithMember();
    await holding(community.communityId, userId, { TSLA: -10, AAPL: 3 });
    const { answer } = await runClose(community, who, "tsla");
    expect(answer.split("\n")).toEqual([
      "✅ Closing your TSLA position (paper) at market, reduce-only:",
      "• Sent: buy to cover 10 × TSLA at market (exit)",
      "You get a message when each order fills.",
    ]);
    await deliverQueued(community.communityId);
    expect(await held(community.communityId, userId)).toEqual({ AAPL: 3 });
    const [cover] = closesOf(await ordersOf(community.communityId, userId));
    expect(cover).toMatchObject({ side: "buy_to_cover", quantity: 10, status: "filled" });
    await settle({ communityId: community.communityId, tenant });
  });

  it("Scenario: /close works while trading is halted, paused or suspended", async () => {
    const { community, who, userId, tenant } = await communityWithMember();
    await holding(community.communityId, userId, { AAPL: 20 });
    const executor = executorOf(community.communityId);
    await executor.halt({ communityId: community.communityId, reason: "test", actorId: null });
    await runInDurableObject(executor, async (instance: CommunityExecutor) => {
      const { local } = (instance as unknown as ExecutorInternals).parts;
      local.pause(userId, Date.now() + 3_600_000, "daily_loss_limit");
      local.lock(userId, Date.now(), 9);
    });
    await tenant.memberships.suspend(userId, { actorId: null, reason: "testing" });

    const { answer } = await runClose(community, who, "AAPL");
    expect(answer.split("\n")[1]).toBe("• Sent: sell 20 × AAPL at market (exit)");
    await deliverQueued(community.communityId);
    expect(await held(community.communityId, userId)).toEqual({});
    expect(closesOf(await ordersOf(community.communityId, userId))).toEqual([
      expect.objectContaining({ side: "sell", quantity: 20, status: "filled" }),
    ]);
    await settle({ communityId: community.communityId, tenant });
  });

  it("Scenario: A redelivered /close closes once", async () => {
    const { community, who, userId, tenant } = await communityWithMember();
    await holding(community.communityId, userId, { AAPL: 20 });
    const { interaction, answer } = await runClose(community, who, "AAPL");
    expect(answer).toContain("• Sent: sell 20 × AAPL at market (exit)");
    const again = await interactionResponse(await postInteraction(interaction));
    expect(again).toMatchObject({ type: 4, data: { content: REPLAYED_MESSAGE, flags: EPHEMERAL } });
    expect(closesOf(await ordersOf(community.communityId, userId))).toHaveLength(1);
    await deliverQueued(community.communityId);
    expect(await held(community.communityId, userId)).toEqual({});
    await settle({ communityId: community.communityId, tenant });
  });

  it("Scenario: /close with a symbol that does not parse is refused clearly", async () => {
    const { community, who, userId } = await communityWithMember();
    await holding(community.communityId, userId, { AAPL: 20 });
    const { first, answer } = await runClose(community, who, "12345");
    expect(first.type).toBe(4);
    expect(answer).toBe(
      '⚠️ Nothing was closed: "12345" is not a ticker, a crypto pair, or a ticker with an option contract ("AAPL 12/20 190C"). Name a symbol you hold (see `/portfolio`), or `all` for every position.',
    );
    expect(await ordersOf(community.communityId, userId)).toEqual([]);
    expect(await held(community.communityId, userId)).toEqual({ AAPL: 20 });
  });

  it("Scenario: /close never touches another community's positions", async () => {
    const who = member();
    const here = await communityWithMember(who);
    const there = await communityWithMember(who);
    expect(there.userId).toBe(here.userId);
    await holding(here.community.communityId, here.userId, { AAPL: 20 });
    await holding(there.community.communityId, there.userId, { AAPL: 7 });
    await traded(there.community.communityId, there.userId, {
      ...AAPL_MARKET_BUY,
      symbol: "AMD",
      orderType: "limit",
      entry: { price: 100 },
      quantity: 10,
    });
    const elsewhereBefore = await ordersOf(there.community.communityId, there.userId);

    await runClose(here.community, who, "all");
    await deliverQueued(here.community.communityId);
    expect(await held(here.community.communityId, here.userId)).toEqual({});
    expect(await held(there.community.communityId, there.userId)).toEqual({ AAPL: 7 });
    expect(await ordersOf(there.community.communityId, there.userId)).toEqual(elsewhereBefore);
    await settle({ communityId: here.community.communityId, tenant: here.tenant });
    await settle({ communityId: there.community.communityId, tenant: there.tenant });
  });
});

describe("/close autocomplete", () => {
  /** The `/close symbol:` choices Discord would show `who` after typing `typed`. */
  async function closeChoices(community: RegisteredCommunity, who: TestMember, typed: string) {
    const response = await interactionResponse(
      await postInteraction(
        autocomplete("close", [{ name: "symbol", type: OPTION.STRING, value: typed, focused: true }], {
          at: community.at,
          who,
        }),
      ),
    );
    expect(response.type).toBe(8);
    return response.data?.choices?.map((choice) => choice.value);
  }

  it("Scenario: Autocomplete for /close suggests what the member holds and all", async () => {
    const { community, who, userId } = await communityWithMember();
    await traded(community.communityId, userId, { ...AAPL_MARKET_BUY, quantity: 3 });
    await traded(community.communityId, userId, { ...AAPL_MARKET_BUY, symbol: "MSFT", quantity: 2 });
    const other = member();
    await traded(community.communityId, await joined(community, other), {
      ...AAPL_MARKET_BUY,
      symbol: "NVDA",
      quantity: 1,
    });

    expect(await closeChoices(community, who, "")).toEqual(["AAPL", "MSFT", "all"]);
    expect(await closeChoices(community, who, "a")).toEqual(["AAPL", "all"]);
    expect(await closeChoices(community, member(), "")).toEqual([]);
  });
});

describe("the executor's close of a member's positions", () => {
  /** A follower of the test community who holds 20 AAPL. */
  async function holder(): Promise<{ community: TestCommunity; userId: string }> {
    const community = await communityWithFollowers(1);
    await anchorPrices(community.communityId);
    const [userId = ""] = community.followerIds;
    await holding(community.communityId, userId, { AAPL: 20 });
    return { community, userId };
  }

  const AAPL = { kind: "instrument", assetClass: "equity", symbol: "AAPL", option: null, anyQuote: false } as const;

  it("Scenario: A close asked again with the same key closes once", async () => {
    const { community, userId } = await holder();
    const input = { communityId: community.communityId, userId, sourceId: snowflake(), target: AAPL };
    const executor = executorOf(community.communityId);
    const first = await executor.closePositions(input);
    expect(first).toMatchObject({ status: "closing", duplicate: false, sent: ["sell 20 × AAPL at market (exit)"] });
    const second = await executor.closePositions(input);
    expect(second).toEqual({ ...first, duplicate: true });
    expect(closesOf(await ordersOf(community.communityId, userId))).toHaveLength(1);
    await settle(community);
  });

  it("Scenario: A close leaves an exit already on its way and sends only the rest", async () => {
    const { community, userId } = await holder();
    const { signalId } = await submit(community, { ...AAPL_SELL_ALL, quantity: null, quantityPercent: 25 });
    const [exit] = await community.tenant.execution.listOrders({ signalId });
    expect(exit).toMatchObject({ side: "sell", quantity: 5, status: "queued" });

    const outcome = await executorOf(community.communityId).closePositions({
      communityId: community.communityId,
      userId,
      sourceId: snowflake(),
      target: AAPL,
    });
    expect(outcome).toMatchObject({
      status: "closing",
      sent: ["sell 15 × AAPL at market (exit)"],
      alreadyClosing: ["sell 5 × AAPL at market (exit)"],
      canceled: [],
    });
    await deliverQueued(community.communityId);
    expect(await held(community.communityId, userId)).toEqual({});
    expect((await community.tenant.execution.getOrder(exit?.id ?? ""))?.status).toBe("filled");
    await settle(community);
  });
});
