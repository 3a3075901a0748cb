import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RealtimeHub } from "../../durable-objects/realtime-hub";
import { hubEventSink } from "../../platform/execution/event-sink";
import type { ExecutionEvent } from "../../shared/execution/events";
import { Logger } from "../../shared/logging";
import type { PublishInput } from "../../shared/realtime/publish";
import { StreamCursor } from "../../shared/realtime/stream-cursor";
import { fakeDiscordApi } from "../support/discord";
import {
  AAPL_MARKET_BUY,
  communityWithFollowers,
  executorOf,
  settle,
  submit,
  type TestCommunity,
} from "../support/execution";
import { connect, type Frame, sessionFor, type TestSocket } from "../support/realtime";

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => {
  discord.restore();
  vi.restoreAllMocks();
});

async function connectFollowers(community: TestCommunity): Promise<TestSocket[]> {
  const sockets: TestSocket[] = [];
  for (const userId of community.followerIds) {
    const { cookie } = await sessionFor(userId, { inGuildOf: community.communityId });
    sockets.push((await connect({ communityId: community.communityId, cookie })).socket);
  }
  return sockets;
}

const typesOf = (socket: TestSocket) => socket.events().map((e) => e.type);
const closeAll = (sockets: TestSocket[]) => {
  for (const socket of sockets) socket.ws.close(1000);
};

describe("execution events reach the hub", () => {
  it("Scenario: A fan-out's orders reach their owners in one batch", async () => {
    const community = await communityWithFollowers(3);
    const sockets = await connectFollowers(community);
    const calls: PublishInput[][] = [];
    const original = RealtimeHub.prototype.publishBatch;
    vi.spyOn(RealtimeHub.prototype, "publishBatch").mockImplementation(function (this: RealtimeHub, inputs) {
      calls.push([...inputs]);
      return original.call(this, inputs);
    });
    const { summary } = await submit(community, AAPL_MARKET_BUY);
    expect(summary).toMatchObject({ status: "accepted", ordersQueued: 3 });
    const queuedFirst = (socket: TestSocket) =>
      socket.events().find((e) => e.type === "order.updated" && (e.data as { status: string }).status === "queued");
    for (const socket of sockets) await socket.until((s) => queuedFirst(s) !== undefined, 3_000, "its queued order");

    const orders = await community.tenant.execution.listOrders({ limit: 10 });
    sockets.forEach((socket, i) => {
      const mine = orders.find((o) => o.userId === community.followerIds[i]);
      const seen = socket.events().filter((e) => e.type === "order.updated");
      expect(seen.length).toBeGreaterThan(0);
      for (const event of seen) expect((event.data as { orderId: string }).orderId).toBe(mine?.id);
    });
    const queuedCalls = calls.filter((batch) =>
      batch.some((e) => e.type === "order.updated" && (e.data as { status: string }).status === "queued"),
    );
    expect(queuedCalls).toHaveLength(1);
    expect(queuedCalls[0]?.filter((e) => e.type === "order.updated")).toHaveLength(3);
    await settle(community);
    closeAll(sockets);
  });

  it("Scenario: Every execution event type reaches the hub", async () => {
    // 1,000 shares are over the paper account's position limit: the order is reduced, and the member told so.
    const community = await communityWithFollowers(1, { sizingMode: "fixed_quantity", amount: 1000 });
    const [socket] = await connectFollowers(community);
    if (!socket) throw new Error("no socket");
    await submit(community, AAPL_MARKET_BUY);
    await socket.until(
      (s) => typesOf(s).includes("position.updated") && typesOf(s).includes("notification"),
      5_000,
      "the fill's position and the reduction notice",
    );
    await settle(community);
    const executor = executorOf(community.communityId);
    await executor.halt({ communityId: community.communityId, reason: "test", actorId: null });
    await executor.resume({ communityId: community.communityId, actorId: null });
    await socket.until(
      (s) => typesOf(s).filter((t) => t === "killswitch.changed").length === 2,
      3_000,
      "halt and resume",
    );

    const byType = (type: string) => socket.events().filter((e) => e.type === type);
    expect(byType("signal.accepted")).toHaveLength(1);
    expect(byType("order.updated").map((e) => (e.data as { status: string }).status)).toContain("filled");
    expect(byType("position.updated")[0]?.stream).toBe("portfolio:member");
    // The member's order message, badged, with the engine's explanation of the reduction.
    expect(byType("notification").map((e) => String((e.data as { content: string }).content))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^🧪 PAPER · .*\n[\s\S]*Reduced from 1,000 to \d+ shares to fit your max position/),
      ]),
    );
    expect(byType("killswitch.changed").map((e) => (e.data as { halted: boolean }).halted)).toEqual([true, false]);
    expect(gapFree(socket)).toBe(true);
    await settle(community);
    closeAll([socket]);
  });

  it("Scenario: Orders canceled in bulk reach their owners", async () => {
    // Confirm mode keeps the orders queued until each member confirms; the halt cancels them all at once.
    const community = await communityWithFollowers(2, { mode: "confirm" });
    const sockets = await connectFollowers(community);
    await submit(community, AAPL_MARKET_BUY);
    const statusesOf = (socket: TestSocket) =>
      socket
        .events()
        .filter((e) => e.type === "order.updated")
        .map((e) => (e.data as { status: string }).status);
    for (const socket of sockets) await socket.until((s) => statusesOf(s).includes("queued"), 3_000, "its order");
    await executorOf(community.communityId).halt({ communityId: community.communityId, reason: "test", actorId: null });
    for (const socket of sockets) {
      await socket.until((s) => statusesOf(s).includes("canceled"), 3_000, "its canceled order");
      expect(statusesOf(socket)).toEqual(["queued", "canceled"]);
    }
    const orders = await community.tenant.execution.listOrders({ limit: 10 });
    sockets.forEach((socket, i) => {
      const ids = new Set(
        socket
          .events()
          .filter((e) => e.type === "order.updated")
          .map((e) => (e.data as { orderId: string }).orderId),
      );
      expect([...ids]).toEqual([orders.find((o) => o.userId === community.followerIds[i])?.id]);
    });
    await settle(community);
    closeAll(sockets);
  });

  it("Scenario: A failing hub never fails the money path", async () => {
    const community = await communityWithFollowers(1);
    vi.spyOn(RealtimeHub.prototype, "publishBatch").mockImplementation(async () => {
      throw new Error("hub down");
    });
    const warnings: string[] = [];
    const original = Logger.prototype.warn;
    vi.spyOn(Logger.prototype, "warn").mockImplementation(function (this: Logger, msg, fields) {
      warnings.push(msg);
      return original.call(this, msg, fields);
    });
    const { summary, signalId } = await submit(community, AAPL_MARKET_BUY);
    expect(summary).toMatchObject({ status: "accepted", ordersQueued: 1 });
    await vi.waitFor(
      async () => {
        const orders = await community.tenant.execution.listOrders({ signalId, limit: 5 });
        expect(orders.find((o) => o.leg === "entry")?.status).toBe("filled");
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(warnings).toContain("realtime.publish_failed");
    await settle(community);
  }, 15_000);

  it("Scenario: A hub that does not answer is abandoned and what waits for it is bounded", async () => {
    const logger = new Logger();
    const logged: [string, Record<string, unknown> | undefined][] = [];
    vi.spyOn(logger, "warn").mockImplementation((msg, fields) => {
      logged.push([msg, fields]);
    });
    const received: ExecutionEvent[][] = [];
    let answer: () => void = () => {};
    const stuck = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const env = {
      REALTIME_HUB: {
        getByName: () => ({
          publishBatch: async (events: ExecutionEvent[]) => {
            received.push(events);
            await stuck;
            return { firstSeq: 0, lastSeq: 0, delivered: 0 };
          },
        }),
      },
    } as unknown as Pick<Env, "REALTIME_HUB">;
    const sink = hubEventSink({ env, logger, timeoutMs: 50, maxPending: 3 });
    const event = (n: number): ExecutionEvent => ({
      type: "signal.accepted",
      communityId: "c1",
      audience: "community",
      data: { n },
      at: Date.now(),
    });
    const started = performance.now();
    await sink.publish(event(1));
    await sink.publishMany([event(2), event(3), event(4)]);
    expect(performance.now() - started).toBeLessThan(5);
    await vi.waitFor(() => expect(logged.map(([msg]) => msg)).toContain("realtime.publish_failed"), { timeout: 1_000 });
    expect(received).toHaveLength(1);
    expect(received[0]?.map((e) => e.data.n)).toEqual([1, 2, 3]);
    expect(logged.find(([msg]) => msg === "realtime.events_dropped")?.[1]).toMatchObject({ dropped: 1 });
    answer();
  });
});

/** Every event chains onto the previous one of its stream (a new hub: every stream starts at 0). */
function gapFree(socket: TestSocket): boolean {
  const cursor = new StreamCursor({});
  return socket
    .events()
    .every(
      (event: Frame) =>
        cursor.accept({ seq: Number(event.seq), stream: String(event.stream), prev: Number(event.prev) }) ===
        "in_order",
    );
}
