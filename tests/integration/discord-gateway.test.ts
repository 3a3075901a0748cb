import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { DiscordGateway } from "../../durable-objects/discord-gateway";
import { fetchGatewayBot, openGatewaySocket } from "../../durable-objects/gateway/discord-api";
import {
  DISPATCH_KEY_RETENTION_MS,
  DispatchInbox,
  MAX_HAND_OFF_ATTEMPTS,
} from "../../durable-objects/gateway/dispatch-inbox";
import { GATEWAY_INTENTS } from "../../shared/gateway/protocol";
import { PRODUCTION_FLEET, type ShardIdentity } from "../../shared/gateway/shards";
import { rootLogger } from "../../shared/logging";
import { runGatewayWatchdog } from "../../workers/cron/gateway-watchdog";
import { createApp } from "../../workers/http/app";
import {
  FAKE_BOT_USER_ID,
  fakeDiscord,
  GATEWAY_BOT_URL,
  gatewayOf,
  memberRemove,
  memberUpdate,
  messageCreate,
  OP,
  testShard,
  waitForStatus,
} from "../support/fake-discord";
import { call, callApp, errorOf, opsHeaders } from "../support/http";
import { TEST_VARS } from "../support/test-vars";

const started: ShardIdentity[] = [];
function newShard(shard: ShardIdentity = testShard()): ShardIdentity {
  started.push(shard);
  return shard;
}

afterEach(async () => {
  // Each object holds a socket and an alarm: stop it before the next test's fake takes over fetch.
  for (const shard of started.splice(0)) await gatewayOf(shard).stop("test finished");
  vi.restoreAllMocks();
});

/** Starts a shard against the fake and waits for READY. */
async function connected(shard = newShard()) {
  await gatewayOf(shard).start();
  await waitForStatus(shard, (status) => expect(status.connected).toBe(true));
  return shard;
}

/** JSON log lines written at `level` while the test ran. */
function logLines(level: "error" | "warn" | "log") {
  const spy = vi.spyOn(console, level);
  return () =>
    spy.mock.calls.flatMap(([line]) => {
      try {
        return [JSON.parse(String(line)) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

const WITH_GATEWAY = { ...env, GATEWAY_ENABLED: "true" } as Env;
const PRODUCTION_SHARD: ShardIdentity = { fleet: PRODUCTION_FLEET, shardId: 0, shardCount: 1 };

describe("connecting", () => {
  it("Scenario: The watcher identifies with the four intents and keeps READY's session", async () => {
    const discord = await fakeDiscord();
    const shard = newShard();
    await gatewayOf(shard).start();
    const identify = await discord.next(OP.Identify);
    expect(identify.d).toEqual({
      token: TEST_VARS.DISCORD_BOT_TOKEN,
      intents: GATEWAY_INTENTS,
      properties: { os: expect.any(String), browser: expect.any(String), device: expect.any(String) },
      shard: [0, 1],
    });
    expect(GATEWAY_INTENTS).toBe(1 + 2 + 512 + 32768);
    const status = await waitForStatus(shard, (s) => expect(s.connected).toBe(true));
    expect(status).toMatchObject({ lastSequence: 1, reconnectsLastHour: 0, consecutiveFailures: 0, fatal: null });
    expect(status.identifyBudget).toMatchObject({ total: 1000, remaining: 996, maxConcurrency: 1 });
    expect(discord.requests.map((request) => request.url)).toEqual([
      GATEWAY_BOT_URL,
      `https://gateway.discord.test/${discord.id}?v=10&encoding=json`,
    ]);
    expect(discord.requests[0]?.authorization).toBe(`Bot ${TEST_VARS.DISCORD_BOT_TOKEN}`);
    // READY's session is in the object's storage, so an eviction does not lose it.
    const stored = await runInDurableObject(gatewayOf(shard), (_instance, state) =>
      state.storage.sql.exec<{ value: string }>("select value from gateway_state").one(),
    );
    expect(JSON.parse(stored.value).session).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      resumeUrl: `wss://resume.discord.test/${discord.id}`,
      seq: 1,
    });
  });

  it("Scenario: Heartbeats start after interval × jitter and carry the last sequence", {
    timeout: 15_000,
  }, async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.25);
    const interval = 2_400;
    const discord = await fakeDiscord({ heartbeatIntervalMs: interval });
    const shard = await connected();
    const [connection] = await discord.connections();
    const first = await discord.next(OP.Heartbeat, -1, 2 * interval);
    expect(first.d).toBe(1);
    // Due 600 ms after HELLO: well before a whole interval (the alarm may fire a little late on a loaded machine).
    expect(first.at - (connection?.openedAt ?? 0)).toBeGreaterThanOrEqual(interval * 0.25 - 50);
    expect(first.at - (connection?.openedAt ?? 0)).toBeLessThan(interval * 0.75);
    await discord.dispatch("TYPING_START", { channel_id: "1200000000000000001", user_id: "1", timestamp: 1 });
    const second = await discord.next(OP.Heartbeat, first.index, 2 * interval);
    expect(second.d).toBe(2);
    expect(second.at - first.at).toBeGreaterThanOrEqual(interval - 50);
    const status = await waitForStatus(shard, (s) => expect(s.lastHeartbeatAckAt).not.toBeNull());
    expect(status.heartbeatIntervalMs).toBe(interval);
    expect(status.heartbeatAckLatencyMs).toBeGreaterThanOrEqual(0);
    expect(status.heartbeatAckLatencyMs).toBeLessThan(interval);
  });

  it("Scenario: A heartbeat request from Discord is answered at once", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.99); // the first periodic heartbeat is 44.5 s away
    const discord = await fakeDiscord({ heartbeatIntervalMs: 45_000 });
    await connected();
    const before = (await discord.received()).length - 1;
    const asked = Date.now();
    await discord.send({ op: OP.Heartbeat, d: null });
    const heartbeat = await discord.next(OP.Heartbeat, before, 3_000);
    expect(heartbeat.d).toBe(1);
    expect(heartbeat.at - asked).toBeLessThan(3_000);
  });
});

describe("resuming", () => {
  it("Scenario: A dropped connection resumes at the resume URL and receives the missed events", async () => {
    const discord = await fakeDiscord();
    const shard = await connected();
    await discord.dispatch("MESSAGE_CREATE", messageCreate({ id: "1300000000000000101" }));
    await waitForStatus(shard, (s) => expect(s.lastSequence).toBe(2));
    await discord.drop();
    const resume = await discord.next(OP.Resume);
    expect(resume.d).toEqual({
      token: TEST_VARS.DISCORD_BOT_TOKEN,
      session_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      seq: 2,
    });
    const connections = await discord.connections();
    expect(connections.at(-1)?.url).toBe(`https://resume.discord.test/${discord.id}?v=10&encoding=json`);
    expect((await discord.received()).filter((frame) => frame.op === OP.Identify)).toHaveLength(1);
    const status = await waitForStatus(shard, (s) => expect(s.connected).toBe(true));
    expect(status.reconnectsLastHour).toBe(1);
    // A dispatch sent after the resume arrives as usual.
    await discord.dispatch("MESSAGE_CREATE", messageCreate({ id: "1300000000000000102" }));
    const after = await waitForStatus(shard, (s) => expect(s.dispatches.received.MESSAGE_CREATE).toBe(2));
    expect(after.lastSequence).toBe(4);
  });

  it("Scenario: Events lost in flight are replayed on RESUME and each is handed on once", async () => {
    const discord = await fakeDiscord({ replayOverlap: 1 });
    const shard = await connected();
    await discord.dispatch("MESSAGE_CREATE", messageCreate({ id: "1300000000000000201" }));
    await waitForStatus(shard, (s) => expect(s.lastSequence).toBe(2));
    // Lost: Discord sent it, the connection died before it arrived.
    await discord.dispatch("MESSAGE_CREATE", messageCreate({ id: "1300000000000000202" }), { deliver: false });
    await discord.drop();
    const status = await waitForStatus(shard, (s) => {
      expect(s.connected).toBe(true);
      expect(s.dispatches.received.MESSAGE_CREATE).toBe(2);
    });
    // The fake replayed seq 2 (already seen) as well as seq 3: the replay is counted and dropped.
    expect(status.dispatches.replayed.MESSAGE_CREATE).toBe(1);
    expect(status.lastSequence).toBe(4);
    expect(status.dispatches.recent.map((dispatch) => dispatch.subjectId).sort()).toEqual([
      "1300000000000000201",
      "1300000000000000202",
    ]);
    expect(status.dispatches.recent.every((dispatch) => dispatch.status === "handed_on")).toBe(true);
  });

  it("Scenario: RECONNECT closes the connection and resumes", async () => {
    const discord = await fakeDiscord();
    const shard = await connected();
    await discord.send({ op: OP.Reconnect, d: null });
    const resume = await discord.next(OP.Resume);
    expect(resume.d).toMatchObject({ seq: 1 });
    const connections = await discord.connections();
    expect(connections[0]).toMatchObject({ closedBy: "client", closedCode: 4900 });
    expect(connections[1]?.url).toContain("resume.discord.test");
    const status = await waitForStatus(shard, (s) => expect(s.connected).toBe(true));
    expect(status.reconnectsLastHour).toBe(1);
  });

  it("Scenario: A resumable INVALID_SESSION waits, then resumes", { timeout: 15_000 }, async () => {
    vi.spyOn(Math, "random").mockReturnValue(0); // the shortest wait Discord allows: 1 s
    const discord = await fakeDiscord();
    const shard = await connected();
    const asked = Date.now();
    await discord.send({ op: OP.InvalidSession, d: true });
    const resume = await discord.next(OP.Resume, -1, 8_000);
    expect(resume.at - asked).toBeGreaterThanOrEqual(1_000 - 50);
    expect(resume.at - asked).toBeLessThan(5_000);
    expect((await discord.received()).filter((frame) => frame.op === OP.Identify)).toHaveLength(1);
    await waitForStatus(shard, (s) => expect(s.connected).toBe(true));
  });

  it("Scenario: A non-resumable INVALID_SESSION waits, then identifies a new session", {
    timeout: 15_000,
  }, async () => {
    const discord = await fakeDiscord();
    const shard = await connected();
    const asked = Date.now();
    await discord.send({ op: OP.InvalidSession, d: false });
    const identify = await discord.next(OP.Identify, 0, 8_000);
    expect(identify.at - asked).toBeGreaterThanOrEqual(1_000 - 50);
    expect((await discord.received()).some((frame) => frame.op === OP.Resume)).toBe(false);
    // A new session: GET /gateway/bot again, the cached URL (not the resume URL), a fresh READY.
    expect(discord.requests.filter((request) => request.url === GATEWAY_BOT_URL).length).toBeGreaterThanOrEqual(2);
    expect((await discord.connections()).at(-1)?.url).toContain("gateway.discord.test");
    const status = await waitForStatus(shard, (s) => expect(s.connected).toBe(true));
    expect(status.sessionAgeMs).toBeLessThan(Date.now() - asked);
  });

  it("Scenario: An expired session answers RESUME with INVALID_SESSION and the watcher identifies", {
    timeout: 15_000,
  }, async () => {
    const discord = await fakeDiscord();
    const shard = await connected();
    await discord.expireSession();
    await discord.drop();
    await discord.next(OP.Resume);
    const identify = await discord.next(OP.Identify, 0, 8_000);
    expect(identify.d).toMatchObject({ intents: GATEWAY_INTENTS });
    await waitForStatus(shard, (s) => expect(s.connected).toBe(true));
  });

  it("Scenario: A resume URL that does not connect is replaced by the URL from GET /gateway/bot", async () => {
    const discord = await fakeDiscord();
    const shard = await connected();
    await discord.configure({ refuseUpgradeHost: "resume.discord.test" });
    await discord.drop();
    const resume = await discord.next(OP.Resume);
    expect(resume.d).toMatchObject({ seq: 1 });
    const upgrades = discord.requests.map((request) => new URL(request.url).hostname).slice(1);
    expect(upgrades).toEqual(["gateway.discord.test", "resume.discord.test", "gateway.discord.test"]);
    const status = await waitForStatus(shard, (s) => expect(s.connected).toBe(true));
    expect(status).toMatchObject({ reconnectsLastHour: 1, consecutiveFailures: 0 });
  });

  it("Scenario: A zombie connection is closed and resumed", { timeout: 15_000 }, async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const discord = await fakeDiscord({ heartbeatIntervalMs: 400, ack: false });
    const shard = await connected();
    const warnings = logLines("warn");
    const resume = await discord.next(OP.Resume, -1, 5_000);
    expect(resume.d).toMatchObject({ seq: 1 });
    const [zombie] = await discord.connections();
    // Closed by us with a code other than 1000/1001, so the session survives for RESUME.
    expect(zombie).toMatchObject({ closedBy: "client", closedCode: 4900 });
    const heartbeats = (await discord.received()).filter(
      (frame) => frame.connection === 1 && frame.op === OP.Heartbeat,
    );
    expect(heartbeats.length).toBeGreaterThanOrEqual(1);
    expect(warnings().some((line) => line.msg === "gateway.zombie_connection")).toBe(true);
    await discord.configure({ ack: true });
    await waitForStatus(shard, (s) => expect(s.connected).toBe(true));
  });
});

describe("stopping for good", () => {
  it("Scenario: A close code that forbids reconnecting stops the watcher, logged at error", async () => {
    for (const [code, reason] of [
      [4004, "Authentication failed."],
      [4010, "Invalid shard."],
      [4011, "Sharding required."],
      [4012, "Invalid API version."],
      [4013, "Invalid intent(s)."],
      [4014, "Disallowed intent(s)."],
    ] as const) {
      const discord = await fakeDiscord({ refuseIdentifyWith: code });
      const shard = newShard();
      const errors = logLines("error");
      await gatewayOf(shard).start();
      const status = await waitForStatus(shard, (s) => expect(s.fatal).not.toBeNull());
      expect(status).toMatchObject({ running: false, connected: false, phase: "idle", nextWakeAt: null });
      expect(status.fatal).toMatchObject({ source: "close_code", code, reason });
      expect(errors()).toContainEqual(
        expect.objectContaining({
          level: "error",
          msg: "gateway.stopped_for_good",
          alert: true,
          closeCode: code,
          reason,
        }),
      );
      // Nothing reconnects: not the cron's start, not the alarm.
      await gatewayOf(shard).start();
      expect(await runDurableObjectAlarm(gatewayOf(shard))).toBe(false);
      expect(await discord.connections()).toHaveLength(1);
      expect((await discord.received()).filter((frame) => frame.op === OP.Identify)).toHaveLength(1);
      vi.restoreAllMocks();
    }
  });

  it("Scenario: A forbidden close code fails /ready until an operator restarts the watcher", {
    timeout: 15_000,
  }, async () => {
    const discord = await fakeDiscord({ refuseIdentifyWith: 4014 });
    const shard = newShard(PRODUCTION_SHARD);
    await runGatewayWatchdog(WITH_GATEWAY, rootLogger);
    await waitForStatus(shard, (s) => expect(s.fatal?.code).toBe(4014));

    const app = createApp();
    const notReady = await callApp(app, "/ready", { headers: opsHeaders() }, WITH_GATEWAY);
    expect(notReady.status).toBe(503);
    const body = (await notReady.json()) as { checks: { gateway: Record<string, unknown> } };
    expect(body.checks.gateway).toMatchObject({
      ok: false,
      error: "stopped for good by Discord: 4014 DisallowedIntents",
      shards: [{ shardId: 0, connected: false, fatal: { code: 4014, name: "DisallowedIntents" } }],
    });

    // The operator enables the intents in the Developer Portal, then restarts.
    await discord.configure({ refuseIdentifyWith: null });
    const restarted = await callApp(
      app,
      "/api/v1/ops/gateway/restart",
      { method: "POST", headers: opsHeaders() },
      WITH_GATEWAY,
    );
    expect(restarted.status).toBe(200);
    // The refused IDENTIFY used this bucket's slot: the restart waits out the 5 s before identifying again.
    await waitForStatus(shard, (s) => expect(s.connected).toBe(true), 10_000);
    const ready = await callApp(app, "/ready", { headers: opsHeaders() }, WITH_GATEWAY);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: { gateway: { ok: boolean } } }).checks.gateway.ok).toBe(true);
  });

  it("Scenario: A bot token that GET /gateway/bot refuses stops the watcher", async () => {
    const discord = await fakeDiscord({ token: "a-token-discord-reset" });
    const shard = newShard();
    await gatewayOf(shard).start();
    const status = await waitForStatus(shard, (s) => expect(s.fatal).not.toBeNull());
    expect(status.fatal).toMatchObject({ source: "http_status", code: 401 });
    expect(await discord.connections()).toEqual([]);
  });
});

describe("the IDENTIFY rate limit", () => {
  it("Scenario: No IDENTIFY is sent while session_start_limit has none left", async () => {
    const discord = await fakeDiscord({ exhaustedUntil: Date.now() + 60 * 60_000 });
    const shard = newShard();
    const warnings = logLines("warn");
    const status = await gatewayOf(shard).start();
    expect(status).toMatchObject({ phase: "waiting", waitingReason: "identify_budget_exhausted", connected: false });
    expect(status.identifyBudget).toMatchObject({ remaining: 0 });
    // It waits for the reset Discord gave (about an hour), not for a retry loop.
    expect(status.nextWakeAt).toBeGreaterThan(Date.now() + 59 * 60_000);
    expect(await discord.connections()).toEqual([]);
    expect(warnings()).toContainEqual(expect.objectContaining({ msg: "gateway.identify_budget_exhausted" }));
  });

  it("Scenario: Shards of one concurrency bucket identify at most once every 5 seconds", async () => {
    const discord = await fakeDiscord({ maxConcurrency: 1 });
    const fleet = testShard().fleet;
    const first = newShard({ fleet, shardId: 0, shardCount: 2 });
    const second = newShard({ fleet, shardId: 1, shardCount: 2 });
    await gatewayOf(first).start();
    const waiting = await gatewayOf(second).start();
    expect(waiting).toMatchObject({ phase: "waiting", waitingReason: "identify_concurrency" });
    expect(waiting.nextWakeAt).toBeGreaterThan(Date.now() + 3_000);
    const identifies = (await discord.received()).filter((frame) => frame.op === OP.Identify);
    expect(identifies.map((frame) => frame.d)).toEqual([expect.objectContaining({ shard: [0, 2] })]);
  });
});

describe("the watchdog", () => {
  it("Scenario: The alarm reconnects an evicted watcher and resumes its session", async () => {
    const discord = await fakeDiscord();
    const shard = await connected();
    // The object is evicted (a deploy, a crash): its socket and memory are gone, its storage and alarm are not.
    await runInDurableObject(gatewayOf(shard), (_instance, state) => {
      state.abort("evicted by the test");
    }).catch(() => undefined);
    await vi.waitFor(async () => expect((await discord.connections())[0]?.closedCode).not.toBeNull());
    expect(await runDurableObjectAlarm(gatewayOf(shard))).toBe(true);
    const resume = await discord.next(OP.Resume);
    expect(resume.d).toMatchObject({ seq: 1 });
    await waitForStatus(shard, (s) => expect(s.connected).toBe(true));
  });

  it("Scenario: The 5-minute cron starts the watcher when GATEWAY_ENABLED is true and stops it otherwise", {
    timeout: 15_000,
  }, async () => {
    const discord = await fakeDiscord();
    const shard = newShard(PRODUCTION_SHARD);
    const summary = await runGatewayWatchdog(WITH_GATEWAY, rootLogger);
    expect(summary).toMatchObject({ enabled: true, shards: [{ shardId: 0 }] });
    // Earlier tests identified this fleet: its IDENTIFY bucket may hold the start for up to 5 s.
    await waitForStatus(shard, (s) => expect(s.connected).toBe(true), 10_000);
    // Running again while connected changes nothing.
    await runGatewayWatchdog(WITH_GATEWAY, rootLogger);
    expect(await discord.connections()).toHaveLength(1);

    const off = await runGatewayWatchdog(env, rootLogger);
    expect(off).toMatchObject({ enabled: false, shards: [{ shardId: 0, phase: "idle", connected: false }] });
    // Stopping closes with 1000, which ends the session at Discord.
    expect((await discord.connections())[0]).toMatchObject({ closedBy: "client", closedCode: 1000 });
    expect(await runDurableObjectAlarm(gatewayOf(shard))).toBe(false);
  });

  it("Scenario: GATEWAY_ENABLED is off by default and needs a bot token when on", async () => {
    const { loadConfig } = await import("../../shared/config");
    const base = { ...TEST_VARS } as Record<string, unknown>;
    const defaults = loadConfig(base);
    expect(defaults.ok && defaults.config.GATEWAY_ENABLED).toBe(false);
    const { DISCORD_BOT_TOKEN: _token, ...withoutToken } = base;
    expect(loadConfig({ ...withoutToken, GATEWAY_ENABLED: "false" }).ok).toBe(true);
    const missing = loadConfig({ ...withoutToken, GATEWAY_ENABLED: "true" });
    expect(missing.ok ? [] : missing.problems).toContainEqual({
      variable: "DISCORD_BOT_TOKEN",
      problem: "required when GATEWAY_ENABLED is true",
    });
    const typo = loadConfig({ ...base, GATEWAY_ENABLED: "yes" });
    expect(typo.ok ? [] : typo.problems.map((problem) => problem.variable)).toContain("GATEWAY_ENABLED");
  });
});

describe("GET /api/v1/ops/gateway", () => {
  it("Scenario: Operators read each shard's connection, session age, sequence, ACK latency and reconnects", {
    timeout: 15_000,
  }, async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const discord = await fakeDiscord({ heartbeatIntervalMs: 60_000 });
    // The production shard is shared by this file's tests: its counters are read relative to their start.
    const before = await gatewayOf(PRODUCTION_SHARD).status();
    const shard = newShard(PRODUCTION_SHARD);
    await gatewayOf(shard).start();
    // Earlier tests identified this fleet: its IDENTIFY bucket may hold the start for up to 5 s.
    await waitForStatus(shard, (s) => expect(s.connected).toBe(true), 10_000);
    await waitForStatus(shard, (s) => expect(s.heartbeatAckLatencyMs).not.toBeNull());
    await discord.send({ op: OP.Reconnect, d: null });
    await discord.next(OP.Resume);
    await waitForStatus(shard, (s) => expect(s.connected).toBe(true));
    await discord.dispatch("MESSAGE_CREATE", messageCreate({ id: "1300000000000000301" }));
    await waitForStatus(shard, (s) => expect(s.dispatches.recent[0]?.status).toBe("handed_on"));

    const res = await call("/api/v1/ops/gateway", { headers: opsHeaders() });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { enabled: boolean; shards: Record<string, unknown>[] };
    expect(body.enabled).toBe(false);
    expect(body.shards).toHaveLength(1);
    expect(body.shards[0]).toMatchObject({
      shardId: 0,
      shardCount: 1,
      running: true,
      phase: "open",
      connected: true,
      sessionAgeMs: expect.any(Number),
      lastSequence: expect.any(Number),
      heartbeatIntervalMs: 60_000,
      heartbeatAckLatencyMs: expect.any(Number),
      lastHeartbeatAckAt: expect.any(Number),
      reconnectsLastHour: before.reconnectsLastHour + 1,
      consecutiveFailures: 0,
      fatal: null,
      identifyBudget: { total: 1000, remaining: 996, maxConcurrency: 1 },
      dispatches: {
        received: { MESSAGE_CREATE: (before.dispatches.received.MESSAGE_CREATE ?? 0) + 1 },
        replayed: expect.any(Object),
        recent: expect.arrayContaining([
          expect.objectContaining({
            key: "message:1300000000000000301",
            type: "MESSAGE_CREATE",
            status: "handed_on",
            guildId: "1100000000000000001",
            channelId: "1200000000000000001",
            subjectId: "1300000000000000301",
          }),
        ]),
      },
    });
    // The message text is not kept once handed on, and no token is ever shown.
    expect(JSON.stringify(body)).not.toContain("BUY AAPL");
    expect(JSON.stringify(body)).not.toContain(TEST_VARS.DISCORD_BOT_TOKEN);
  });

  it("Scenario: The Gateway status needs the operator token", async () => {
    for (const [headers, code] of [
      [{}, "UNAUTHORIZED"],
      [{ authorization: "Bearer not-the-ops-token" }, "INVALID_TOKEN"],
    ] as const) {
      const res = await call("/api/v1/ops/gateway", { headers });
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe(code);
    }
    const restart = await call("/api/v1/ops/gateway/restart", { method: "POST" });
    expect(restart.status).toBe(401);
    await restart.body?.cancel();
  });

  it("Scenario: Restarting is refused while the Gateway is disabled", async () => {
    const res = await call("/api/v1/ops/gateway/restart", { method: "POST", headers: opsHeaders() });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({ code: "GATEWAY_DISABLED" });
  });
});

describe("bad input", () => {
  it("Scenario: Malformed frames and unknown opcodes are ignored and the connection stays", async () => {
    const discord = await fakeDiscord();
    const shard = await connected();
    const warnings = logLines("warn");
    await discord.sendRaw("{not json");
    await discord.sendRaw(JSON.stringify({ d: { no: "op" } }));
    await discord.send({ op: 42, d: null });
    await discord.send({ op: 0, s: 2, t: "MESSAGE_CREATE", d: { id: "not-a-snowflake" } });
    await discord.send({ op: 10, d: { heartbeat_interval: -1 } });
    await vi.waitFor(() =>
      expect(warnings().map((line) => line.msg)).toEqual(
        expect.arrayContaining([
          "gateway.malformed_frame",
          "gateway.unknown_opcode",
          "gateway.malformed_dispatch",
          "gateway.unexpected_hello",
        ]),
      ),
    );
    const status = await gatewayOf(shard).status();
    expect(status).toMatchObject({ connected: true, reconnectsLastHour: 0, dispatches: { received: {} } });
    expect((await discord.connections())[0]?.closedCode).toBeNull();
  });

  it("Scenario: A GET /gateway/bot answer that is not Discord's shape is retried, never trusted", async () => {
    const discord = await fakeDiscord({
      gatewayBotOverride: { status: 200, body: JSON.stringify({ url: "http://evil.test", shards: 1 }) },
    });
    const shard = newShard();
    const status = await gatewayOf(shard).start();
    expect(status).toMatchObject({ connected: false, fatal: null, consecutiveFailures: 2, phase: "waiting" });
    expect(await discord.connections()).toEqual([]);
    // Discord answers properly again: the next alarm (after a backoff of about a second) connects.
    await discord.configure({ gatewayBotOverride: null });
    await waitForStatus(shard, (s) => expect(s.connected).toBe(true));
  });

  it("Scenario: Messages by bots, webhooks and the watcher itself are not handed on", async () => {
    const discord = await fakeDiscord();
    const shard = await connected();
    await discord.dispatch(
      "MESSAGE_CREATE",
      messageCreate({ id: "1300000000000000401", author: { id: FAKE_BOT_USER_ID, username: "executor", bot: true } }),
    );
    await discord.dispatch(
      "MESSAGE_CREATE",
      messageCreate({ id: "1300000000000000402", author: { id: "1000000000000000077", username: "x", bot: true } }),
    );
    await discord.dispatch(
      "MESSAGE_CREATE",
      messageCreate({ id: "1300000000000000403", webhook_id: "1500000000000000001" }),
    );
    await discord.dispatch("MESSAGE_CREATE", messageCreate({ id: "1300000000000000404" }));
    const status = await waitForStatus(shard, (s) => expect(s.lastSequence).toBe(5));
    expect(status.dispatches.received).toEqual({ MESSAGE_CREATE: 1 });
    expect(status.dispatches.recent.map((dispatch) => dispatch.subjectId)).toEqual(["1300000000000000404"]);
  });

  it("Scenario: Member departures, role changes and edits are handed on under keys that name the event", async () => {
    const discord = await fakeDiscord({ replayOverlap: 3 });
    const shard = await connected();
    const edited = "2026-10-01T12:00:20.000000+00:00";
    await discord.dispatch("MESSAGE_UPDATE", messageCreate({ id: "1300000000000000501", edited_timestamp: edited }));
    await discord.dispatch("GUILD_MEMBER_UPDATE", memberUpdate());
    await discord.dispatch("GUILD_MEMBER_REMOVE", memberRemove());
    await discord.dispatch(
      "GUILD_MEMBER_REMOVE",
      memberRemove({ user: { id: "1000000000000000078", username: "other-bot", bot: true } }),
    );
    const before = await waitForStatus(shard, (s) => expect(s.lastSequence).toBe(5));
    const session = (await runInDurableObject(gatewayOf(shard), (_instance, state) =>
      JSON.parse(state.storage.sql.exec<{ value: string }>("select value from gateway_state").one().value),
    )) as { session: { id: string } };
    expect(before.dispatches.recent.map((dispatch) => dispatch.key).sort()).toEqual([
      `guild_member_remove:1100000000000000001:1000000000000000010:${session.session.id}:4`,
      `guild_member_update:1100000000000000001:1000000000000000010:${session.session.id}:3`,
      `message_update:1300000000000000501:${edited}`,
    ]);
    // A RESUME replays the last three: the same events, so nothing is handed on twice.
    await discord.drop();
    const after = await waitForStatus(shard, (s) => expect(s.lastSequence).toBe(6));
    expect(after.dispatches.received).toEqual({ MESSAGE_UPDATE: 1, GUILD_MEMBER_UPDATE: 1, GUILD_MEMBER_REMOVE: 1 });
    expect(after.dispatches.replayed).toEqual({ GUILD_MEMBER_UPDATE: 1, GUILD_MEMBER_REMOVE: 1 });
  });

  it("Scenario: A failed hand-off stays pending in storage and is given up after 5 attempts", async () => {
    await runInDurableObject(gatewayOf(newShard()), (_instance, state) => {
      const inbox = new DispatchInbox(state.storage.sql);
      const dispatch = {
        type: "GUILD_MEMBER_REMOVE" as const,
        key: `guild_member_remove:1:2:session:${crypto.randomUUID()}`,
        seq: 7,
        shardId: 0,
        receivedAt: Date.now(),
        guildId: "1100000000000000001",
        user: { id: "1000000000000000010", username: "follower", bot: false },
      };
      expect(inbox.accept(dispatch)).toBe(true);
      expect(inbox.accept(dispatch)).toBe(false);
      for (let attempt = 1; attempt < MAX_HAND_OFF_ATTEMPTS; attempt++) {
        expect(inbox.handOffFailed(dispatch.key, `executor unavailable ${attempt}`)).toBe(false);
        expect(inbox.pending()).toEqual([dispatch]);
      }
      expect(inbox.handOffFailed(dispatch.key, "executor unavailable 5")).toBe(true);
      expect(inbox.pending()).toEqual([]);
      expect(inbox.recent()[0]).toMatchObject({
        key: dispatch.key,
        status: "failed",
        attempts: MAX_HAND_OFF_ATTEMPTS,
        lastError: "executor unavailable 5",
      });
      // Keys outlive any RESUME replay, then are pruned; a pending dispatch is never pruned.
      expect(inbox.prune(Date.now() + DISPATCH_KEY_RETENTION_MS - 1_000)).toBe(0);
      expect(inbox.prune(Date.now() + DISPATCH_KEY_RETENTION_MS + 1_000)).toBe(1);
      expect(inbox.counts()).toMatchObject({
        received: { GUILD_MEMBER_REMOVE: 1 },
        replayed: { GUILD_MEMBER_REMOVE: 1 },
      });
    });
  });

  it("Scenario: GET /gateway/bot answers that are not JSON, refused or rate limited are failed attempts", async () => {
    const discord = await fakeDiscord();
    const userAgent = "DiscordBot (http://localhost:8787, 0.1.0)";
    const api = "https://discord.com/api/v10/";
    await discord.configure({ gatewayBotOverride: { status: 200, body: "<html>maintenance</html>" } });
    expect(await fetchGatewayBot(api, TEST_VARS.DISCORD_BOT_TOKEN, userAgent)).toEqual({
      ok: false,
      status: 200,
      error: "the answer is not JSON",
      retryAfterMs: null,
    });
    await discord.configure({
      gatewayBotOverride: {
        status: 429,
        body: '{"retry_after": 3.5, "global": false}',
        headers: { "retry-after": "4" },
      },
    });
    expect(await fetchGatewayBot(api, TEST_VARS.DISCORD_BOT_TOKEN, userAgent)).toMatchObject({
      ok: false,
      status: 429,
      retryAfterMs: 4_000,
    });
    await discord.configure({ gatewayBotOverride: null });
    const ok = await fetchGatewayBot(api, TEST_VARS.DISCORD_BOT_TOKEN, userAgent);
    expect(ok).toMatchObject({ ok: true, info: { url: `wss://gateway.discord.test/${discord.id}` } });
    vi.mocked(globalThis.fetch).mockRejectedValueOnce(new TypeError("Network connection lost."));
    expect(await fetchGatewayBot(api, TEST_VARS.DISCORD_BOT_TOKEN, userAgent)).toEqual({
      ok: false,
      status: null,
      error: "Network connection lost.",
      retryAfterMs: null,
    });
    await discord.configure({ refuseUpgradeHost: "gateway.discord.test" });
    await expect(openGatewaySocket(`wss://gateway.discord.test/${discord.id}?v=10&encoding=json`)).rejects.toThrow(
      "the WebSocket upgrade was refused (HTTP 503)",
    );
  });

  it("Scenario: A Gateway object whose name is not a shard refuses to run", async () => {
    // Called on the instance: a rejected RPC from an object in the test's own isolate is reported as unhandled.
    await runInDurableObject(env.DISCORD_GATEWAY.getByName("not-a-shard"), async (gateway: DiscordGateway) => {
      await expect(gateway.start()).rejects.toThrow("<fleet>/shard-<id>-of-<count>");
      expect(() => gateway.status()).toThrow("<fleet>/shard-<id>-of-<count>");
      await gateway.alarm();
    });
    expect(() => gatewayOf({ fleet: "bad fleet!", shardId: 0, shardCount: 1 })).toThrow("Not a valid Gateway shard");
    expect(() => gatewayOf({ fleet: "f", shardId: 2, shardCount: 2 })).toThrow("Not a valid Gateway shard");
  });

  it("Scenario: The bot token never appears in a log line", async () => {
    const lines = [logLines("log"), logLines("warn"), logLines("error")];
    const discord = await fakeDiscord({ heartbeatIntervalMs: 300 });
    await connected();
    await discord.send({ op: OP.Reconnect, d: null });
    await discord.next(OP.Resume);
    await discord.close(4014, "Disallowed intent(s).");
    await vi.waitFor(() => expect(lines[2]?.().some((line) => line.msg === "gateway.stopped_for_good")).toBe(true));
    const all = JSON.stringify(lines.flatMap((read) => read()));
    expect(all.length).toBeGreaterThan(100);
    expect(all).not.toContain(TEST_VARS.DISCORD_BOT_TOKEN);
  });
});
