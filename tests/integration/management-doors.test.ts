import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommunityExecutor } from "../../durable-objects/community-executor";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import type { PaperAccountState } from "../../shared/brokers/paper/engine";
import type { NormalizedSignal } from "../../shared/signals/schema";
import {
  EPHEMERAL,
  fakeDiscordApi,
  interactionResponse,
  OPTION,
  postInteraction,
  setUpCommunity,
  slash,
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
import { errorOf } from "../support/http";
import { interceptOrderQueue } from "../support/order-queue";
import { createWebhook, postSignal, type TestWebhook } from "../support/signal-webhooks";
import * as docs from "../support/traderspost-payloads";

/**
 * Trade management through the provider webhook (trade-management spec, "Management from /signal and webhooks"):
 * free text and TradersPost's cancel and exit act on the provider's one open trade on the symbol, through the real
 * Worker, D1, executor and paper broker. ORDER_QUEUE is intercepted so each test decides when orders are sent.
 * Each test trades its own community, so no signal of one combines with another's.
 */

let queue: ReturnType<typeof interceptOrderQueue>;
let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
  queue = interceptOrderQueue();
});
afterEach(() => {
  queue.restore();
  discord.restore();
});

interface Receipt {
  signalId: string | null;
  status: string;
  summary: { message: string; code?: string; canceledEntries?: number; stopsMoved?: number; closesQueued?: number };
}

async function receipt(res: Response): Promise<Receipt> {
  if (res.status !== 202) throw new Error(`expected 202, got ${res.status}: ${await res.text()}`);
  return (await res.json()) as Receipt;
}

async function refusedWith(res: Response, reason: string) {
  expect(res.status).toBe(422);
  const error = await errorOf(res);
  expect(error.code).toBe("MANAGEMENT_REFUSED");
  expect(error.message).toContain(reason);
  expect(error.details).toEqual([expect.objectContaining({ code: reason })]);
  return error;
}

async function sendQueued(community: TestCommunity) {
  await deliver("order-submissions", queue.sentFor(community));
}

/** One follower holding `shares` of `signal`'s symbol from a filled market signal, and the provider's webhook. */
async function filled(shares: number, signal: NormalizedSignal = AAPL_MARKET_BUY) {
  const community = await communityWithFollowers(1, { sizingMode: "fixed_quantity", amount: shares });
  const { signalId } = await submit(community, signal);
  await sendQueued(community);
  const webhook = await createWebhook(community.communityId, community.providerId);
  return { community, signalId, webhook, follower: community.followerIds[0] ?? "" };
}

async function ordersOf(community: TestCommunity, userId: string) {
  return (await community.tenant.execution.listOrders({ userId, limit: 1000 })).reverse();
}

async function heldShares(community: TestCommunity, userId: string, symbol = "AAPL"): Promise<number> {
  return runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
    const [row] = state.storage.sql
      .exec<{ state: string }>("select state from paper_accounts where user_id = ?", userId)
      .toArray();
    const account = JSON.parse(row?.state ?? "{}") as PaperAccountState;
    return Object.values(account.positions ?? {}).find((p) => p.symbol === symbol)?.quantity ?? 0;
  });
}

const post = (webhook: TestWebhook, body: unknown) => postSignal(webhook.path, body);

describe("management through the provider webhook", { timeout: 30_000 }, () => {
  it("Scenario: A webhook text moves the stop of the provider's open trade on its symbol", async () => {
    const { community, signalId, webhook, follower } = await filled(3);
    const fill = (await ordersOf(community, follower)).find((o) => o.leg === "entry")?.averageFillPrice ?? 0;
    const level = Math.round(fill * 0.97 * 100) / 100;
    const answer = await receipt(await post(webhook, { text: `move stop to ${level} AAPL` }));
    expect(answer).toMatchObject({ signalId, status: "managed", summary: { stopsMoved: 1 } });
    const stops = (await ordersOf(community, follower)).filter((o) => o.leg === "stop");
    expect(stops.map((s) => [s.status, s.stopPrice])).toEqual([
      ["canceled", expect.any(Number)],
      ["submitted", level],
    ]);
    await settle(community);
  });

  it("Scenario: TradersPost exit closes the provider's open trade and cancel cancels its unfilled entries", async () => {
    const { community, signalId, webhook, follower } = await filled(4);
    const exit = await receipt(await post(webhook, { ...docs.EXIT_BULLISH, ticker: "AAPL" }));
    expect(exit).toMatchObject({ signalId, status: "managed", summary: { closesQueued: 1 } });
    await sendQueued(community);
    expect(await heldShares(community, follower)).toBe(0);
    const close = (await ordersOf(community, follower)).find((o) => o.leg.startsWith("exit@"));
    expect(close).toMatchObject({ side: "sell", quantity: 4, orderType: "market", status: "filled" });

    const pending = await communityWithFollowers(1);
    const limit = await submit(pending, { ...AAPL_LONG, symbol: "MSFT" });
    const hook = await createWebhook(pending.communityId, pending.providerId);
    const cancel = await receipt(await post(hook, { ...docs.CANCEL_OPEN_ORDERS, ticker: "MSFT" }));
    expect(cancel).toMatchObject({ signalId: limit.signalId, status: "managed", summary: { canceledEntries: 1 } });
    const [entry] = await ordersOf(pending, pending.followerIds[0] ?? "");
    expect(entry).toMatchObject({ status: "canceled", statusReason: "canceled_by_provider" });
    await settle(community);
    await settle(pending);
  });

  it("Scenario: Webhook management that names no open trade or several is refused with a reason code", async () => {
    const { community, webhook } = await filled(2);
    await refusedWith(await post(webhook, { text: "cancel TSLA" }), "NO_OPEN_TRADE");
    await refusedWith(await post(webhook, { ...docs.CANCEL_OPEN_ORDERS, ticker: "AAPL" }), "NO_OPEN_TRADE");
    // A second AAPL trade of the same provider: a body naming AAPL no longer says which one.
    await submit(community, { ...AAPL_LONG, entry: { price: 150 }, stopLoss: 140, takeProfits: [] });
    const before = await community.tenant.execution.listOrders({ limit: 1000 });
    await refusedWith(await post(webhook, { text: "cancel AAPL" }), "AMBIGUOUS_TRADE");
    await refusedWith(await post(webhook, { ...docs.EXIT_BULLISH, ticker: "AAPL" }), "AMBIGUOUS_TRADE");
    expect(await community.tenant.execution.listOrders({ limit: 1000 })).toEqual(before);
    // An exit of a number of units does not fit followers' own sizes: refused as a body problem.
    const units = await post(webhook, { ticker: "AAPL", action: "exit", quantity: 2 });
    expect(units.status).toBe(422);
    expect((await errorOf(units)).details).toMatchObject([{ code: "UNSUPPORTED_FEATURE", field: "quantity" }]);
    await settle(community);
  });

  it("Scenario: A webhook management double post answers as a duplicate", async () => {
    // The first attempt's bug: the untimed cancel repeated within 5 s found no open trade left (422 NO_OPEN_TRADE).
    const community = await communityWithFollowers(1);
    const { signalId } = await submit(community, AAPL_LONG);
    const webhook = await createWebhook(community.communityId, community.providerId);
    const body = { ticker: "AAPL", action: "cancel" };
    const first = await receipt(await post(webhook, body));
    const again = await receipt(await post(webhook, body));
    expect(first).toMatchObject({ signalId, status: "managed", summary: { canceledEntries: 1 } });
    expect(again).toMatchObject({
      signalId,
      status: "duplicate",
      summary: { code: "DOUBLE_POST", canceledEntries: 1 },
    });
    // A timed alert sent again is the same alert: answered once, as a duplicate.
    const timed = await filled(2, { ...AAPL_MARKET_BUY, symbol: "NVDA" });
    const alert = { ticker: "NVDA", action: "exit", time: new Date().toISOString() };
    expect(await receipt(await post(timed.webhook, alert))).toMatchObject({ status: "managed" });
    expect(await receipt(await post(timed.webhook, alert))).toMatchObject({ status: "duplicate" });
    await sendQueued(timed.community);
    expect((await ordersOf(timed.community, timed.follower)).filter((o) => o.leg.startsWith("exit@"))).toHaveLength(1);
    await settle(community);
    await settle(timed.community);
  });

  it("Scenario: Copies of a management alert arriving together are acted on once", async () => {
    // Before: the copy that arrived while the first was acted on got 503 EXECUTOR_UNAVAILABLE ("send it again").
    const timed = await filled(2, { ...AAPL_MARKET_BUY, symbol: "NVDA" });
    const alert = { ticker: "NVDA", action: "exit", time: new Date().toISOString() };
    const timedCopies = await Promise.all([post(timed.webhook, alert), post(timed.webhook, alert)]);
    expect(timedCopies.map((res) => res.status)).toEqual([202, 202]);
    const timedReceipts = await Promise.all(timedCopies.map(receipt));
    expect(timedReceipts.map((r) => r.status).sort()).toEqual(["duplicate", "managed"]);
    expect(timedReceipts[0]?.signalId).toBe(timedReceipts[1]?.signalId);
    await sendQueued(timed.community);
    expect((await ordersOf(timed.community, timed.follower)).filter((o) => o.leg.startsWith("exit@"))).toHaveLength(1);

    // An untimed body posted twice at once: the repeat waits for the first's counts.
    const community = await communityWithFollowers(1);
    const { signalId } = await submit(community, AAPL_LONG);
    const webhook = await createWebhook(community.communityId, community.providerId);
    const body = { ticker: "AAPL", action: "cancel" };
    const untimed = await Promise.all([post(webhook, body), post(webhook, body)]);
    expect(untimed.map((res) => res.status)).toEqual([202, 202]);
    const answers = await Promise.all(untimed.map(receipt));
    const managed = answers.find((r) => r.status === "managed");
    const repeat = answers.find((r) => r.status === "duplicate");
    expect(managed).toMatchObject({ signalId, summary: { canceledEntries: 1 } });
    expect(repeat).toMatchObject({ signalId, summary: { code: "DOUBLE_POST", canceledEntries: 1 } });
    await settle(community);
    await settle(timed.community);
  });

  it("Scenario: Double-post keys are kept only for the window", async () => {
    const community = await communityWithFollowers(1);
    await submit(community, AAPL_LONG);
    const webhook = await createWebhook(community.communityId, community.providerId);
    await receipt(await post(webhook, { ticker: "AAPL", action: "cancel" }));
    const keys = () =>
      runInDurableObject(executorOf(community.communityId), (instance: CommunityExecutor, state) => {
        return { instance, count: state.storage.sql.exec("select * from management_double_posts").toArray().length };
      });
    expect((await keys()).count).toBe(1);
    // The 5-minute reconciliation (and the alarm) forget keys past the window.
    await runInDurableObject(executorOf(community.communityId), (instance: CommunityExecutor) => {
      (instance as unknown as { parts: { management: { prune(now: number): void } } }).parts.management.prune(
        Date.now() + 5_001,
      );
    });
    expect((await keys()).count).toBe(0);
    // After the window the same body is a new instruction: nothing is left to cancel.
    await refusedWith(await post(webhook, { ticker: "AAPL", action: "cancel" }), "NO_OPEN_TRADE");
    await settle(community);
  });
});

describe("management through /signal", { timeout: 30_000 }, () => {
  it("Scenario: A /signal text manages the provider's open trade on its symbol", async () => {
    const registered = await setUpCommunity({ aroundTheClock: true });
    const provider = registered.provider();
    const slashText = (text: string) =>
      slash("signal", [{ name: "text", type: OPTION.STRING, value: text }], { at: registered.at, who: provider });
    // Nothing of theirs is open yet: refused privately with the reason code.
    const early = slashText("cancel AAPL");
    expect(await interactionResponse(await postInteraction(early))).toEqual({ type: 5, data: { flags: EPHEMERAL } });
    expect((await discord.editOf(early)).body.content).toMatch(/^⚠️ Not done \(`NO_OPEN_TRADE`\)/);

    const tenant = forCommunity(database(env.DB), registered.communityId);
    const user = await env.DB.prepare("SELECT id FROM users WHERE discord_id = ?")
      .bind(provider.id)
      .first<{ id: string }>();
    const follower = await upsertUser(database(env.DB), { discordId: snowflake(), username: "follower" });
    await tenant.memberships.upsert(follower.id, "trader");
    await tenant.follows.upsert({
      followerUserId: follower.id,
      providerUserId: user?.id ?? "",
      sizingMode: null,
      amount: null,
      mode: "auto",
    });
    const community = {
      communityId: registered.communityId,
      providerId: user?.id ?? "",
      followerIds: [follower.id],
      tenant,
    };
    await submit(community, AAPL_LONG);
    const cancel = slashText("cancel AAPL");
    await postInteraction(cancel);
    expect((await discord.editOf(cancel)).body.content).toMatch(
      /^🛠️ Managed AAPL \(cancel the entries not filled yet\): 1 entry canceled/,
    );
    const [entry] = await ordersOf(community, follower.id);
    expect(entry).toMatchObject({ status: "canceled", statusReason: "canceled_by_provider" });
    // Nothing is stored as a signal for management.
    expect((await tenant.signals.entriesOn(user?.id ?? "", "AAPL", 10)).length).toBe(1);
    await settle(community);
  });
});
