import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CommunityExecutor } from "../../durable-objects/community-executor";
import { KillSwitch } from "../../durable-objects/executor/kill-switch";
import { ExecutorLocalState } from "../../durable-objects/executor/local-state";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import { rootLogger } from "../../shared/logging";
import {
  fakeDiscordApi,
  interactionResponse,
  member,
  OPTION,
  postInteraction,
  type RegisteredCommunity,
  setUpCommunity,
  slash,
} from "../support/discord";
import {
  communityWithFollowers,
  executorOf,
  AAPL_MARKET_BUY as MARKET_BUY,
  settle,
  submit,
} from "../support/execution";

const db = database(env.DB);

afterEach(() => {
  vi.restoreAllMocks();
});

/** A registered community (through /setup) whose provider is followed by `count` members. */
async function followedProvider(community: RegisteredCommunity, count: number) {
  const provider = community.provider();
  const tenant = forCommunity(db, community.communityId);
  const providerUser = await upsertUser(db, { discordId: provider.id, username: provider.username });
  for (let i = 0; i < count; i++) {
    const follower = await upsertUser(db, { discordId: member().id, username: `follower-${i}` });
    await tenant.memberships.upsert(follower.id, "trader");
    await tenant.follows.upsert({
      followerUserId: follower.id,
      providerUserId: providerUser.id,
      sizingMode: null,
      amount: null,
      mode: "auto",
    });
  }
  return { provider, tenant };
}

const orderCount = async (communityId: string) =>
  (
    await env.DB.prepare("SELECT count(*) AS n FROM orders WHERE community_id = ?")
      .bind(communityId)
      .first<{ n: number }>()
  )?.n ?? 0;

const killswitch = (community: RegisteredCommunity, action: "halt" | "resume") =>
  slash("killswitch", [{ name: "action", type: OPTION.STRING, value: action }], {
    at: community.at,
    who: community.owner,
  });

describe("kill switch: one source of truth", () => {
  it("Scenario: A halt saved only in D1 stops the next signal", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const { provider, tenant } = await followedProvider(community, 3);
    // The flag is saved, but the executor is never told (its call failed, or D1 was restored).
    await tenant.community.setHalted(true, { actorId: null, reason: "restored backup" });
    const sent = vi.spyOn(env.ORDER_QUEUE, "sendBatch");
    const sentOne = vi.spyOn(env.ORDER_QUEUE, "send");

    const signal = slash("signal", [{ name: "text", type: OPTION.STRING, value: "BUY 2 NVDA MKT" }], {
      at: community.at,
      who: provider,
    });
    expect(await interactionResponse(await postInteraction(signal))).toEqual({ type: 5 });
    const edit = await discord.editOf(signal);
    expect(edit.body.content).toMatch(/halted/i);
    expect(await orderCount(community.communityId)).toBe(0);
    expect(sent).not.toHaveBeenCalled();
    expect(sentOne).not.toHaveBeenCalled();
  });

  it("Scenario: A queued order is not sent once D1 says halted", async () => {
    const community = await communityWithFollowers(2);
    // Keep the orders queued: the messages are recorded, not delivered.
    const sendBatch = vi
      .spyOn(env.ORDER_QUEUE, "sendBatch")
      .mockResolvedValue({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } });
    const { summary } = await submit(community, MARKET_BUY);
    expect(summary).toMatchObject({ status: "accepted", ordersQueued: 2 });
    expect(sendBatch).toHaveBeenCalled();
    const queued = await community.tenant.execution.listOrders({ status: "queued", limit: 10 });
    expect(queued).toHaveLength(2);

    await community.tenant.community.setHalted(true, { actorId: null, reason: "D1 only" });
    for (const order of queued) {
      const outcome = await executorOf(community.communityId).submitOrder({
        communityId: community.communityId,
        orderId: order.id,
        attempt: 1,
      });
      expect(outcome).toMatchObject({ outcome: "done", status: "canceled" });
    }
    const after = await community.tenant.execution.listOrders({ limit: 10 });
    expect(after.map((o) => [o.status, o.statusReason])).toEqual([
      ["canceled", "kill switch"],
      ["canceled", "kill switch"],
    ]);
    expect(after.every((o) => o.brokerOrderId === null)).toBe(true);
  });

  it("Scenario: The executor adopts a resume saved in D1", async () => {
    const community = await communityWithFollowers(1);
    await executorOf(community.communityId).halt({
      communityId: community.communityId,
      reason: "drill",
      actorId: null,
    });
    // Resumed in D1 without telling the executor: D1 is the truth, so the executor follows it.
    await community.tenant.community.setHalted(false, { actorId: null });
    const { summary } = await submit(community, MARKET_BUY);
    expect(summary).toMatchObject({ status: "accepted", ordersQueued: 1 });
    await settle(community);
  });

  it("Scenario: An unreadable kill switch counts as halted", async () => {
    await runInDurableObject(executorOf(`ks-${crypto.randomUUID()}`), async (_instance, state) => {
      const local = new ExecutorLocalState(state.storage.sql);
      const killSwitch = new KillSwitch(local, rootLogger);
      const failing = {
        communityId: "c-unreadable",
        community: { get: () => Promise.reject(new Error("D1_ERROR: database unavailable")) },
      };
      const missing = { communityId: "c-missing", community: { get: () => Promise.resolve(null) } };
      const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
      expect(await killSwitch.isHalted(failing as never)).toBe(true);
      expect(await killSwitch.isHalted(missing as never)).toBe(true);
      expect(error.mock.calls.map(([line]) => JSON.parse(String(line)))).toEqual([
        expect.objectContaining({ msg: "killswitch.unreadable", alert: true, communityId: "c-unreadable" }),
        expect.objectContaining({ msg: "killswitch.unreadable", alert: true, communityId: "c-missing" }),
      ]);
      // Failing closed does not rewrite the object's copy: the next good read decides.
      expect(local.halted).toBe(false);
    });
  });

  it("Scenario: A halt that lands during a read of the switch is not undone by it", async () => {
    await runInDurableObject(executorOf(`ks-${crypto.randomUUID()}`), async (_instance, state) => {
      const local = new ExecutorLocalState(state.storage.sql);
      const killSwitch = new KillSwitch(local, rootLogger);
      let answer: (row: { halted: boolean }) => void = () => undefined;
      const slow = {
        communityId: "c-slow",
        community: { get: () => new Promise<{ halted: boolean }>((resolve) => (answer = resolve)) },
      };
      const reading = killSwitch.isHalted(slow as never);
      let written: () => void = () => undefined;
      // halt() arrives while the read is on its way, and its D1 write is still in flight
      const halting = killSwitch.halting(() => new Promise<void>((resolve) => (written = resolve)));
      answer({ halted: false }); // the read saw D1 before the halt was written
      expect(await reading).toBe(true);
      expect(local.halted).toBe(true);
      // A read that starts while the halt's write is in flight also sees the old row: it must not undo the halt.
      const stale = { communityId: "c-slow", community: { get: async () => ({ halted: false }) } };
      expect(await killSwitch.isHalted(stale as never)).toBe(true);
      expect(local.halted).toBe(true);
      written();
      await halting;
      const fresh = { communityId: "c-slow", community: { get: async () => ({ halted: false }) } };
      expect(await killSwitch.isHalted(fresh as never)).toBe(false); // a later read is adopted
    });
  });
});

describe("kill switch: /killswitch says what happened", () => {
  it("Scenario: /killswitch halts even when the executor cannot be told, and says so", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const { provider } = await followedProvider(community, 2);
    const halt = vi
      .spyOn(CommunityExecutor.prototype, "halt")
      .mockRejectedValue(new Error("Durable Object is overloaded."));
    const logged = vi.spyOn(console, "error");

    const payload = killswitch(community, "halt");
    await postInteraction(payload);
    const edit = await discord.editOf(payload, 10_000);
    expect(edit.body.content).toMatch(/^🛑 Trading is halted by /);
    expect(edit.body.content).toContain("could not be told at once (Durable Object is overloaded)");
    expect(edit.body.content).toContain("the halt is saved and in force");
    expect(halt).toHaveBeenCalledTimes(3);
    expect(logged.mock.calls.map(([line]) => String(line)).join("\n")).toMatch(
      /"msg":"killswitch.executor_unreachable".*"alert":true|"alert":true.*"msg":"killswitch.executor_unreachable"/,
    );

    // And it holds: the executor reads the saved switch before the next signal.
    halt.mockRestore();
    const signal = slash("signal", [{ name: "text", type: OPTION.STRING, value: "BUY 2 NVDA MKT" }], {
      at: community.at,
      who: provider,
    });
    await postInteraction(signal);
    expect((await discord.editOf(signal)).body.content).toMatch(/halted/i);
    expect(await orderCount(community.communityId)).toBe(0);
  });

  it("Scenario: A halt that cannot be saved says trading is not halted", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const logged = vi.spyOn(console, "error");
    const batch = env.DB.batch.bind(env.DB);
    vi.spyOn(env.DB, "batch").mockImplementation(async (statements) => {
      // Only the kill switch's write fails (an UPDATE that sets "halted"); everything else reaches D1.
      if (statements.some((statement) => /update\b[^;]*\bset\b[^;]*\\?"halted\\?"/i.test(JSON.stringify(statement))))
        throw new Error("D1_ERROR: database is locked");
      return batch(statements);
    });

    const payload = killswitch(community, "halt");
    await postInteraction(payload);
    const edit = await discord.editOf(payload, 10_000);
    expect(edit.body.content).toMatch(/^⚠️ The halt could not be saved, so trading is NOT halted/);
    expect(edit.body.content).toContain("request id");
    const row = await env.DB.prepare("SELECT halted FROM communities WHERE id = ?")
      .bind(community.communityId)
      .first<{ halted: number }>();
    expect(row?.halted).toBe(0);
    expect(logged.mock.calls.map(([line]) => String(line)).join("\n")).toContain('"msg":"killswitch.not_saved"');
  });
});

describe("executor identity", () => {
  // Called on the object itself: the same methods a stub reaches over RPC, without the test pool
  // reporting the refusal's rejection a second time from inside the object.
  it("Scenario: An executor refuses a community id other than its own name", async () => {
    const a = await communityWithFollowers(1);
    const b = await communityWithFollowers(1);
    await runInDurableObject(executorOf(a.communityId), async (executor, state) => {
      await expect(executor.halt({ communityId: b.communityId, reason: "wrong door", actorId: null })).rejects.toThrow(
        `belongs to community ${a.communityId}, not ${b.communityId}`,
      );
      await expect(
        executor.submitSignal({
          signalId: crypto.randomUUID(),
          communityId: b.communityId,
          providerUserId: b.providerId,
          signal: MARKET_BUY,
          source: "slash",
          sourceId: crypto.randomUUID(),
          sourceTimestamp: Date.now(),
        }),
      ).rejects.toThrow(`not ${b.communityId}`);
      // Refused before anything was written, in the object or in D1.
      expect(state.storage.sql.exec("select count(*) as n from sources").one().n).toBe(0);
      expect(state.storage.sql.exec("select count(*) as n from meta where key = 'communityId'").one().n).toBe(0);
    });
    expect((await b.tenant.community.get())?.halted).toBe(false);
    expect(await orderCount(b.communityId)).toBe(0);
  });

  it("Scenario: An executor without a name stays bound to its first community", async () => {
    const a = await communityWithFollowers(0);
    const b = await communityWithFollowers(0);
    const unnamed = env.COMMUNITY_EXECUTOR.get(env.COMMUNITY_EXECUTOR.newUniqueId());
    await runInDurableObject(unnamed, async (executor, state) => {
      expect(state.id.name).toBeUndefined();
      expect(await executor.syncSettings({ communityId: a.communityId })).toMatchObject({ ok: true });
      await expect(executor.syncSettings({ communityId: b.communityId })).rejects.toThrow(
        `belongs to community ${a.communityId}, not ${b.communityId}`,
      );
    });
  });
});
