import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommunityExecutor } from "../../durable-objects/community-executor";
import type { ExecutorParts } from "../../durable-objects/executor/parts";
import { fakeDiscordApi } from "../support/discord";
import {
  AAPL_LONG,
  communityWithFollowers,
  deliver,
  executorOf,
  queuedMessages,
  settle,
  submit,
  type TestCommunity,
} from "../support/execution";

interface ScheduledFetcher {
  scheduled(options: { cron: string; scheduledTime: number }): Promise<unknown>;
}

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => discord.restore());

/** Moves the development price walk of a symbol (the paper broker's market) to a new price. */
async function movePrice(community: TestCommunity, symbol: string, price: number) {
  await runInDurableObject(executorOf(community.communityId), async (instance: CommunityExecutor) => {
    const desk = (instance as unknown as { parts: { paper: { quotes: { anchor?(s: string, p: number): void } } } })
      .parts.paper;
    desk.quotes.anchor?.(symbol, price);
  });
}

/** Each follower's paper limit buy at 190 that rests at the broker, because the market is far above it. */
async function restingLimitBuys(followers: number) {
  const community = await communityWithFollowers(followers);
  const { signalId } = await submit(community, { ...AAPL_LONG, takeProfits: [{ price: 200, percent: null }] });
  await movePrice(community, "AAPL", 400);
  await deliver("order-submissions", await queuedMessages(community));
  const entries = await community.tenant.execution.listOrders({ signalId });
  expect(entries).toHaveLength(followers);
  for (const entry of entries) expect(entry).toMatchObject({ status: "submitted", leg: "entry" });
  return { community, entries };
}

/** One follower's resting paper limit buy. */
async function restingLimitBuy() {
  const { community, entries } = await restingLimitBuys(1);
  return { community, entry: entries[0] ?? expect.fail("no entry") };
}

describe("fill tracking", () => {
  it("Scenario: Fill tracking sees a fill within seconds and places the exits", async () => {
    const { community, entry } = await restingLimitBuy();
    const executor = executorOf(community.communityId);
    await movePrice(community, "AAPL", 150);
    await runInDurableObject(executor, async (_instance, state) => {
      const [due] = state.storage.sql.exec<{ due_at: number }>("select due_at from tracking").toArray();
      expect(due?.due_at).toBeLessThanOrEqual((entry.submittedAt ?? 0) + 1_000);
      state.storage.sql.exec("update tracking set due_at = ?", Date.now());
    });
    await runDurableObjectAlarm(executor);
    const orders = await community.tenant.execution.listOrders({ signalId: entry.signalId ?? "" });
    expect(orders.find((o) => o.id === entry.id)?.status).toBe("filled");
    expect(
      orders
        .filter((o) => o.parentOrderId === entry.id)
        .map((o) => o.leg)
        .sort(),
    ).toEqual(["stop", "tp1"]);
    await settle(community);
  });

  it("Scenario: Fill tracking asks the paper desk first and reads D1 only for what changed", async () => {
    const { community, entry } = await restingLimitBuy();
    const executor = executorOf(community.communityId);
    const reads: string[][] = [];
    const watched = {
      ...community.tenant,
      execution: {
        ...community.tenant.execution,
        getOrdersByIds: (ids: readonly string[]) => {
          reads.push([...ids]);
          return community.tenant.execution.getOrdersByIds(ids);
        },
      },
    };
    const followUp = () =>
      runInDurableObject(executor, async (instance: CommunityExecutor, state) => {
        // The object's own alarm must not follow the order up in between.
        await state.storage.deleteAlarm();
        state.storage.sql.exec("update tracking set due_at = ?", Date.now());
        const { tracking } = (instance as unknown as { parts: ExecutorParts }).parts;
        await tracking.followUp(community.communityId, watched, Date.now());
        return state.storage.sql.exec<{ due_at: number }>("select due_at from tracking").toArray();
      });

    // Still resting at the paper desk, as D1 last held it: rescheduled, and nothing read from D1.
    const [next] = await followUp();
    expect(reads).toEqual([]);
    expect(next?.due_at).toBeGreaterThan(Date.now());
    expect((await community.tenant.execution.getOrder(entry.id))?.updatedAt).toBe(entry.updatedAt);

    // Filled at the desk: that order alone is read from D1, in one query, and brought up to date (the exits its
    // fill places read their own rows after it).
    await movePrice(community, "AAPL", 150);
    await followUp();
    expect(reads[0]).toEqual([entry.id]);
    expect((await community.tenant.execution.getOrder(entry.id))?.status).toBe("filled");
    await settle(community);
  });

  it("Scenario: Fill tracking lets other work in between members", async () => {
    const { community } = await restingLimitBuys(3);
    const turns = await runInDurableObject(
      executorOf(community.communityId),
      async (instance: CommunityExecutor, state) => {
        await state.storage.deleteAlarm();
        state.storage.sql.exec("update tracking set due_at = ?", Date.now());
        const { tracking, paper } = (instance as unknown as { parts: ExecutorParts }).parts;
        const seen: string[] = [];
        const adapterFor = paper.adapterFor.bind(paper);
        // Each member's look at the desk queues a task behind it: it runs before the next member's look only if
        // fill tracking gives the event loop a turn in between.
        paper.adapterFor = (userId) => {
          const adapter = adapterFor(userId);
          return Object.assign(Object.create(adapter), {
            getOrders: (ids: readonly string[]) => {
              seen.push("member");
              setTimeout(() => seen.push("other work"), 0);
              return adapter.getOrders(ids);
            },
          });
        };
        try {
          await tracking.followUp(community.communityId, community.tenant, Date.now());
        } finally {
          paper.adapterFor = adapterFor;
        }
        return seen;
      },
    );
    expect(turns.slice(0, 5)).toEqual(["member", "other work", "member", "other work", "member"]);
    await settle(community);
  });
});

describe("the executor's alarm", () => {
  it("Scenario: Follow-ups due close together are taken by one alarm run", async () => {
    const { community } = await restingLimitBuys(2);
    const { alarmAt, overdueAlarmAt, dues, from } = await runInDurableObject(
      executorOf(community.communityId),
      async (instance: CommunityExecutor, state) => {
        await state.storage.deleteAlarm();
        const from = Date.now();
        const ids = state.storage.sql.exec<{ order_id: string }>("select order_id from tracking").toArray();
        ids.forEach(({ order_id }, i) => {
          state.storage.sql.exec("update tracking set due_at = ? where order_id = ?", from + 20 + i * 100, order_id);
        });
        const { parts } = instance as unknown as { parts: ExecutorParts };
        await parts.scheduleAlarm();
        const dues = state.storage.sql
          .exec<{ due_at: number }>("select due_at from tracking order by due_at")
          .toArray()
          .map((row) => row.due_at);
        const alarmAt = await state.storage.getAlarm();
        // One left overdue (a run that stopped at its limit): the next run comes at once.
        await state.storage.deleteAlarm();
        state.storage.sql.exec("update tracking set due_at = ? where due_at = ?", from - 1_000, from + 20);
        await parts.scheduleAlarm();
        return { alarmAt, overdueAlarmAt: await state.storage.getAlarm(), dues, from };
      },
    );
    expect(dues).toEqual([from + 20, from + 120]);
    // Not at the first one's time: 250 ms ahead, when both are due.
    expect(alarmAt).toBeGreaterThanOrEqual(from + 250);
    expect(alarmAt).toBeLessThan(from + 1_000);
    expect(overdueAlarmAt).toBeLessThan(from + 250);
    await settle(community);
  });

  it("Scenario: Work tracked later never puts the alarm off", async () => {
    const { community } = await restingLimitBuys(2);
    const { first, again } = await runInDurableObject(
      executorOf(community.communityId),
      async (instance: CommunityExecutor, state) => {
        await state.storage.deleteAlarm();
        const from = Date.now();
        state.storage.sql.exec("update tracking set due_at = ?", from + 200);
        const { parts } = instance as unknown as { parts: ExecutorParts };
        await parts.scheduleAlarm();
        const first = await state.storage.getAlarm();
        // An order sent meanwhile asks for the alarm again while the earlier follow-ups are still the first due.
        await new Promise((resolve) => setTimeout(resolve, 60));
        await parts.scheduleAlarm();
        return { first, again: await state.storage.getAlarm() };
      },
    );
    expect(first).not.toBeNull();
    expect(again).toBe(first);
    await settle(community);
  });
});

describe("reconciliation cron", () => {
  it("Scenario: Reconciliation records fills missed by tracking and writes a report", async () => {
    const { community, entry } = await restingLimitBuy();
    await movePrice(community, "AAPL", 150);
    await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
      state.storage.sql.exec("delete from tracking");
      await state.storage.deleteAlarm();
    });
    const scheduledTime = Date.now();
    await (exports.default as unknown as ScheduledFetcher).scheduled({ cron: "*/5 * * * *", scheduledTime });
    expect((await community.tenant.execution.getOrder(entry.id))?.status).toBe("filled");
    const run = await env.DB.prepare("select * from reconciliation_runs where started_at = ?")
      .bind(scheduledTime)
      .first<{ checked: number; updated: number; finished_at: number | null }>();
    expect(run?.checked).toBeGreaterThanOrEqual(1);
    expect(run?.updated).toBeGreaterThanOrEqual(1);
    expect(run?.finished_at).not.toBeNull();
    await settle(community);
  });

  it("Scenario: An order pending for over an hour is flagged stale", async () => {
    const { community, entry } = await restingLimitBuy();
    await env.DB.prepare("update orders set created_at = ? where id = ?")
      .bind(Date.now() - 2 * 3600_000, entry.id)
      .run();
    const report = await executorOf(community.communityId).reconcile({ communityId: community.communityId });
    expect(report.stale).toBe(1);
    expect((await community.tenant.execution.getOrder(entry.id))?.staleFlaggedAt).not.toBeNull();
    const again = await executorOf(community.communityId).reconcile({ communityId: community.communityId });
    expect(again.stale).toBe(0);
    await settle(community);
  });

  it("Scenario: Two reconciliation runs at once are safe", async () => {
    const { community, entry } = await restingLimitBuy();
    await movePrice(community, "AAPL", 150);
    const executor = executorOf(community.communityId);
    await Promise.all([
      executor.reconcile({ communityId: community.communityId }),
      executor.reconcile({ communityId: community.communityId }),
    ]);
    const events = await community.tenant.execution.orderEvents(entry.id);
    expect(events.filter((e) => e.toStatus === "filled")).toHaveLength(1);
    expect(await community.tenant.execution.fillsOf(entry.id)).toHaveLength(1);
    await settle(community);
  });

  it("Scenario: Reconciliation places the exits of a filled entry that has none", async () => {
    const community = await communityWithFollowers(1);
    const [userId = ""] = community.followerIds;
    const { signalId } = await submit(community, {
      ...AAPL_LONG,
      orderType: "market",
      entry: null,
      stopLoss: null,
      takeProfits: [],
    });
    const messages = await queuedMessages(community);
    await deliver("order-submissions", messages);
    const [entry] = (await community.tenant.execution.listOrders({ signalId })).filter((o) => o.leg === "entry");
    expect(entry).toMatchObject({ status: "filled" });
    // The executor failed between the fill and the exits: none exists, at the broker or in our books.
    await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
      const [row] = state.storage.sql
        .exec<{ state: string }>("select state from paper_accounts where user_id = ?", userId)
        .toArray();
      const account = JSON.parse(row?.state ?? "{}") as {
        orders: Record<string, { status: string; clientOrderId: string }>;
        clientOrderIds: Record<string, string>;
      };
      for (const [id, order] of Object.entries(account.orders)) {
        if (order.status !== "submitted") continue;
        delete account.orders[id];
        delete account.clientOrderIds[order.clientOrderId];
      }
      state.storage.sql.exec("update paper_accounts set state = ? where user_id = ?", JSON.stringify(account), userId);
      state.storage.sql.exec("delete from tracking");
    });
    await env.DB.prepare("delete from orders where community_id = ? and parent_order_id is not null")
      .bind(community.communityId)
      .run();

    // The retried message places nothing: the entry is already filled.
    await deliver("order-submissions", messages, 2);
    const afterRetry = await community.tenant.execution.listOrders({ signalId });
    expect(afterRetry.filter((o) => o.parentOrderId === entry?.id)).toEqual([]);

    // The cron finds the community by this entry alone: nothing else of it is pending.
    await (exports.default as unknown as ScheduledFetcher).scheduled({
      cron: "*/5 * * * *",
      scheduledTime: Date.now(),
    });
    const restored = (await community.tenant.execution.listOrders({ signalId })).filter(
      (o) => o.parentOrderId === entry?.id,
    );
    expect(restored.map((o) => [o.leg, o.quantity, o.status]).sort()).toEqual([
      ["stop", entry?.filledQuantity, "submitted"],
      ["tp1", entry?.filledQuantity, "submitted"],
    ]);
    await settle(community);
  });

  it("Scenario: A position at the broker that we do not know is reported", async () => {
    const community = await communityWithFollowers(1);
    await submit(community, { ...AAPL_LONG, orderType: "market", entry: null, stopLoss: null, takeProfits: [] });
    await deliver("order-submissions", await queuedMessages(community));
    await settle(community);
    await env.DB.prepare("delete from positions where community_id = ?").bind(community.communityId).run();
    const report = await executorOf(community.communityId).reconcile({ communityId: community.communityId });
    expect(report.unknownPositions).toMatchObject([{ symbol: "AAPL", recordedQuantity: 0 }]);
  });
});
