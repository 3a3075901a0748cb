import { describe, expect, it } from "vitest";
import {
  backoffMs,
  type GatewayAction,
  type GatewayEvent,
  type GatewayState,
  HELLO_TIMEOUT_MS,
  INITIAL_DURABLE_STATE,
  nextWake,
  restoreState,
  step,
} from "../../../shared/gateway/machine";
import { GATEWAY_INTENTS } from "../../../shared/gateway/protocol";

const SHARD = { fleet: "unit", shardId: 0, shardCount: 1 };
const TOKEN = "unit-bot-token";
const GATEWAY_BOT = {
  url: "wss://gateway.discord.gg",
  shards: 1,
  session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
};
const READY = {
  v: 10,
  user: { id: "900000000000000001", username: "executor", bot: true },
  guilds: [],
  session_id: "session-1",
  resume_gateway_url: "wss://gateway-us-east1-b.discord.gg",
  application: { id: "100000000000000001", flags: 0 },
};

/** Drives the machine as the Durable Object does, with a clock and a random source the test controls. */
class Driver {
  state: GatewayState = restoreState(INITIAL_DURABLE_STATE, 0);
  now = 1_000_000;
  random = 0.5;
  log: GatewayAction[] = [];

  feed(event: GatewayEvent): GatewayAction[] {
    const result = step(this.state, event, { now: this.now, random: () => this.random, token: TOKEN, shard: SHARD });
    this.state = result.state;
    this.log.push(...result.actions);
    return result.actions;
  }

  frame(payload: unknown): GatewayAction[] {
    return this.feed({ type: "frame", attempt: this.state.attempt, data: JSON.stringify(payload) });
  }

  /** start → GET /gateway/bot → IDENTIFY slot → socket → HELLO → IDENTIFY → READY. */
  connect(): void {
    this.feed({ type: "start" });
    this.feed({ type: "gateway_info", attempt: this.state.attempt, info: GATEWAY_BOT });
    this.feed({ type: "identify_slot", attempt: this.state.attempt, granted: true, retryAfterMs: 0 });
    this.feed({ type: "socket_opened", attempt: this.state.attempt });
    this.frame({ op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null });
    this.frame({ op: 0, s: 1, t: "READY", d: READY });
  }

  advance(ms: number): GatewayAction[] {
    this.now += ms;
    return this.feed({ type: "tick" });
  }
}

const sends = (actions: GatewayAction[]) =>
  actions.flatMap((action) => (action.type === "send" ? [action.payload] : []));
const ofType = <T extends GatewayAction["type"]>(actions: GatewayAction[], type: T) =>
  actions.filter((action): action is Extract<GatewayAction, { type: T }> => action.type === type);

describe("Gateway protocol machine", () => {
  it("identifies with the four intents and the shard after HELLO, and keeps READY's session", () => {
    const driver = new Driver();
    const started = driver.feed({ type: "start" });
    expect(ofType(started, "fetch_gateway")).toHaveLength(1);
    driver.feed({ type: "gateway_info", attempt: 1, info: GATEWAY_BOT });
    const slot = driver.feed({ type: "identify_slot", attempt: 1, granted: true, retryAfterMs: 0 });
    expect(ofType(slot, "connect")[0]?.url).toBe("wss://gateway.discord.gg/?v=10&encoding=json");
    driver.feed({ type: "socket_opened", attempt: 1 });
    const hello = driver.frame({ op: 10, d: { heartbeat_interval: 40_000 } });
    expect(sends(hello)).toEqual([
      {
        op: 2,
        d: {
          token: TOKEN,
          intents: 1 | 2 | 512 | 32768,
          properties: expect.any(Object),
          shard: [0, 1],
        },
      },
    ]);
    expect(GATEWAY_INTENTS).toBe(33283);
    const ready = driver.frame({ op: 0, s: 1, t: "READY", d: READY });
    expect(ofType(ready, "persist")[0]?.durable.session).toEqual({
      id: "session-1",
      resumeUrl: READY.resume_gateway_url,
      seq: 1,
      startedAt: driver.now,
    });
    expect(driver.state.phase).toMatchObject({ name: "open", stage: "ready" });
  });

  it("sends the first heartbeat after interval × jitter, then one every interval with the last sequence", () => {
    const driver = new Driver();
    driver.random = 0.25;
    driver.connect();
    const phase = driver.state.phase;
    if (phase.name !== "open") throw new Error("expected an open connection");
    expect(phase.heartbeat?.nextAt).toBe(driver.now + Math.floor(41_250 * 0.25));
    expect(sends(driver.advance(Math.floor(41_250 * 0.25) - 1))).toEqual([]);
    expect(sends(driver.advance(1))).toEqual([{ op: 1, d: 1 }]);
    driver.frame({ op: 11 });
    driver.frame({ op: 0, s: 2, t: "TYPING_START", d: {} });
    expect(sends(driver.advance(41_250))).toEqual([{ op: 1, d: 2 }]);
  });

  it("answers a heartbeat request at once", () => {
    const driver = new Driver();
    driver.connect();
    expect(sends(driver.frame({ op: 1, d: null }))).toEqual([{ op: 1, d: 1 }]);
  });

  it("measures the heartbeat ACK latency", () => {
    const driver = new Driver();
    driver.random = 0;
    driver.connect();
    driver.advance(0);
    driver.now += 37;
    driver.frame({ op: 11 });
    expect(driver.state.lastAckLatencyMs).toBe(37);
  });

  it("treats a missing ACK as a zombie: closes with a code that keeps the session and resumes", () => {
    const driver = new Driver();
    driver.random = 0;
    driver.connect();
    driver.advance(0); // heartbeat sent, no ACK follows
    const actions = driver.advance(41_250);
    expect(ofType(actions, "close")[0]).toMatchObject({ code: 4900 });
    const connect = ofType(actions, "connect")[0];
    expect(connect?.url).toBe("wss://gateway-us-east1-b.discord.gg/?v=10&encoding=json");
    driver.feed({ type: "socket_opened", attempt: driver.state.attempt });
    expect(sends(driver.frame({ op: 10, d: { heartbeat_interval: 41_250 } }))).toEqual([
      { op: 6, d: { token: TOKEN, session_id: "session-1", seq: 1 } },
    ]);
  });

  it("resumes on RECONNECT", () => {
    const driver = new Driver();
    driver.connect();
    const actions = driver.frame({ op: 7, d: null });
    expect(ofType(actions, "close")[0]?.code).toBe(4900);
    expect(ofType(actions, "connect")).toHaveLength(1);
  });

  it("waits 1 to 5 s after INVALID_SESSION, then resumes when it may and identifies when it may not", () => {
    for (const [resumable, random, waitMs] of [
      [true, 0, 1_000],
      [false, 0.999_999, 4_999],
    ] as const) {
      const driver = new Driver();
      driver.connect();
      driver.random = random;
      const actions = driver.frame({ op: 9, d: resumable });
      expect(ofType(actions, "close")).toHaveLength(1);
      expect(driver.state.phase).toMatchObject({ name: "waiting", until: driver.now + waitMs });
      expect(driver.state.durable.session === null).toBe(!resumable);
      expect(driver.advance(waitMs - 1)).toEqual([]);
      const next = driver.advance(1);
      expect(ofType(next, resumable ? "connect" : "fetch_gateway")).toHaveLength(1);
    }
  });

  it("stops for good on close codes that forbid reconnecting, and nothing restarts it but an operator", () => {
    for (const code of [4004, 4010, 4011, 4012, 4013, 4014]) {
      const driver = new Driver();
      driver.connect();
      const actions = driver.feed({ type: "socket_closed", attempt: driver.state.attempt, code, reason: "" });
      expect(ofType(actions, "log")).toContainEqual(
        expect.objectContaining({ level: "error", msg: "gateway.stopped_for_good" }),
      );
      expect(ofType(actions, "connect")).toEqual([]);
      expect(driver.state.durable.fatal?.code).toBe(code);
      expect(nextWake(driver.state)).toBeNull();
      expect(ofType(driver.feed({ type: "start" }), "fetch_gateway")).toEqual([]);
      expect(ofType(driver.feed({ type: "restart" }), "fetch_gateway")).toHaveLength(1);
      expect(driver.state.durable.fatal).toBeNull();
    }
  });

  it("resumes after a close that allows it, and starts a new session after 4007 and 4009", () => {
    for (const [code, expected] of [
      [1006, "connect"],
      [4000, "connect"],
      [4008, "connect"],
      [4007, "fetch_gateway"],
      [4009, "fetch_gateway"],
    ] as const) {
      const driver = new Driver();
      driver.connect();
      const actions = driver.feed({ type: "socket_closed", attempt: driver.state.attempt, code, reason: "" });
      expect(ofType(actions, expected), `close ${code}`).toHaveLength(1);
    }
  });

  it("waits for session_start_limit's reset when no IDENTIFY is left", () => {
    const driver = new Driver();
    driver.feed({ type: "start" });
    const exhausted = {
      ...GATEWAY_BOT,
      session_start_limit: { ...GATEWAY_BOT.session_start_limit, remaining: 0, reset_after: 90_000 },
    };
    const actions = driver.feed({ type: "gateway_info", attempt: 1, info: exhausted });
    expect(ofType(actions, "acquire_identify_slot")).toEqual([]);
    expect(driver.state.phase).toMatchObject({
      name: "waiting",
      until: driver.now + 90_000,
      reason: "identify_budget_exhausted",
    });
    expect(ofType(actions, "schedule")[0]?.at).toBe(driver.now + 90_000);
    expect(ofType(driver.advance(90_000), "fetch_gateway")).toHaveLength(1);
  });

  it("waits for the concurrency bucket when another shard identified in the last 5 s", () => {
    const driver = new Driver();
    driver.feed({ type: "start" });
    driver.feed({ type: "gateway_info", attempt: 1, info: GATEWAY_BOT });
    driver.feed({ type: "identify_slot", attempt: 1, granted: false, retryAfterMs: 3_200 });
    expect(driver.state.phase).toMatchObject({ name: "waiting", until: driver.now + 3_200 });
  });

  it("stops for good when GET /gateway/bot refuses the token", () => {
    const driver = new Driver();
    driver.feed({ type: "start" });
    driver.feed({ type: "gateway_info_failed", attempt: 1, status: 401, error: "HTTP 401", retryAfterMs: null });
    expect(driver.state.durable.fatal).toMatchObject({ source: "http_status", code: 401 });
    expect(driver.state.phase.name).toBe("idle");
  });

  it("ignores malformed frames and unknown opcodes, with a warning", () => {
    const driver = new Driver();
    driver.connect();
    const before = driver.state;
    for (const data of [
      "{not json",
      JSON.stringify({ d: 1 }),
      JSON.stringify({ op: 42, d: null }),
      new ArrayBuffer(4),
    ]) {
      const actions = driver.feed({ type: "frame", attempt: driver.state.attempt, data });
      expect(actions.map((action) => action.type)).toEqual(["log"]);
      expect(ofType(actions, "log")[0]?.level).toBe("warn");
    }
    expect(driver.state).toEqual(before);
  });

  it("ignores events of an earlier connection attempt", () => {
    const driver = new Driver();
    driver.connect();
    const old = driver.state.attempt;
    driver.frame({ op: 7, d: null });
    expect(driver.feed({ type: "socket_closed", attempt: old, code: 4004, reason: "" })).toEqual([]);
    expect(
      driver.feed({ type: "frame", attempt: old, data: JSON.stringify({ op: 0, s: 9, t: "READY", d: READY }) }),
    ).toEqual([]);
    expect(driver.state.durable.fatal).toBeNull();
  });

  it("gives up on a socket that never says HELLO", () => {
    const driver = new Driver();
    driver.feed({ type: "start" });
    driver.feed({ type: "gateway_info", attempt: 1, info: GATEWAY_BOT });
    driver.feed({ type: "identify_slot", attempt: 1, granted: true, retryAfterMs: 0 });
    driver.feed({ type: "socket_opened", attempt: 1 });
    const actions = driver.advance(HELLO_TIMEOUT_MS);
    expect(ofType(actions, "close")[0]).toMatchObject({ attempt: 1, code: 4900 });
    expect(ofType(actions, "fetch_gateway")).toHaveLength(1);
  });

  it("backs off after consecutive failures (the first retry is immediate) and counts reconnects", () => {
    expect(backoffMs(1, () => 0.5)).toBe(0);
    expect(backoffMs(2, () => 0.5)).toBe(1_000);
    expect(backoffMs(4, () => 0.5)).toBe(4_000);
    expect(backoffMs(30, () => 0.5)).toBe(60_000);
    const driver = new Driver();
    driver.connect();
    driver.feed({ type: "socket_closed", attempt: driver.state.attempt, code: 1006, reason: "" });
    driver.feed({ type: "socket_failed", attempt: driver.state.attempt, error: "refused" });
    expect(driver.state.phase).toMatchObject({ name: "waiting", until: driver.now + 1_000 });
    expect(driver.state.durable.reconnects).toHaveLength(1);
  });

  it("counts a reconnect per READY session lost or restart while running, not per retry or IDENTIFY wait", () => {
    const driver = new Driver();
    driver.connect();
    driver.feed({ type: "socket_closed", attempt: driver.state.attempt, code: 4009, reason: "" });
    driver.feed({ type: "gateway_info", attempt: driver.state.attempt, info: GATEWAY_BOT });
    driver.feed({ type: "identify_slot", attempt: driver.state.attempt, granted: false, retryAfterMs: 5_000 });
    driver.advance(5_000);
    driver.feed({ type: "gateway_info", attempt: driver.state.attempt, info: GATEWAY_BOT });
    expect(driver.state.durable.reconnects).toEqual([driver.now - 5_000]);
    driver.feed({ type: "stop", reason: "disabled" });
    expect(driver.state.durable.reconnects).toHaveLength(1);
    const restored = new Driver();
    restored.connect();
    restored.state = restoreState(restored.state.durable, restored.now);
    restored.advance(0);
    expect(restored.state.durable.reconnects).toEqual([restored.now]);
  });

  it("logs a fatal close code as closeCode, which the logger does not redact", () => {
    const driver = new Driver();
    driver.connect();
    const actions = driver.feed({ type: "socket_closed", attempt: driver.state.attempt, code: 4014, reason: "x" });
    const fatal = ofType(actions, "log").find((action) => action.msg === "gateway.stopped_for_good");
    expect(fatal?.fields).toMatchObject({ closeCode: 4014, name: "DisallowedIntents", reason: "x" });
    expect(fatal?.fields).not.toHaveProperty("code");
  });

  it("restores a running gateway after eviction as due to resume at once", () => {
    const driver = new Driver();
    driver.connect();
    const restored = restoreState(driver.state.durable, 5);
    expect(restored.phase).toEqual({ name: "waiting", until: 5, next: "resume", reason: "restored" });
    expect(nextWake(restored)).toBe(5);
    expect(restoreState({ ...driver.state.durable, running: false }, 5).phase.name).toBe("idle");
  });

  it("closes with 1000 on stop, which ends the session", () => {
    const driver = new Driver();
    driver.connect();
    const actions = driver.feed({ type: "stop", reason: "disabled" });
    expect(ofType(actions, "close")[0]?.code).toBe(1000);
    expect(ofType(actions, "schedule")[0]?.at).toBeNull();
    expect(driver.state.durable).toMatchObject({ running: false, session: null });
  });

  it("hands on MESSAGE_CREATE with the message id as its key and advances the sequence", () => {
    const driver = new Driver();
    driver.connect();
    const message = {
      id: "1300000000000000001",
      channel_id: "1200000000000000001",
      guild_id: "1100000000000000001",
      author: { id: "1000000000000000009", username: "provider" },
      member: { roles: ["1400000000000000001"] },
      content: "BUY AAPL @ 150",
      timestamp: "2026-10-01T12:00:00.000000+00:00",
      edited_timestamp: null,
      type: 0,
      mentions: [],
    };
    const actions = driver.frame({ op: 0, s: 2, t: "MESSAGE_CREATE", d: message });
    expect(ofType(actions, "dispatch")[0]?.dispatch).toMatchObject({
      type: "MESSAGE_CREATE",
      key: "message:1300000000000000001",
      seq: 2,
      message: { id: message.id, content: "BUY AAPL @ 150", authorRoles: ["1400000000000000001"] },
    });
    expect(ofType(actions, "persist")[0]?.durable.session?.seq).toBe(2);
    const ours = driver.frame({ op: 0, s: 3, t: "MESSAGE_CREATE", d: { ...message, author: READY.user } });
    expect(ofType(ours, "dispatch")).toEqual([]);
    expect(ofType(ours, "persist")[0]?.durable.session?.seq).toBe(3);
  });
});
