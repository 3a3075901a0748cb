import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommunityExecutor } from "../../durable-objects/community-executor";
import { OrderOutbox, type PlannedOrder } from "../../durable-objects/executor/outbox";
import type { SubmitSignalInput } from "../../shared/execution/submit";
import type { NormalizedSignal } from "../../shared/signals/schema";
import { fakeDiscordApi } from "../support/discord";
import {
  AAPL_LONG,
  addFollowersInBulk,
  communityWithFollowers,
  executorOf,
  settle,
  storedSignal,
  submit,
  type TestCommunity,
} from "../support/execution";
import { interceptOrderQueue } from "../support/order-queue";
import { seedPaperAccount } from "../support/paper-accounts";

const RESTING_BUY = {
  ...AAPL_LONG,
  orderType: "limit",
  entry: { price: 1 },
  stopLoss: null,
  takeProfits: [],
} satisfies NormalizedSignal;
const MARKET_SELL = {
  ...RESTING_BUY,
  action: "sell",
  orderType: "market",
  entry: null,
  quantity: null,
} satisfies NormalizedSignal;

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => discord.restore());

/** Submits inside the object, so that a failure comes back as a value rather than an RPC rejection. */
async function submitFailing(community: TestCommunity, input: SubmitSignalInput): Promise<string> {
  return runInDurableObject(executorOf(community.communityId), async (executor: CommunityExecutor) =>
    executor.submitSignal(input).then(
      () => "no failure",
      (error: unknown) => String(error),
    ),
  );
}

/** Moves the executor's fan-out journal and outbox back in time, as if `ms` had passed. */
async function age(community: TestCommunity, ms: number) {
  await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
    state.storage.sql.exec("update fanouts set started_at = started_at - ?, updated_at = updated_at - ?", ms, ms);
    state.storage.sql.exec("update outbox set created_at = created_at - ?, due_at = due_at - ?", ms, ms);
  });
}

async function reservations(community: TestCommunity): Promise<string[]> {
  return runInDurableObject(executorOf(community.communityId), async (_instance, state) =>
    state.storage.sql
      .exec<{ order_id: string }>("select order_id from reservations")
      .toArray()
      .map((r) => r.order_id),
  );
}

describe("resumable fan-out", () => {
  it("Scenario: A retry of a signal whose fan-out failed part way sends the rest", { timeout: 60_000 }, async () => {
    const community = await communityWithFollowers(0);
    await addFollowersInBulk(community, 1_100);
    const input = await storedSignal(community, RESTING_BUY);
    // Steps of 500: the first step's orders go out in 5 calls, the 6th call (second step) fails.
    const queue = interceptOrderQueue({ [community.communityId]: 6 });
    const executor = executorOf(community.communityId);
    expect(await submitFailing(community, input)).toContain("queue unavailable");

    const retry = await executor.submitSignal(input);
    expect(retry).toMatchObject({ status: "accepted", followers: 1_100, ordersQueued: 1_100 });
    // Every order stored once (none twice, none missing), each with a queue message.
    expect((await community.tenant.execution.activityCounts(0)).openOrders).toBe(1_100);
    const messaged = [...new Set(queue.sentFor(community).map((m) => m.orderId))];
    expect(messaged).toHaveLength(1_100);
    expect((await community.tenant.execution.statusesOf(messaged)).size).toBe(1_100);
    expect(await reservations(community)).toHaveLength(1_100);
    expect((await community.tenant.execution.getSignal(input.signalId))?.status).toBe("accepted");

    const again = await executor.submitSignal(input);
    expect(again).toMatchObject({ status: "duplicate", code: "DUPLICATE_SOURCE" });
    queue.restore();
    await settle(community);
  });

  it("Scenario: A fan-out left unfinished is finished by the executor's alarm", { timeout: 60_000 }, async () => {
    const community = await communityWithFollowers(0);
    await addFollowersInBulk(community, 1_100);
    const input = await storedSignal(community, RESTING_BUY);
    const queue = interceptOrderQueue({ [community.communityId]: 6 });
    const executor = executorOf(community.communityId);
    expect(await submitFailing(community, input)).toContain("queue unavailable");
    expect(new Set(queue.sentFor(community).map((m) => m.orderId)).size).toBeLessThan(1_100);

    await age(community, 31_000);
    await runDurableObjectAlarm(executor);
    expect(new Set(queue.sentFor(community).map((m) => m.orderId)).size).toBe(1_100);
    expect((await community.tenant.execution.activityCounts(0)).openOrders).toBe(1_100);
    const signal = await community.tenant.execution.getSignal(input.signalId);
    expect(signal).toMatchObject({ status: "accepted", summary: { followers: 1_100, ordersQueued: 1_100 } });
    expect(await reservations(community)).toHaveLength(1_100);
    queue.restore();
    await settle(community);
  });

  it("Scenario: A staged batch marked stored is recovered as stored and forgotten whole", async () => {
    const community = await communityWithFollowers(0);
    await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
      const outbox = new OrderOutbox(state.storage.sql);
      const order = { id: "o-1", clientOrderId: "c-1", signalId: "s-1", userId: "u-1", symbol: "AAPL" };
      const orders = [order] as unknown as PlannedOrder[];
      const staged = outbox.stage(
        { communityId: community.communityId, signalId: "s-1", phase: "planned", orders, paused: [] },
        1_000,
      );
      outbox.markStored(staged.id);
      const [recovered, ...others] = outbox.ofSignal("s-1");
      expect(others).toEqual([]);
      expect(recovered).toMatchObject({ id: staged.id, phase: "stored", orders: [order] });
      outbox.remove(staged.id);
      expect(outbox.ofSignal("s-1")).toEqual([]);
      expect(state.storage.sql.exec("select id from outbox_stored").toArray()).toEqual([]);
    });
  });

  it("Scenario: A stranded entry is canceled and a stranded exit still sent", async () => {
    const entries = await communityWithFollowers(1);
    const exits = await communityWithFollowers(1);
    const [holder = ""] = exits.followerIds;
    await seedPaperAccount(exits, holder, {
      cash: 96_000,
      positions: [{ symbol: "AAPL", quantity: 20, averageCost: 200, lastPrice: 200 }],
      day: null,
    });
    const queue = interceptOrderQueue({ [entries.communityId]: 1, [exits.communityId]: 1 });
    const entry = await storedSignal(entries, RESTING_BUY);
    const exit = await storedSignal(exits, MARKET_SELL);
    expect(await submitFailing(entries, entry)).toContain("queue unavailable");
    expect(await submitFailing(exits, exit)).toContain("queue unavailable");

    for (const community of [entries, exits]) {
      await age(community, 3 * 60_000);
      await runDurableObjectAlarm(executorOf(community.communityId));
    }

    const [canceled] = await entries.tenant.execution.listOrders({ signalId: entry.signalId });
    expect(canceled).toMatchObject({ status: "canceled", statusReason: "stranded" });
    expect(queue.sentFor(entries)).toEqual([]);
    expect(await reservations(entries)).toEqual([]);
    const summary = (await entries.tenant.execution.getSignal(entry.signalId))?.summary;
    expect(summary).toMatchObject({ ordersQueued: 0, notReached: 1 });
    await waitFor(() =>
      discord.calls.some((s) => JSON.stringify(s.body).includes("The executor was interrupted before sending it")),
    );

    const [sell] = await exits.tenant.execution.listOrders({ signalId: exit.signalId });
    expect(sell).toMatchObject({ status: "queued", side: "sell", quantity: 20 });
    expect(queue.sentFor(exits).map((m) => m.orderId)).toEqual([sell?.id]);
    queue.restore();
    await settle(entries);
    await settle(exits);
  });
});

describe("reservation lifetime", () => {
  it("Scenario: A reservation outliving its order is released at the end of its lifetime", async () => {
    const community = await communityWithFollowers(1);
    const queue = interceptOrderQueue();
    const first = await submit(community, RESTING_BUY);
    const [order] = await community.tenant.execution.listOrders({ signalId: first.signalId });
    // The order ends without its reservation being released (as a path that forgot to would leave it).
    await community.tenant.execution.cancelQueued("test_leak", { orderIds: [order?.id ?? ""] });

    // Posted more than 5 s after the first: a signal of its own, not an add combined into the first's position.
    await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
      state.storage.sql.exec("update recent_signals set at = at - 6000");
    });
    const blocked = await submit(community, { ...RESTING_BUY, entry: { price: 2 } });
    expect(blocked.summary.skipped).toEqual({ max_positions_per_symbol: 1 });

    await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
      state.storage.sql.exec("update reservations set expires_at = ?", Date.now() - 1);
      state.storage.sql.exec("update recent_signals set at = at - 6000");
    });
    await runDurableObjectAlarm(executorOf(community.communityId));
    expect(await reservations(community)).toEqual([]);
    const placed = await submit(community, { ...RESTING_BUY, entry: { price: 3 } });
    expect(placed.summary).toMatchObject({ ordersQueued: 1, skipped: {} });
    queue.restore();
    await settle(community);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 8000) {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
