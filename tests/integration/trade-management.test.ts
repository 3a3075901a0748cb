import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CommunityExecutor } from "../../durable-objects/community-executor";
import type { PaperAccountState } from "../../shared/brokers/paper/engine";
import type { ManageTradesInput } from "../../shared/execution/trade-management";
import { DeterministicQuoteSource } from "../../shared/quotes";
import type { TradeManagement } from "../../shared/signals/management";
import type { NormalizedSignal } from "../../shared/signals/schema";
import {
  buttonsUnder,
  directMessagesTo,
  discordIdentity,
  fakeDiscordApi,
  pressInDm,
  snowflake,
} from "../support/discord";
import {
  AAPL_LONG,
  AAPL_MARKET_BUY,
  communityWithFollowers,
  deliver,
  executorOf,
  settle,
  submit,
  type TestCommunity,
} from "../support/execution";
import { interceptOrderQueue } from "../support/order-queue";
import { AROUND_THE_CLOCK } from "../support/risk-defaults";

/**
 * Trade management through the executor (trade-management spec): a provider's
 * instruction on one of their signals, acted on for every follower with the
 * real D1, executor, paper broker and notifications queue. ORDER_QUEUE is
 * intercepted so each test decides when orders reach the broker.
 */

let discord: ReturnType<typeof fakeDiscordApi>;
let queue: ReturnType<typeof interceptOrderQueue>;
beforeEach(() => {
  discord = fakeDiscordApi();
  queue = interceptOrderQueue();
});
afterEach(() => {
  queue.restore();
  discord.restore();
});

const instruction = (partial: Partial<TradeManagement>): TradeManagement => ({
  stop: null,
  cancelEntries: false,
  closePercent: null,
  symbol: null,
  reported: false,
  ...partial,
});

function manage(community: TestCommunity, signalId: string, partial: Partial<TradeManagement>, sourceId = snowflake()) {
  return executorOf(community.communityId).manageTrades(input(community, signalId, partial, sourceId));
}

function input(
  community: TestCommunity,
  signalId: string,
  partial: Partial<TradeManagement>,
  sourceId = snowflake(),
): ManageTradesInput {
  return {
    communityId: community.communityId,
    providerUserId: community.providerId,
    sourceId,
    sourceTimestamp: Date.now(),
    signalId,
    management: instruction(partial),
  };
}

/** Manages inside the object, so that a failure comes back as a value rather than an RPC rejection. */
async function manageFailing(community: TestCommunity, raw: ManageTradesInput): Promise<string> {
  return runInDurableObject(executorOf(community.communityId), async (executor: CommunityExecutor) =>
    executor.manageTrades(raw).then(
      () => "no failure",
      (error: unknown) => String(error),
    ),
  );
}

/** The order queue fails the community's next send (as a queue outage would), then takes the others. */
function failNextSend(community: TestCommunity) {
  queue.restore();
  queue = interceptOrderQueue({ [community.communityId]: 1 });
}

/** Runs the executor's alarm as if its outbox's grace had passed: a batch left staged by a failure is sent. */
async function recoverOutbox(community: TestCommunity) {
  await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
    state.storage.sql.exec("update outbox set created_at = created_at - 60000, due_at = due_at - 60000");
  });
  await runDurableObjectAlarm(executorOf(community.communityId));
}

/** Sends every order the executor queued (as ORDER_QUEUE would): entries fill at the paper market, exits follow. */
async function sendQueued(community: TestCommunity) {
  await deliver("order-submissions", queue.sentFor(community));
}

/** Followers holding `sizes` shares of AAPL from one market signal, with their default stop and take-profit. */
async function filledTrade(
  sizes: number[],
  signal: NormalizedSignal = AAPL_MARKET_BUY,
  riskDefaults: Record<string, unknown> = AROUND_THE_CLOCK,
) {
  const community = await communityWithFollowers(sizes.length, {}, riskDefaults);
  for (const [i, amount] of sizes.entries()) {
    await community.tenant.follows.upsert({
      followerUserId: community.followerIds[i] ?? "",
      providerUserId: community.providerId,
      sizingMode: "fixed_quantity",
      amount,
      mode: "auto",
    });
  }
  const { signalId } = await submit(community, signal);
  await sendQueued(community);
  const orders = await community.tenant.execution.listOrders({ signalId, limit: 1000 });
  const entryOf = (userId: string) => orders.find((o) => o.userId === userId && o.leg === "entry");
  return { community, signalId, entryOf };
}

async function ordersOf(community: TestCommunity, userId: string) {
  return (await community.tenant.execution.listOrders({ userId, limit: 1000 })).reverse();
}

async function heldShares(community: TestCommunity, userId: string): Promise<number> {
  return runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
    const [row] = state.storage.sql
      .exec<{ state: string }>("select state from paper_accounts where user_id = ?", userId)
      .toArray();
    const account = JSON.parse(row?.state ?? "{}") as PaperAccountState;
    const position = Object.values(account.positions ?? {}).find((p) => p.symbol === "AAPL");
    return position?.quantity ?? 0;
  });
}

/** Moves the paper market's price walk for AAPL. */
async function movePrice(community: TestCommunity, price: number) {
  await runInDurableObject(executorOf(community.communityId), async (instance: CommunityExecutor) => {
    const parts = (instance as unknown as { parts: { paper: { quotes: { anchor?(k: string, p: number): void } } } })
      .parts;
    parts.paper.quotes.anchor?.("AAPL", price);
  });
}

/**
 * The executor's price feed from now on has no price for any symbol (as a live feed with no data for it): the
 * development feed without the fallback that prices every symbol it has not seen.
 */
async function loseQuotes(community: TestCommunity) {
  await runInDurableObject(executorOf(community.communityId), async (instance: CommunityExecutor) => {
    const parts = (instance as unknown as { parts: { paper: { quoteSource: unknown } } }).parts;
    parts.paper.quoteSource = new DeterministicQuoteSource({ seed: 1 });
  });
}

const dmsTo = (userId: string, words: string) =>
  vi.waitFor(
    async () => {
      const found = (await directMessagesTo(discord, userId)).filter((dm) => dm.includes(words));
      expect(found.length).toBeGreaterThan(0);
      return found;
    },
    { timeout: 8_000, interval: 50 },
  );

/** The staged batches recovered and the queue drained: the follower's exits, as [status, quantity]. */
async function exitsAfterRecovery(community: TestCommunity, follower: string) {
  await recoverOutbox(community);
  await sendQueued(community);
  const exits = (await ordersOf(community, follower)).filter((o) => o.leg.startsWith("exit"));
  return exits.map((o) => [o.status, o.quantity]);
}

describe("trade management", { timeout: 30_000 }, () => {
  it("Scenario: Cancel cancels the entries not filled yet", async () => {
    const community = await communityWithFollowers(1);
    const [follower = ""] = community.followerIds;
    const { signalId } = await submit(community, AAPL_LONG);
    const outcome = await manage(community, signalId, { cancelEntries: true });
    expect(outcome).toMatchObject({ ok: true, canceledEntries: 1, followers: 1 });
    const [entry] = await ordersOf(community, follower);
    expect(entry).toMatchObject({ status: "canceled", statusReason: "canceled_by_provider" });
    // Its message from the queue sends nothing now.
    await sendQueued(community);
    expect((await ordersOf(community, follower))[0]?.status).toBe("canceled");
    await dmsTo(follower, "Canceled before it was sent");
    await settle(community);
  });

  it("cancels an entry already working at the broker there, and tells the follower", async () => {
    const community = await communityWithFollowers(1);
    const [follower = ""] = community.followerIds;
    const { signalId } = await submit(community, {
      ...AAPL_LONG,
      entry: { price: 150 },
      stopLoss: 140,
      takeProfits: [],
    });
    // The market is well above the limit when it is sent: the entry rests at the paper broker, unfilled.
    await movePrice(community, 200);
    await sendQueued(community);
    const [working] = await ordersOf(community, follower);
    expect(working).toMatchObject({ status: "submitted", filledQuantity: 0, brokerOrderId: expect.any(String) });
    const outcome = await manage(community, signalId, { cancelEntries: true });
    expect(outcome).toMatchObject({ ok: true, canceledEntries: 1, followers: 1 });
    const [entry] = await ordersOf(community, follower);
    expect(entry).toMatchObject({ status: "canceled", filledQuantity: 0 });
    // Canceled at the broker too: nothing is left working there, and the price coming down fills nothing.
    await movePrice(community, 140);
    await executorOf(community.communityId).reconcile({ communityId: community.communityId });
    expect(await heldShares(community, follower)).toBe(0);
    await dmsTo(follower, "Canceled: buy");
    await settle(community);
  });

  it("refuses management of no open trade, of another provider's signal, of an exit, of another symbol and a malformed one", async () => {
    const { community, signalId } = await filledTrade([2]);
    expect(await manage(community, signalId, { cancelEntries: true })).toMatchObject({
      ok: false,
      code: "NO_OPEN_TRADE",
    });
    const unfilled = await submit(community, { ...AAPL_LONG, symbol: "MSFT" });
    expect(await manage(community, unfilled.signalId, { closePercent: 100 })).toMatchObject({
      ok: false,
      code: "NO_OPEN_TRADE",
    });
    expect(await manage(community, signalId, { closePercent: 100, symbol: "TSLA" })).toMatchObject({
      ok: false,
      code: "SYMBOL_MISMATCH",
    });
    const other = await executorOf(community.communityId).manageTrades({
      communityId: community.communityId,
      providerUserId: community.followerIds[0] ?? "",
      sourceId: snowflake(),
      sourceTimestamp: Date.now(),
      signalId,
      management: instruction({ closePercent: 100 }),
    });
    expect(other).toMatchObject({ ok: false, code: "NOT_YOUR_SIGNAL" });
    const exit = await submit(community, { ...AAPL_MARKET_BUY, action: "sell", quantity: null });
    expect(await manage(community, exit.signalId, { closePercent: 100 })).toMatchObject({
      ok: false,
      code: "NOT_AN_ENTRY",
    });
    expect(await manage(community, "no-such-signal", { closePercent: 100 })).toMatchObject({
      ok: false,
      code: "UNKNOWN_SIGNAL",
    });
    expect(await manage(community, signalId, { closePercent: 100 }, "")).toMatchObject({
      ok: false,
      code: "INVALID_INPUT",
    });
    // Neither a reply nor a symbol: it names no trade.
    const unnamed = await executorOf(community.communityId).manageTrades({
      communityId: community.communityId,
      providerUserId: community.providerId,
      sourceId: snowflake(),
      sourceTimestamp: Date.now(),
      signalId: null,
      management: instruction({ closePercent: 100 }),
    });
    expect(unnamed).toMatchObject({
      ok: false,
      code: "NO_OPEN_TRADE",
      message: expect.stringContaining("names no trade"),
    });
    expect(await heldShares(community, community.followerIds[0] ?? "")).toBe(2);
    await settle(community);
  });

  it("Scenario: A stop move replaces each follower's stop at the new price", async () => {
    const { community, signalId, entryOf } = await filledTrade([3, 2]);
    const fill = entryOf(community.followerIds[0] ?? "")?.averageFillPrice ?? 0;
    const level = Math.round(fill * 0.99 * 100) / 100;
    const outcome = await manage(community, signalId, { stop: { price: level } });
    expect(outcome).toMatchObject({ ok: true, stopsMoved: 2, followers: 2 });
    for (const [i, follower] of community.followerIds.entries()) {
      const stops = (await ordersOf(community, follower)).filter((o) => o.leg === "stop");
      expect(stops.map((s) => [s.status, s.stopPrice, s.quantity])).toEqual([
        ["canceled", expect.any(Number), [3, 2][i]],
        ["submitted", level, [3, 2][i]],
      ]);
      const events = await community.tenant.execution.orderEvents(stops[0]?.id ?? "");
      expect(events.at(-1)?.cause).toBe("stop_moved");
      await dmsTo(follower, `to ${level}`);
    }
    await settle(community);
  });

  it("Scenario: Breakeven moves each stop to that follower's own fill", async () => {
    const { community, signalId, entryOf } = await filledTrade([2]);
    const [follower = ""] = community.followerIds;
    const fill = entryOf(follower)?.averageFillPrice ?? 0;
    await movePrice(community, Math.round(fill * 1.03 * 100) / 100);
    expect(await manage(community, signalId, { stop: { breakeven: true } })).toMatchObject({ ok: true, stopsMoved: 1 });
    const working = (await ordersOf(community, follower)).filter((o) => o.leg === "stop" && o.status === "submitted");
    expect(working.map((s) => [s.stopPrice, s.quantity])).toEqual([[fill, 2]]);
    await settle(community);
  });

  it("leaves a follower's stop where it was when their breakeven is already through the market", async () => {
    const { community, signalId, entryOf } = await filledTrade([2]);
    const [follower = ""] = community.followerIds;
    const fill = entryOf(follower)?.averageFillPrice ?? 0;
    // Below the fill, above the default stop 2% under it: a stop at the fill would sell at once.
    await movePrice(community, Math.round(fill * 0.99 * 100) / 100);
    const before = await ordersOf(community, follower);
    expect(await manage(community, signalId, { stop: { breakeven: true } })).toMatchObject({
      ok: true,
      stopsMoved: 0,
      skipped: { stop_through_market: 1 },
      followers: 1,
    });
    expect(await ordersOf(community, follower)).toEqual(before);
    expect(await heldShares(community, follower)).toBe(2);
    await dmsTo(follower, "is already through the market");
    await settle(community);
  });

  it("Scenario: A stop already at the new price stays as it is", async () => {
    const { community, signalId, entryOf } = await filledTrade([3]);
    const [follower = ""] = community.followerIds;
    const level = Math.round((entryOf(follower)?.averageFillPrice ?? 0) * 0.99 * 100) / 100;
    expect(await manage(community, signalId, { stop: { price: level } })).toMatchObject({ ok: true, stopsMoved: 1 });
    const before = await ordersOf(community, follower);
    const again = await manage(community, signalId, { stop: { price: level } });
    // Nothing changed, so nothing is counted as moved: the follower was left as they were.
    expect(again).toMatchObject({ ok: true, followers: 1, stopsMoved: 0, skipped: { stop_already_there: 1 } });
    expect(again.message).toContain("1 follower left as they were");
    // Neither withdrawn nor placed again: the stop placed by the first move is the one working.
    expect(await ordersOf(community, follower)).toEqual(before);
    const working = before.filter((o) => o.leg === "stop" && o.status === "submitted");
    expect(working.map((s) => [s.stopPrice, s.quantity])).toEqual([[level, 3]]);
    await dmsTo(follower, `Stop for 3 at ${level} (already there)`);
    await settle(community);
  });

  it("Scenario: A position with no working stop keeps it so and its follower is told", async () => {
    const { community, signalId, entryOf } = await filledTrade([2], AAPL_MARKET_BUY, {
      ...AROUND_THE_CLOCK,
      defaultStopPercent: null,
    });
    const [follower = ""] = community.followerIds;
    const fill = entryOf(follower)?.averageFillPrice ?? 0;
    const before = await ordersOf(community, follower);
    expect(before.filter((o) => o.leg === "stop")).toEqual([]);
    const nothing = { ok: true, stopsMoved: 0, skipped: { no_working_stop: 1 }, followers: 1 };
    expect(await manage(community, signalId, { stop: { price: Math.round(fill * 0.97 * 100) / 100 } })).toMatchObject(
      nothing,
    );
    await dmsTo(follower, "no working stop to move");
    expect(await manage(community, signalId, { trail: { percent: 2 } })).toMatchObject(nothing);
    await dmsTo(follower, "no working stop to trail");
    // Never a stop made up for it: the follower's orders are as they were.
    expect(await ordersOf(community, follower)).toEqual(before);
    await settle(community);
  });

  it("Scenario: A trailing stop replaces each follower's stop and follows the best price", async () => {
    const { community, signalId, entryOf } = await filledTrade([3]);
    const [follower = ""] = community.followerIds;
    const fill = entryOf(follower)?.averageFillPrice ?? 0;
    const outcome = await manage(community, signalId, { trail: { percent: 2 } });
    expect(outcome).toMatchObject({ ok: true, stopsMoved: 1 });
    const stops = (await ordersOf(community, follower)).filter((o) => o.leg === "stop");
    expect(stops.map((s) => [s.status, s.orderType, s.quantity])).toEqual([
      ["canceled", "stop", 3],
      ["submitted", "trailing_stop", 3],
    ]);
    expect(stops[1]?.intent).toMatchObject({
      orderType: "trailing_stop",
      trail: { percent: 2 },
      positionEffect: "close",
    });
    await dmsTo(follower, "trailing stop 2% behind the best price");
    // The market rises 3% (below the 4% take-profit; the stop follows to 2% under that high), then falls 3% from
    // it: the trailing stop sells the 3, never more.
    const high = Math.round(fill * 1.03 * 100) / 100;
    await movePrice(community, high);
    await executorOf(community.communityId).reconcile({ communityId: community.communityId });
    expect(await heldShares(community, follower)).toBe(3);
    // The order row follows the level the broker moved it to: 2% under the high, not where it was placed.
    await vi.waitFor(
      async () => {
        const working = (await ordersOf(community, follower)).find((o) => o.orderType === "trailing_stop");
        expect(working?.stopPrice).toBeCloseTo(high * 0.98, 6);
      },
      { timeout: 8_000 },
    );
    await movePrice(community, Math.round(high * 0.97 * 100) / 100);
    await executorOf(community.communityId).reconcile({ communityId: community.communityId });
    await vi.waitFor(async () => expect(await heldShares(community, follower)).toBe(0), { timeout: 8_000 });
    const trailed = (await ordersOf(community, follower)).find((o) => o.orderType === "trailing_stop");
    expect(trailed).toMatchObject({ status: "filled", filledQuantity: 3, side: "sell" });
    await settle(community);
  });

  it("Scenario: A trail or a stop move for a follower whose stop has just filled places nothing and says so", async () => {
    const { community, signalId, entryOf } = await filledTrade([3]);
    const [follower = ""] = community.followerIds;
    const fill = entryOf(follower)?.averageFillPrice ?? 0;
    // No follow-up poll in between: the executor has not seen the stop fill when the trail comes.
    await runInDurableObject(executorOf(community.communityId), (_instance, state) => state.storage.deleteAlarm());
    // Through the default stop 2% under the fill: the broker fills it when it next looks at the account.
    await movePrice(community, Math.round(fill * 0.97 * 100) / 100);
    expect(await manage(community, signalId, { trail: { percent: 2 } })).toMatchObject({
      ok: true,
      stopsMoved: 0,
      skipped: { no_position: 1 },
      followers: 1,
    });
    await dmsTo(follower, "You no longer hold shares from it: no stop to trail.");
    expect(await heldShares(community, follower)).toBe(0);
    // A stop move then, still before the executor has seen the fill: nothing placed either, and said so.
    expect(await manage(community, signalId, { stop: { price: Math.round(fill * 0.95 * 100) / 100 } })).toMatchObject({
      ok: true,
      stopsMoved: 0,
      skipped: { no_position: 1 },
      followers: 1,
    });
    await dmsTo(follower, "You no longer hold shares from it: no stop to move.");
    await executorOf(community.communityId).reconcile({ communityId: community.communityId });
    const stops = (await ordersOf(community, follower)).filter((o) => o.leg.startsWith("stop"));
    expect(stops.map((s) => [s.status, s.orderType, s.filledQuantity])).toEqual([["filled", "stop", 3]]);
    await settle(community);
  });

  it("Scenario: A trail wider than the risk limits is refused", async () => {
    const { community, signalId, entryOf } = await filledTrade([2]);
    const [follower = ""] = community.followerIds;
    const fill = entryOf(follower)?.averageFillPrice ?? 0;
    const before = await ordersOf(community, follower);
    // The community's daily loss limit is 5% by default: a 6% trail, or an amount of 6% of the price, is wider.
    for (const trail of [{ percent: 6 }, { amount: Math.round(fill * 0.06 * 100) / 100 }]) {
      expect(await manage(community, signalId, { trail })).toMatchObject({ ok: false, code: "TRAIL_TOO_WIDE" });
    }
    expect(await ordersOf(community, follower)).toEqual(before);
    await settle(community);
  });

  it("Scenario: A stop through the market is refused", async () => {
    const { community, signalId, entryOf } = await filledTrade([2]);
    const [follower = ""] = community.followerIds;
    const fill = entryOf(follower)?.averageFillPrice ?? 0;
    const before = await ordersOf(community, follower);
    const outcome = await manage(community, signalId, { stop: { price: Math.round(fill * 1.1) } });
    expect(outcome).toMatchObject({ ok: false, code: "STOP_THROUGH_MARKET" });
    expect(await ordersOf(community, follower)).toEqual(before);
    await settle(community);
  });

  it("Scenario: A stop move or a trail without a market price is refused", async () => {
    const { community, signalId, entryOf } = await filledTrade([2]);
    const [follower = ""] = community.followerIds;
    const fill = entryOf(follower)?.averageFillPrice ?? 0;
    const before = await ordersOf(community, follower);
    await loseQuotes(community);
    const move = await manage(community, signalId, { stop: { price: Math.round(fill * 0.97 * 100) / 100 } });
    expect(move).toMatchObject({ ok: false, code: "NO_QUOTE" });
    expect(await manage(community, signalId, { trail: { percent: 2 } })).toMatchObject({ ok: false, code: "NO_QUOTE" });
    expect(await ordersOf(community, follower)).toEqual(before);
    await settle(community);
  });

  it("Scenario: Close half floors to whole lots and never closes more than held", async () => {
    const { community, signalId } = await filledTrade([5, 1]);
    const [five = "", one = ""] = community.followerIds;
    const outcome = await manage(community, signalId, { closePercent: 50 });
    expect(outcome).toMatchObject({ ok: true, closesQueued: 1, skipped: { close_rounds_to_zero: 1 }, followers: 2 });
    await sendQueued(community);
    expect(await heldShares(community, five)).toBe(3);
    expect(await heldShares(community, one)).toBe(1);
    const exit = (await ordersOf(community, five)).find((o) => o.leg.startsWith("exit"));
    expect(exit).toMatchObject({ side: "sell", quantity: 2, status: "filled", orderType: "market" });
    expect(exit?.intent.positionEffect).toBe("close");
    const stops = (await ordersOf(community, five)).filter((o) => o.leg === "stop" && o.status === "submitted");
    expect(stops.map((s) => s.quantity)).toEqual([3]);
    await dmsTo(one, "rounds down to zero");
    await dmsTo(five, "paper account");
    await settle(community);
  });

  it("Scenario: A close that rounds to nothing offers to close or keep the position", async () => {
    const { community, signalId } = await filledTrade([1]);
    const [one = ""] = community.followerIds;
    expect(await manage(community, signalId, { closePercent: 50 })).toMatchObject({
      ok: true,
      closesQueued: 0,
      skipped: { close_rounds_to_zero: 1 },
      followers: 1,
    });
    const [offer] = await dmsTo(one, "Exit not copied");
    expect(offer).toBe(
      "🧪 PAPER · Test community · from @provider\n⚠️ Exit not copied — @provider · CLOSE HALF AAPL. Closing half of your 1 rounds down to zero whole units, so nothing was sold. You still hold 1 × AAPL: nothing was sent to the broker, so the position is open. [Close now] sells it at market; [Keep] leaves it as it is. The buttons work for 24 hours.",
    );
    // The offer is the whole story: no management DM repeats it.
    expect((await directMessagesTo(discord, one)).some((dm) => dm.includes("🛠️"))).toBe(false);
    const buttons = buttonsUnder(discord, "Exit not copied");
    expect(buttons.map((b) => b.split("=")[0])).toEqual(["Close now", "Keep"]);

    const close = (buttons[0] ?? "").slice((buttons[0] ?? "").indexOf("=") + 1);
    const who = await discordIdentity(one);
    expect((await pressInDm(close, who)).data?.content).toBe(
      "📤 Closing: sell 1 × AAPL at market (exit). You get a message when it fills.",
    );
    expect((await pressInDm(close, who)).data?.content).toBe("Already done: this position is being closed.");
    await sendQueued(community);
    expect(await heldShares(community, one)).toBe(0);
    const closes = (await ordersOf(community, one)).filter((o) => o.leg === "exit");
    expect(closes).toHaveLength(1);
    expect(closes[0]?.intent.positionEffect).toBe("close");
    await settle(community);
  });

  it("Scenario: Close all closes the trade's whole position", async () => {
    const { community, signalId } = await filledTrade([4]);
    const [follower = ""] = community.followerIds;
    expect(await manage(community, signalId, { closePercent: 100 })).toMatchObject({ ok: true, closesQueued: 1 });
    await sendQueued(community);
    expect(await heldShares(community, follower)).toBe(0);
    const orders = await ordersOf(community, follower);
    expect(orders.filter((o) => o.leg === "stop" || o.leg === "tp1").map((o) => o.status)).toEqual([
      "canceled",
      "canceled",
    ]);
    // Nothing left to close: a second close is refused with a reason per follower, never a short.
    expect(await manage(community, signalId, { closePercent: 100 })).toMatchObject({
      ok: true,
      closesQueued: 0,
      skipped: { no_position: 1 },
    });
    expect(await heldShares(community, follower)).toBe(0);
    await settle(community);
  });

  it("Scenario: A replayed management message acts once", async () => {
    const { community, signalId } = await filledTrade([4]);
    const [follower = ""] = community.followerIds;
    const sourceId = snowflake();
    const first = await manage(community, signalId, { closePercent: 50 }, sourceId);
    const again = await manage(community, signalId, { closePercent: 50 }, sourceId);
    expect(first).toMatchObject({ ok: true, duplicate: false, closesQueued: 1 });
    expect(again).toEqual({ ...first, duplicate: true });
    await sendQueued(community);
    expect((await ordersOf(community, follower)).filter((o) => o.leg.startsWith("exit"))).toHaveLength(1);
    expect(await heldShares(community, follower)).toBe(2);
    const audit = await community.tenant.audit.list({ search: { events: ["signal.managed"] } });
    expect(audit).toHaveLength(1);
    await settle(community);
  });

  it("answers a copy of a management message that arrives while the first is acted on with its outcome", async () => {
    const { community, signalId } = await filledTrade([4]);
    const [follower = ""] = community.followerIds;
    const sourceId = snowflake();
    const copies = await Promise.all([
      manage(community, signalId, { closePercent: 50 }, sourceId),
      manage(community, signalId, { closePercent: 50 }, sourceId),
    ]);
    const first = copies.find((outcome) => outcome.ok && !outcome.duplicate);
    expect(first).toMatchObject({ ok: true, closesQueued: 1 });
    expect(copies).toContainEqual({ ...first, duplicate: true });
    await sendQueued(community);
    expect((await ordersOf(community, follower)).filter((o) => o.leg.startsWith("exit"))).toHaveLength(1);
    expect(await heldShares(community, follower)).toBe(2);
    expect(await community.tenant.audit.list({ search: { events: ["signal.managed"] } })).toHaveLength(1);
    await settle(community);
  });

  it("answers a double post that arrives while the first copy is acted on with the first's counts", async () => {
    const community = await communityWithFollowers(1);
    const [follower = ""] = community.followerIds;
    const { signalId } = await submit(community, AAPL_LONG);
    // Two webhook deliveries of one untimed body: different source ids, one double-post key.
    const copy = () =>
      executorOf(community.communityId).manageTrades({
        communityId: community.communityId,
        providerUserId: community.providerId,
        sourceId: snowflake(),
        sourceTimestamp: Date.now(),
        signalId: null,
        doublePostKey: `webhook-${signalId}:digest`,
        management: instruction({ cancelEntries: true, symbol: "AAPL" }),
      });
    const copies = await Promise.all([copy(), copy()]);
    expect(copies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ok: true, duplicate: false, signalId, canceledEntries: 1 }),
        expect.objectContaining({ ok: true, duplicate: true, signalId, canceledEntries: 1 }),
      ]),
    );
    expect((await ordersOf(community, follower))[0]).toMatchObject({ status: "canceled" });
    expect(await community.tenant.audit.list({ search: { events: ["signal.managed"] } })).toHaveLength(1);
    await settle(community);
  });

  it("plans the same close again when a management message is retried after its sending failed, and sends it once", async () => {
    const { community, signalId } = await filledTrade([4]);
    const [follower = ""] = community.followerIds;
    const sourceId = snowflake();
    failNextSend(community);
    expect(await manageFailing(community, input(community, signalId, { closePercent: 50 }, sourceId))).toContain(
      "queue unavailable",
    );
    // The retry (a replayed dispatch) plans the close already staged: the same counts, nothing staged twice.
    expect(await manage(community, signalId, { closePercent: 50 }, sourceId)).toMatchObject({
      ok: true,
      duplicate: false,
      closesQueued: 1,
    });
    expect(await exitsAfterRecovery(community, follower)).toEqual([["filled", 2]]);
    expect(await heldShares(community, follower)).toBe(2);
    await settle(community);
  });

  it("Scenario: A double post whose first copy failed part way is not acted on again", async () => {
    const { community, signalId } = await filledTrade([4]);
    const [follower = ""] = community.followerIds;
    const copy = (): ManageTradesInput => ({
      ...input(community, signalId, { closePercent: 100 }),
      doublePostKey: `webhook-${signalId}:digest`,
    });
    failNextSend(community);
    expect(await manageFailing(community, copy())).toContain("queue unavailable");
    // The same body again within 5 s: its first copy staged the close, so the repeat acts on nothing.
    expect(await executorOf(community.communityId).manageTrades(copy())).toMatchObject({
      ok: true,
      duplicate: true,
      closesQueued: 0,
      message: "The same body was posted less than 5 s ago; it is acted on once.",
    });
    expect(await exitsAfterRecovery(community, follower)).toEqual([["filled", 4]]);
    expect(await heldShares(community, follower)).toBe(0);
    await settle(community);
  });

  it("Scenario: A management message still being acted on, or cut off after staging a close, has acted", async () => {
    const { community, signalId, entryOf } = await filledTrade([4]);
    const level = Math.round((entryOf(community.followerIds[0] ?? "")?.averageFillPrice ?? 0) * 0.99 * 100) / 100;
    const executor = executorOf(community.communityId);
    const of = (messageId: string) => executor.managementOfMessage({ communityId: community.communityId, messageId });
    // Asked while the stop move runs (before any outcome is kept): it has acted, so an edit would not re-read it.
    const moving = snowflake();
    const [outcome, during] = await Promise.all([
      manage(community, signalId, { stop: { price: level } }, moving),
      of(moving),
    ]);
    expect(outcome).toMatchObject({ ok: true, stopsMoved: 1 });
    // Acted either way: still running when asked (no outcome kept yet), or, on a slow machine, already done.
    expect(during).toMatchObject({ sourceId: moving, acted: true });
    expect(["", outcome.message]).toContain(during?.message);
    expect(await of(moving)).toEqual({ sourceId: moving, acted: true, message: outcome.message });
    // Cut off after its close was staged (the order queue failed): it has acted too; the close is sent by recovery.
    const closing = snowflake();
    failNextSend(community);
    expect(await manageFailing(community, input(community, signalId, { closePercent: 100 }, closing))).toContain(
      "queue unavailable",
    );
    expect(await of(closing)).toEqual({ sourceId: closing, acted: true, message: "" });
    await recoverOutbox(community);
    await sendQueued(community);
    expect(await heldShares(community, community.followerIds[0] ?? "")).toBe(0);
    await settle(community);
  });

  it("Scenario: Closes are taken under a halt", async () => {
    const { community, signalId } = await filledTrade([3]);
    const [follower = ""] = community.followerIds;
    await executorOf(community.communityId).halt({ communityId: community.communityId, reason: "test", actorId: null });
    expect(await manage(community, signalId, { closePercent: 100 })).toMatchObject({ ok: true, closesQueued: 1 });
    await sendQueued(community);
    expect(await heldShares(community, follower)).toBe(0);
    await settle(community);
  });
});
