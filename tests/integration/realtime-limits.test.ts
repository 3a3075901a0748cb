import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { RealtimeHub } from "../../durable-objects/realtime-hub";
import { database } from "../../platform/db/client";
import { sessions } from "../../shared/db/schema";
import { rootLogger } from "../../shared/logging";
import { CLOSE_CODES, REALTIME_LIMITS } from "../../shared/realtime/protocol";
import type { PublishInput } from "../../shared/realtime/publish";
import { revokeAllSessions, revokeSession } from "../../workers/auth/revocation";
import { call, errorOf, opsHeaders } from "../support/http";
import { connect, hubOf, memberOf, requestUpgrade, sessionFor, TestSocket } from "../support/realtime";

const db = database(env.DB);

const signalOf = (communityId: string, bytes: number): PublishInput => ({
  communityId,
  type: "signal.accepted",
  audience: "community",
  data: { pad: "x".repeat(bytes) },
  at: Date.now(),
});

describe("inbound limits", () => {
  it("Scenario: An oversize frame closes the socket with 1009", async () => {
    const member = await memberOf(null);
    const { socket } = await connect(member);
    socket.send(`{"type":"ack","seq":0,"pad":"${"x".repeat(REALTIME_LIMITS.maxInboundBytes)}"}`.slice(0, 4097));
    expect((await socket.closedWith()).code).toBe(CLOSE_CODES.messageTooBig);
    expect((await hubOf(member.communityId).stats()).counters.closedOversize).toBe(1);
  });

  it("Scenario: A binary frame closes the socket with 1003", async () => {
    const member = await memberOf(null);
    const { socket } = await connect(member);
    socket.ws.send(new TextEncoder().encode('{"type":"ack","seq":0}'));
    expect((await socket.closedWith()).code).toBe(CLOSE_CODES.unsupportedData);
  });

  it("Scenario: A malformed frame gets an error and changes nothing", async () => {
    const member = await memberOf(null);
    const { socket } = await connect(member);
    for (const frame of ["{not json", '{"type":"shout"}', '{"type":"subscribe","channels":42}']) {
      socket.send(frame);
      expect(await socket.nextOfType("error")).toMatchObject({ code: "BAD_MESSAGE" });
    }
    await hubOf(member.communityId).publish(signalOf(member.communityId, 10));
    await socket.until((s) => s.events().length === 1, 3_000, "the event");
    expect(socket.closed).toBeNull();
    socket.ws.close(1000);
  });

  it("Scenario: A flood of frames closes the socket with 1008", async () => {
    const member = await memberOf(null);
    const { socket } = await connect(member);
    for (let i = 0; i < 30; i++) socket.send({ type: "subscribe", channels: ["signals"] });
    expect((await socket.closedWith()).code).toBe(CLOSE_CODES.policyViolation);
    // Each of the first 20 was answered; the 21st closed the socket.
    expect(socket.frames.filter((f) => f.type === "subscribed")).toHaveLength(REALTIME_LIMITS.inboundRate.limit);
    expect((await hubOf(member.communityId).stats()).counters.closedRateLimited).toBe(1);
  });
});

describe("slow consumers", () => {
  it("Scenario: A socket that stops acknowledging is closed with 1013 and resumes with since", async () => {
    const member = await memberOf(null);
    const hub = hubOf(member.communityId);
    const { socket } = await connect(member);
    const batch = Array.from({ length: 10 }, () => signalOf(member.communityId, 15 * 1024));
    for (let i = 0; i < 8; i++) await hub.publishBatch(batch); // 80 events of 15 KiB: over 1 MiB, never acknowledged
    expect((await socket.closedWith()).code).toBe(CLOSE_CODES.tryAgainLater);
    expect((await hub.stats()).counters.closedSlowConsumer).toBe(1);
    const received = socket.events();
    expect(received.length).toBeGreaterThan(60);
    expect(received.length).toBeLessThan(80);

    const lastProcessed = Number(received.at(-1)?.seq);
    const { socket: resumed, welcome } = await connect(member, { since: lastProcessed });
    expect(welcome.replay).toEqual({ since: lastProcessed, complete: true, events: 80 - lastProcessed });
    await resumed.until((s) => s.events().length === 80 - lastProcessed, 3_000, "the rest");
    expect(resumed.events().map((e) => e.seq)).toEqual(
      Array.from({ length: 80 - lastProcessed }, (_, i) => lastProcessed + 1 + i),
    );
    resumed.ws.close(1000);
  });

  it("Scenario: Acknowledged traffic keeps a socket open", async () => {
    const member = await memberOf(null);
    const hub = hubOf(member.communityId);
    const { socket } = await connect(member);
    socket.ws.addEventListener("message", () => {
      const events = socket.events();
      if (events.length % 100 === 0) socket.send({ type: "ack", seq: events.at(-1)?.seq });
    });
    const batch = Array.from({ length: 100 }, () => signalOf(member.communityId, 2 * 1024));
    for (let i = 0; i < 10; i++) {
      await hub.publishBatch(batch); // 1,000 events of 2 KiB: 2 MiB in all
      await socket.until((s) => s.events().length === (i + 1) * 100, 3_000, `${(i + 1) * 100} events`);
    }
    expect(socket.closed).toBeNull();
    expect(socket.events()).toHaveLength(1000);
    socket.ws.close(1000);
  });
});

describe("ending sessions on open sockets", () => {
  it("Scenario: Signing out closes the session's sockets at once", async () => {
    const member = await memberOf(null);
    const second = await sessionFor(member.userId);
    const { socket: first } = await connect(member);
    const { socket: other } = await connect({ communityId: member.communityId, cookie: second.cookie });
    expect(await revokeSession(env, rootLogger, member.sessionId)).toBe(true);
    expect(await first.closedWith(1_000)).toEqual({ code: CLOSE_CODES.sessionEnded, reason: "session ended" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(other.closed).toBeNull();
    // Signing out everywhere ends the other one too, and a revoked session cannot connect again.
    expect(await revokeAllSessions(env, rootLogger, member.userId)).toBe(1);
    expect((await other.closedWith(1_000)).code).toBe(CLOSE_CODES.sessionEnded);
    const again = await requestUpgrade(member.communityId, member.cookie);
    expect(again.status).toBe(401);
    await again.body?.cancel();
  });

  it("Scenario: The periodic check closes sockets of sessions ended elsewhere", async () => {
    const revoked = await memberOf(null);
    const expiring = await memberOf(revoked.communityId);
    const live = await memberOf(revoked.communityId);
    const sockets = await Promise.all([revoked, expiring, live].map((m) => connect(m).then((c) => c.socket)));
    const [sRevoked, sExpiring, sLive] = sockets as [TestSocket, TestSocket, TestSocket];
    await db.update(sessions).set({ revokedAt: Date.now() }).where(eq(sessions.id, revoked.sessionId)).run();
    await db
      .update(sessions)
      .set({ expiresAt: Date.now() - 1 })
      .where(eq(sessions.id, expiring.sessionId))
      .run();
    expect(await runDurableObjectAlarm(hubOf(revoked.communityId))).toBe(true);
    expect((await sRevoked.closedWith()).code).toBe(CLOSE_CODES.sessionEnded);
    expect((await sExpiring.closedWith()).code).toBe(CLOSE_CODES.sessionEnded);
    expect(sLive.closed).toBeNull();
    expect((await hubOf(revoked.communityId).stats()).counters.closedSessionEnded).toBe(2);
    sLive.ws.close(1000);
    await runDurableObjectAlarm(hubOf(revoked.communityId)); // the alarm it set again while sockets were open
  });

  it("Scenario: An operator's socket closes once its token is rotated out", async () => {
    const member = await memberOf(null);
    const res = await requestUpgrade(member.communityId, null, { headers: opsHeaders() });
    const operator = new TestSocket(res.webSocket as WebSocket);
    await operator.nextOfType("welcome");
    const { socket: memberSocket } = await connect(member);
    // The same object after a deploy that rotated OPS_TOKEN: a new instance over the same sockets.
    await runInDurableObject(hubOf(member.communityId), async (_old: RealtimeHub, state) => {
      const rotated = { ...env, OPS_TOKEN: "rotated-ops-token-rotated-ops-token-0001" };
      await new RealtimeHub(state, rotated).alarm();
    });
    expect((await operator.closedWith()).code).toBe(CLOSE_CODES.sessionEnded);
    expect(memberSocket.closed).toBeNull();
    memberSocket.ws.close(1000);
    await runDurableObjectAlarm(hubOf(member.communityId));
  });
});

describe("hub statistics", () => {
  it("Scenario: Hub figures reach the operator metrics", async () => {
    const member = await memberOf(null);
    const hub = hubOf(member.communityId);
    const { socket } = await connect(member);
    socket.send({ type: "unsubscribe", channels: ["portfolio"] });
    await socket.nextOfType("subscribed");
    await hub.publish(signalOf(member.communityId, 10));
    await socket.until((s) => s.events().length === 1, 3_000, "the event");
    expect(await runDurableObjectAlarm(hub)).toBe(true);

    const res = await call("/api/v1/ops/metrics", { headers: opsHeaders() });
    expect(res.status).toBe(200);
    const { realtime } = (await res.json()) as {
      realtime: {
        hubs: number;
        connections: number;
        counters: Record<string, number>;
        publishToSendMs: { counts: number[]; p99: { atMostMs: number | null } | null };
      };
    };
    expect(realtime.hubs).toBeGreaterThanOrEqual(1);
    expect(realtime.connections).toBeGreaterThanOrEqual(1);
    expect(realtime.counters.connectionsOpened).toBeGreaterThanOrEqual(1);
    expect(realtime.counters.messagesIn).toBeGreaterThanOrEqual(1);
    expect(realtime.counters.messagesOut).toBeGreaterThanOrEqual(1);
    expect(realtime.counters.bytesOut).toBeGreaterThan(0);
    expect(realtime.publishToSendMs.counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    expect(realtime.publishToSendMs.p99?.atMostMs).toEqual(expect.any(Number));
    socket.ws.close(1000);
    await runDurableObjectAlarm(hub);
  });
});

describe("operator notices", () => {
  it("Scenario: An operator notice reaches every member's notifications channel", async () => {
    const owner = await memberOf(null, "owner");
    const viewer = await memberOf(owner.communityId, "viewer");
    const sockets = await Promise.all([owner, viewer].map((m) => connect(m).then((c) => c.socket)));
    const res = await call(`/api/v1/ops/communities/${owner.communityId}/notices`, {
      method: "POST",
      headers: opsHeaders({ "content-type": "application/json" }),
      body: JSON.stringify({ data: { title: "Maintenance", text: "Brokers reconnect at 22:00 UTC" } }),
    });
    expect(res.status).toBe(202);
    const { seq } = (await res.json()) as { seq: number };
    for (const socket of sockets) {
      await socket.until((s) => s.events().length === 1, 3_000, "the notice");
      expect(socket.events()[0]).toMatchObject({
        seq,
        type: "notification",
        channel: "notifications",
        stream: "notifications:community",
        data: { title: "Maintenance", from: expect.stringMatching(/^ops:/) },
      });
      socket.ws.close(1000);
    }
  });

  it("Scenario: A malformed operator notice is refused", async () => {
    const member = await memberOf(null);
    const post = (body: unknown, communityId = member.communityId) =>
      call(`/api/v1/ops/communities/${communityId}/notices`, {
        method: "POST",
        headers: opsHeaders({ "content-type": "application/json" }),
        body: JSON.stringify(body),
      });
    for (const body of [
      { audience: { userId: member.userId }, data: { text: "just you" } },
      { data: "a string" },
      { data: { text: "x".repeat(9 * 1024) } },
      { data: {}, extra: true },
    ]) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe("VALIDATION_FAILED");
    }
    const missing = await post({ data: { text: "hello" } }, `missing-${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
    expect((await hubOf(member.communityId).stats()).latestSeq).toBe(0);
  });
});
