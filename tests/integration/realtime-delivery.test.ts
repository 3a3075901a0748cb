import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FlushSchedule } from "../../durable-objects/realtime/flush-schedule";
import { HubStore, RESERVED_NUMBERS } from "../../durable-objects/realtime/hub-store";
import { RealtimeHub } from "../../durable-objects/realtime-hub";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { hubEventSink } from "../../platform/execution/event-sink";
import { rootLogger } from "../../shared/logging";
import { PublishBatchSchema, type PublishInput } from "../../shared/realtime/publish";
import { StreamCursor } from "../../shared/realtime/stream-cursor";
import { connect, type Frame, hubOf, memberOf, newCommunityId, type TestSocket } from "../support/realtime";

const order = (communityId: string, userId: string, data: Record<string, unknown> = {}): PublishInput => ({
  communityId,
  type: "order.updated",
  audience: { userId },
  data: { orderId: crypto.randomUUID(), ...data },
  at: Date.now(),
});
const signal = (communityId: string, data: Record<string, unknown> = {}): PublishInput => ({
  communityId,
  type: "signal.accepted",
  audience: "community",
  data,
  at: Date.now(),
});

/** Waits for `count` events on each socket, then a moment more, so a stray extra would show. */
async function settle(expected: [TestSocket, number][]): Promise<void> {
  for (const [socket, count] of expected) {
    await socket.until((s) => s.events().length >= count, 3_000, `${count} events`);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}

const closeAll = (...sockets: TestSocket[]) => {
  for (const socket of sockets) socket.ws.close(1000);
};

describe("a busy hub coalesces instead of falling behind", () => {
  it("Scenario: Several events for one socket in one flush arrive in one batch frame", async () => {
    const trader = await memberOf(null, "trader");
    const viewer = await memberOf(trader.communityId, "viewer");
    const [{ socket: traderSocket }, { socket: viewerSocket }] = await Promise.all([connect(trader), connect(viewer)]);
    const { firstSeq } = await hubOf(trader.communityId).publishBatch([
      signal(trader.communityId, { n: 1 }),
      order(trader.communityId, trader.userId, { n: 2 }),
      signal(trader.communityId, { n: 3 }),
    ]);
    await settle([
      [traderSocket, 3],
      [viewerSocket, 2],
    ]);
    expect(traderSocket.batches).toEqual([3]);
    expect(viewerSocket.batches).toEqual([2]);
    const seqs = (socket: TestSocket) => socket.events().map((event) => event.seq);
    expect(seqs(traderSocket)).toEqual([firstSeq, firstSeq + 1, firstSeq + 2]);
    expect(seqs(viewerSocket)).toEqual([firstSeq, firstSeq + 2]);
    expect(traderSocket.events().map((event) => [event.stream, event.prev])).toEqual([
      ["signals:community", 0],
      ["orders:member", 0],
      ["signals:community", firstSeq],
    ]);
    closeAll(traderSocket, viewerSocket);
  });

  it("events published while the hub waits out its frame budget go out together, in order", async () => {
    const first = await memberOf(null, "viewer");
    const others = await Promise.all(Array.from({ length: 7 }, () => memberOf(first.communityId, "viewer")));
    const connected = await Promise.all(
      [first, ...others].flatMap((member) => Array.from({ length: 8 }, () => connect(member))),
    );
    const sockets = connected.map(({ socket }) => socket);
    const hub = hubOf(first.communityId);
    // At a budget of 2,000 frames a second (the hub's is 16,000, which a loaded machine writes about as fast as it
    // allows), the first publish goes at once as 64 frames and the next flush may only go 32 ms later, well after
    // those frames are written: the two publishes sent meanwhile wait for it and go together.
    await runInDurableObject(hub, (instance: RealtimeHub) => {
      (instance as unknown as { waiting: FlushSchedule }).waiting = new FlushSchedule(2_000);
    });
    const [{ firstSeq }] = await Promise.all([
      hub.publishBatch([signal(first.communityId, { n: 1 })]),
      hub.publishBatch([signal(first.communityId, { n: 2 })]),
      hub.publishBatch([signal(first.communityId, { n: 3 })]),
    ]);
    await settle(sockets.map((socket): [TestSocket, number] => [socket, 3]));
    for (const socket of sockets) {
      expect(socket.events().map((event) => [event.seq, (event.data as { n: number }).n])).toEqual([
        [firstSeq, 1],
        [firstSeq + 1, 2],
        [firstSeq + 2, 3],
      ]);
      expect(socket.batches).toEqual([2]);
    }
    closeAll(...sockets);
  });
});

describe("channels by role", () => {
  it("Scenario: A viewer starts on signals and notifications only", async () => {
    const viewer = await memberOf(null, "viewer");
    const { socket, welcome } = await connect(viewer);
    expect(welcome.channels).toEqual(["signals", "notifications"]);
    await hubOf(viewer.communityId).publishBatch([
      order(viewer.communityId, viewer.userId),
      signal(viewer.communityId),
    ]);
    await settle([[socket, 1]]);
    expect(socket.events().map((e) => e.type)).toEqual(["signal.accepted"]);
    closeAll(socket);
  });

  it("Scenario: Unsubscribing narrows and subscribing widens a socket's channels", async () => {
    const trader = await memberOf(null, "trader");
    const hub = hubOf(trader.communityId);
    const { socket } = await connect(trader);
    socket.send({ type: "unsubscribe", channels: ["signals"] });
    const narrowed = await socket.nextOfType("subscribed");
    expect(narrowed.channels).toEqual(["portfolio", "orders", "notifications"]);
    await hub.publish(signal(trader.communityId, { n: 1 }));
    socket.send({ type: "subscribe", channels: ["signals"] });
    const widened = await socket.nextOfType("subscribed");
    expect(widened.channels).toEqual(["portfolio", "orders", "notifications", "signals"]);
    expect(widened.streams).toMatchObject({ "signals:community": 1 });
    await hub.publish(signal(trader.communityId, { n: 2 }));
    await settle([[socket, 1]]);
    expect(socket.events().map((e) => e.data)).toEqual([{ n: 2 }]);
    closeAll(socket);
  });

  it("Scenario: Subscribing to a channel the role may not see is refused", async () => {
    const viewer = await memberOf(null, "viewer");
    const { socket } = await connect(viewer);
    socket.send({ type: "subscribe", channels: ["orders", "signals"] });
    const error = await socket.nextOfType("error");
    expect(error).toMatchObject({ code: "CHANNEL_FORBIDDEN" });
    await hubOf(viewer.communityId).publish(order(viewer.communityId, viewer.userId));
    await hubOf(viewer.communityId).publish(signal(viewer.communityId));
    await settle([[socket, 1]]);
    expect(socket.events().map((e) => e.type)).toEqual(["signal.accepted"]);
    closeAll(socket);
  });

  it("Scenario: Subscribing to another member's channel is refused", async () => {
    const a = await memberOf(null, "admin");
    const b = await memberOf(a.communityId, "trader");
    const { socket } = await connect(a);
    for (const channels of [[`orders:${b.userId}`], [`user:${b.userId}`], ["everything"]]) {
      socket.send({ type: "subscribe", channels });
      expect(await socket.nextOfType("error")).toMatchObject({ code: "UNKNOWN_CHANNEL" });
    }
    await hubOf(a.communityId).publish(order(a.communityId, b.userId));
    await hubOf(a.communityId).publish(signal(a.communityId));
    await settle([[socket, 1]]);
    expect(socket.events().map((e) => e.type)).toEqual(["signal.accepted"]);
    closeAll(socket);
  });
});

describe("audiences", () => {
  it("Scenario: A member's own orders and portfolio reach only that member", async () => {
    const a = await memberOf(null, "trader");
    const b = await memberOf(a.communityId, "trader");
    const admin = await memberOf(a.communityId, "admin");
    const [sa, sb, sadmin] = await Promise.all([connect(a), connect(b), connect(admin)]).then((all) =>
      all.map((c) => c.socket),
    );
    if (!sa || !sb || !sadmin) throw new Error("sockets");
    await hubOf(a.communityId).publishBatch([
      order(a.communityId, a.userId, { mine: true }),
      {
        communityId: a.communityId,
        type: "position.updated",
        audience: { userId: a.userId },
        data: {},
        at: Date.now(),
      },
      signal(a.communityId),
    ]);
    await settle([
      [sa, 3],
      [sb, 1],
      [sadmin, 1],
    ]);
    expect(sa.events().map((e) => e.type)).toEqual(["order.updated", "position.updated", "signal.accepted"]);
    expect(sb.events().map((e) => e.type)).toEqual(["signal.accepted"]);
    expect(sadmin.events().map((e) => e.type)).toEqual(["signal.accepted"]);
    closeAll(sa, sb, sadmin);
  });

  it("Scenario: Aggregates reach owners and admins only", async () => {
    const owner = await memberOf(null, "owner");
    const admin = await memberOf(owner.communityId, "admin");
    const trader = await memberOf(owner.communityId, "trader");
    const sockets = await Promise.all([owner, admin, trader].map((m) => connect(m).then((c) => c.socket)));
    const [so, sa, st] = sockets as [TestSocket, TestSocket, TestSocket];
    await hubOf(owner.communityId).publishBatch([
      { communityId: owner.communityId, type: "order.updated", audience: "admins", data: { open: 3 }, at: Date.now() },
      signal(owner.communityId),
    ]);
    await settle([
      [so, 2],
      [sa, 2],
      [st, 1],
    ]);
    expect(so.events().map((e) => e.stream)).toEqual(["orders:admins", "signals:community"]);
    expect(sa.events().map((e) => e.stream)).toEqual(["orders:admins", "signals:community"]);
    expect(st.events().map((e) => e.stream)).toEqual(["signals:community"]);
    closeAll(...sockets);
  });

  it("Scenario: Community signals reach every subscribed member", async () => {
    const first = await memberOf(null, "owner");
    const members = [
      first,
      ...(await Promise.all(
        ["provider", "trader", "viewer"].map((role) => memberOf(first.communityId, role as "trader")),
      )),
    ];
    const sockets = await Promise.all(members.map((m) => connect(m).then((c) => c.socket)));
    await hubOf(first.communityId).publish(signal(first.communityId, { symbol: "AAPL" }));
    await settle(sockets.map((s) => [s, 1]));
    for (const socket of sockets) {
      expect(socket.events()).toEqual([expect.objectContaining({ type: "signal.accepted", data: { symbol: "AAPL" } })]);
    }
    closeAll(...sockets);
  });

  it("Scenario: A personal channel is never broadcast to the community", async () => {
    const member = await memberOf(null);
    const hub = hubOf(member.communityId);
    const { socket } = await connect(member);
    const valid = signal(member.communityId);
    const badBatches: PublishInput[][] = [
      [valid, { ...order(member.communityId, member.userId), audience: "community" }],
      [valid, { ...signal(member.communityId), channel: "portfolio" }],
      [valid, { ...signal(member.communityId), communityId: "another-community" }],
      [valid, signal(member.communityId, { blob: "x".repeat(17 * 1024) })],
      [valid, { ...signal(member.communityId), type: "order.deleted" as "order.updated" }],
    ];
    // Settled into a plain promise first: vitest probing an RPC promise's properties would pipeline more calls.
    const refusal = (batch: PublishInput[]) =>
      hub.publishBatch(batch).then(
        () => null,
        (error: unknown) => error,
      );
    for (const batch of [...badBatches, []]) expect(await refusal(batch)).toBeInstanceOf(Error);
    expect((await hub.stats()).latestSeq).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(socket.events()).toEqual([]);
    closeAll(socket);
  });
});

describe("tenancy", () => {
  it("Scenario: Events of one community never reach another community's sockets", async () => {
    const inA = await memberOf(null, "owner");
    const communityB = await newCommunityId();
    await forCommunity(database(env.DB), communityB).memberships.upsert(inA.userId, "owner");
    const { socket } = await connect(inA);
    // B's hub: the same member's order, an aggregate and a community signal, none of which is A's.
    await hubOf(communityB).publishBatch([
      order(communityB, inA.userId),
      { communityId: communityB, type: "position.updated", audience: "admins", data: {}, at: Date.now() },
      signal(communityB),
    ]);
    // A's hub refuses an event that names B.
    const refused = await hubOf(inA.communityId)
      .publish(signal(communityB))
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(Error);
    // The execution engine's sink sends each community's events to that community's hub only.
    const sink = hubEventSink({ env, logger: rootLogger });
    await sink.publishMany([
      { type: "signal.accepted", communityId: communityB, audience: "community", data: { to: "B" }, at: Date.now() },
      {
        type: "signal.accepted",
        communityId: inA.communityId,
        audience: "community",
        data: { to: "A" },
        at: Date.now(),
      },
    ]);
    await settle([[socket, 1]]);
    expect(socket.events().map((e) => e.data)).toEqual([{ to: "A" }]);
    expect((await hubOf(communityB).stats()).latestSeq).toBe(4);
    closeAll(socket);
  });
});

describe("sequence numbers and replay", () => {
  it("Scenario: Events carry one sequence per hub in publish order", async () => {
    const a = await memberOf(null, "trader");
    const b = await memberOf(a.communityId, "trader");
    const hub = hubOf(a.communityId);
    const [sa, sb] = (await Promise.all([connect(a), connect(b)])).map((c) => c.socket) as [TestSocket, TestSocket];
    const first = await hub.publishBatch([
      order(a.communityId, a.userId),
      order(a.communityId, b.userId),
      signal(a.communityId),
    ]);
    expect(first).toMatchObject({ firstSeq: 1, lastSeq: 3 });
    expect((await hub.publish(order(a.communityId, a.userId))).lastSeq).toBe(4);
    await settle([
      [sa, 3],
      [sb, 2],
    ]);
    expect(sa.events().map((e) => e.seq)).toEqual([1, 3, 4]);
    expect(sb.events().map((e) => e.seq)).toEqual([2, 3]);
    closeAll(sa, sb);
  });

  it("Scenario: Each stream links to its previous event, so only a missed event of one's own is a gap", async () => {
    const a = await memberOf(null, "trader");
    const b = await memberOf(a.communityId, "trader");
    const hub = hubOf(a.communityId);
    const { socket: sa, welcome } = await connect(a);
    await hub.publishBatch([
      order(a.communityId, a.userId),
      order(a.communityId, b.userId),
      order(a.communityId, a.userId),
    ]);
    await hub.publish(signal(a.communityId));
    await settle([[sa, 3]]);
    const link = (frame: Frame) => [frame.stream, frame.prev, frame.seq];
    expect(sa.events().map(link)).toEqual([
      ["orders:member", 0, 1],
      ["orders:member", 1, 3],
      ["signals:community", 0, 4],
    ]);
    expect(gaps(welcome.streams as Record<string, number>, sa.events())).toEqual([]);
    // A reader who lost seq 1 (its own order) sees the gap; B's order (seq 2) never counts as one.
    expect(gaps(welcome.streams as Record<string, number>, sa.events().slice(1))).toEqual([3]);
    closeAll(sa);
  });

  /** Publishes two events, then one more from a new instance over the same storage (a restart). */
  async function restartAfterTwo(member: { communityId: string }) {
    const hub = hubOf(member.communityId);
    await hub.publishBatch([signal(member.communityId), signal(member.communityId)]);
    return runInDurableObject(hub, (_old: RealtimeHub, state) =>
      new RealtimeHub(state, env).publish(signal(member.communityId)),
    );
  }

  it("Scenario: An event goes out before it is stored, its number reserved first", async () => {
    const member = await memberOf(null);
    const seen = await runInDurableObject(hubOf(member.communityId), (_hub: RealtimeHub, state) => {
      const store = new HubStore(state.storage.sql, (run) => state.storage.transactionSync(run));
      const meta = (key: string) =>
        state.storage.sql.exec<{ value: string }>("SELECT value FROM hub_meta WHERE key = ?", key).toArray()[0]?.value;
      const atSend = store.record(PublishBatchSchema.parse([signal(member.communityId)]), (recorded) => ({
        seq: recorded[0]?.seq,
        reserved: meta("reserved"),
        stored: store.eventsAfter(0).events.length,
      }));
      return { atSend, storedAfter: store.eventsAfter(0).events.map((event) => event.seq), seq: store.latestSeq() };
    });
    expect(seen.atSend).toEqual({ seq: 1, reserved: String(1 + RESERVED_NUMBERS), stored: 0 });
    expect(seen.storedAfter).toEqual([1]);
    expect(seen.seq).toBe(1);
  });

  it("Scenario: A restart never reuses a number", async () => {
    const member = await memberOf(null);
    const next = await restartAfterTwo(member);
    // 3 to 1,002 were reserved when 1 and 2 went out: the restarted hub cannot know that none of them was sent.
    const after = 2 + RESERVED_NUMBERS + 1;
    expect(next).toMatchObject({ firstSeq: after, lastSeq: after });
    const { socket, welcome } = await connect(member, { since: 2 });
    expect(welcome.seq).toBe(after);
    expect(welcome.replay).toEqual({ since: 2, complete: true, events: 1 });
    expect(welcome.streams).toMatchObject({ "signals:community": 2 });
    await settle([[socket, 1]]);
    expect(socket.events().map((event) => [event.seq, event.prev])).toEqual([[after, 2]]);
    closeAll(socket);
  });

  it("Scenario: A replay from a number a restart skipped says so", async () => {
    const member = await memberOf(null);
    await restartAfterTwo(member);
    for (const since of [3, 500, 2 + RESERVED_NUMBERS]) {
      const { socket, welcome } = await connect(member, { since });
      expect(welcome.replay).toEqual({ since, complete: false, events: 0 });
      closeAll(socket);
    }
  });

  it("Scenario: since replays the missed events the member may see", async () => {
    const a = await memberOf(null, "trader");
    const b = await memberOf(a.communityId, "trader");
    const hub = hubOf(a.communityId);
    await hub.publishBatch([signal(a.communityId, { n: 1 }), order(a.communityId, a.userId, { n: 2 })]);
    await hub.publishBatch([
      order(a.communityId, b.userId, { n: 3 }),
      order(a.communityId, a.userId, { n: 4 }),
      signal(a.communityId, { n: 5 }),
    ]);
    const { socket, welcome } = await connect(a, { since: 1 });
    expect(welcome.replay).toEqual({ since: 1, complete: true, events: 3 });
    await settle([[socket, 3]]);
    expect(socket.events().map((e) => [e.seq, (e.data as { n: number }).n])).toEqual([
      [2, 2],
      [4, 4],
      [5, 5],
    ]);
    // The welcome's heads are those the replay chains onto.
    expect(welcome.streams).toMatchObject({ "orders:member": 0, "signals:community": 1 });
    expect(gaps(welcome.streams as Record<string, number>, socket.events())).toEqual([]);
    closeAll(socket);
  });

  it("Scenario: A replay the buffer cannot complete says so", async () => {
    const member = await memberOf(null);
    const hub = hubOf(member.communityId);
    const many = Array.from({ length: 450 }, (_, n) => signal(member.communityId, { n }));
    for (let i = 0; i < 3; i++) await hub.publishBatch(many); // 1,350 events: the buffer keeps the last 1,000
    for (const since of [100, 5000]) {
      const { socket, welcome } = await connect(member, { since });
      expect(welcome.replay).toEqual({ since, complete: false, events: 0 });
      expect(welcome.streams).toMatchObject({ "signals:community": 1350 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(socket.events()).toEqual([]);
      closeAll(socket);
    }
    const { socket, welcome } = await connect(member, { since: 1340 });
    expect(welcome.replay).toEqual({ since: 1340, complete: true, events: 10 });
    closeAll(socket);
  });
});

describe("hibernation", () => {
  it("Scenario: Sockets keep their identity and channels across hibernation", async () => {
    const viewer = await memberOf(null, "viewer");
    const trader = await memberOf(viewer.communityId, "trader");
    const admin = await memberOf(viewer.communityId, "admin");
    const { socket: sv } = await connect(viewer);
    const { socket: st } = await connect(trader);
    const { socket: sa } = await connect(admin);
    st.send({ type: "unsubscribe", channels: ["signals"] });
    await st.nextOfType("subscribed");

    // A woken hub is a new instance over the same state: it knows the sockets only from ctx.getWebSockets().
    const woken = await runInDurableObject(hubOf(viewer.communityId), async (_old: RealtimeHub, state) => {
      const hub = new RealtimeHub(state, env);
      await hub.publishBatch([
        order(viewer.communityId, trader.userId, { own: true }),
        signal(viewer.communityId),
        { communityId: viewer.communityId, type: "order.updated", audience: "admins", data: {}, at: Date.now() },
      ]);
      return hub.stats();
    });
    expect(woken.connections).toBe(3);
    await settle([
      [st, 1],
      [sv, 1],
      [sa, 2],
    ]);
    expect(st.events().map((e) => e.type)).toEqual(["order.updated"]);
    expect(st.events()[0]?.data).toEqual(expect.objectContaining({ own: true }));
    expect(sv.events().map((e) => e.stream)).toEqual(["signals:community"]);
    expect(sa.events().map((e) => e.stream)).toEqual(["signals:community", "orders:admins"]);
    closeAll(sv, st, sa);
  });

  it("Scenario: Pings are answered by the runtime without reaching the hub", async () => {
    const member = await memberOf(null);
    const hub = hubOf(member.communityId);
    const { socket } = await connect(member);
    const before = (await hub.stats()).counters.messagesIn;
    socket.send("ping");
    await socket.until((s) => s.frames.some((f) => f.type === "text" && f.text === "pong"), 3_000, "pong");
    expect((await hub.stats()).counters.messagesIn).toBe(before);
    const answered = await runInDurableObject(hub, (_hub: RealtimeHub, state) =>
      state.getWebSockets().map((ws) => state.getWebSocketAutoResponseTimestamp(ws)),
    );
    expect(answered).toEqual([expect.any(Date)]);
    closeAll(socket);
  });
});

/** The seqs of the events a client's StreamCursor flags as following a gap. */
function gaps(heads: Record<string, number>, events: Frame[]): number[] {
  const cursor = new StreamCursor(heads);
  return events
    .filter(
      (event) =>
        cursor.accept({ seq: Number(event.seq), stream: String(event.stream), prev: Number(event.prev) }) === "gap",
    )
    .map((event) => Number(event.seq));
}
