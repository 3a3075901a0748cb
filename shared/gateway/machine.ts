import { type GatewayDispatch, isHandedOn, readDispatch } from "./dispatches";
import { type GuildRolesChange, isGuildRoleEvent, readGuildRolesEvent } from "./guild-roles";
import {
  CLOSE_NORMAL,
  CLOSE_TO_RESUME,
  closeCodeName,
  FATAL_CLOSE_CODES,
  type GatewayBot,
  GatewayOpcodes,
  gatewayUrl,
  HelloSchema,
  heartbeatPayload,
  InvalidSessionSchema,
  identifyPayload,
  type OutboundPayload,
  parseFrame,
  ReadySchema,
  resumePayload,
  SESSION_ENDING_CLOSE_CODES,
} from "./protocol";
import type { ShardIdentity } from "./shards";

/**
 * The Discord Gateway protocol as a pure state machine: `step(state, event,
 * context)` returns the next state and the actions the adapter must perform
 * (send, close, connect, fetch, schedule, persist, hand on a dispatch, log).
 * It never reads a clock or a random source of its own, so every rule is
 * unit-tested without a socket. The rules follow Discord's "Gateway" page:
 * HELLO then heartbeats (the first after `interval × jitter`), IDENTIFY or
 * RESUME, READY keeps the session, RECONNECT and a missed heartbeat ACK
 * (a zombie connection) close and resume, INVALID_SESSION waits 1–5 s then
 * resumes or identifies, close codes decide between resume, a new session and
 * stopping for good, and IDENTIFY respects `session_start_limit`.
 */

/** How long a connection attempt (GET /gateway/bot, the IDENTIFY slot, the WebSocket upgrade) may take. */
export const CONNECT_TIMEOUT_MS = 30_000;
/** How long an open socket may wait for HELLO. */
export const HELLO_TIMEOUT_MS = 20_000;
/** Discord's documented wait after INVALID_SESSION before resuming or identifying: a random 1 to 5 seconds. */
export const INVALID_SESSION_WAIT_MS = { min: 1_000, max: 5_000 } as const;
/** Consecutive failed attempts back off exponentially from 1 s to this cap (the first retry is immediate). */
export const RECONNECT_BACKOFF_CAP_MS = 60_000;
export const RECONNECT_WINDOW_MS = 3_600_000;
/** GET /gateway/bot reports fewer session starts than this: say so before the daily budget runs out. */
export const LOW_IDENTIFY_BUDGET = 10;

export type Plan = "resume" | "identify";

export interface GatewaySession {
  id: string;
  resumeUrl: string;
  /** The last sequence number received (sent in heartbeats and RESUME). */
  seq: number | null;
  startedAt: number;
}

export interface FatalStop {
  /** A Gateway close code that forbids reconnecting, or GET /gateway/bot's HTTP status (401: the token). */
  source: "close_code" | "http_status";
  code: number;
  name: string | null;
  reason: string;
  at: number;
}

export interface IdentifyBudget {
  total: number;
  remaining: number;
  resetAt: number;
  maxConcurrency: number;
  checkedAt: number;
}

/** What survives eviction: the adapter stores it on every `persist` action. */
export interface DurableGatewayState {
  /** Told to run (start) and not told to stop. */
  running: boolean;
  session: GatewaySession | null;
  /** Our bot user, from READY. */
  selfUserId: string | null;
  /** The URL from GET /gateway/bot, for reconnecting when resuming is not possible. */
  gatewayUrl: string | null;
  fatal: FatalStop | null;
  /** Consecutive attempts that did not reach READY or RESUMED. */
  failures: number;
  /** When each reconnect of the last hour began: a READY session lost, or the object restarted while running. */
  reconnects: number[];
  identifyBudget: IdentifyBudget | null;
}

export const INITIAL_DURABLE_STATE: DurableGatewayState = {
  running: false,
  session: null,
  selfUserId: null,
  gatewayUrl: null,
  fatal: null,
  failures: 0,
  reconnects: [],
  identifyBudget: null,
};

export interface Heartbeat {
  intervalMs: number;
  nextAt: number;
  awaitingAck: boolean;
  sentAt: number | null;
}

export type Phase =
  | { name: "idle" }
  | { name: "waiting"; until: number; next: Plan; reason: string }
  | { name: "fetching_gateway"; attempt: number; deadline: number }
  | { name: "acquiring_identify_slot"; attempt: number; deadline: number }
  | { name: "connecting"; attempt: number; plan: Plan; url: string; deadline: number }
  | {
      name: "open";
      attempt: number;
      plan: Plan;
      stage: "awaiting_hello" | "handshaking" | "ready";
      openedAt: number;
      helloDeadline: number | null;
      heartbeat: Heartbeat | null;
    };

export interface GatewayState {
  durable: DurableGatewayState;
  phase: Phase;
  /** Numbers each connection attempt; events of an older attempt are ignored. */
  attempt: number;
  /** The last resume URL did not connect: the next resume goes through the URL from GET /gateway/bot. */
  resumeUrlFailed: boolean;
  lastAckLatencyMs: number | null;
  lastAckAt: number | null;
}

export type GatewayEvent =
  | { type: "start" }
  | { type: "stop"; reason: string }
  /** An operator clears a fatal stop (after fixing the token or the intents) and reconnects now. */
  | { type: "restart" }
  /** A timer (the alarm) fired: whatever is due happens. */
  | { type: "tick" }
  | { type: "gateway_info"; attempt: number; info: GatewayBot }
  | { type: "gateway_info_failed"; attempt: number; status: number | null; error: string; retryAfterMs: number | null }
  | { type: "identify_slot"; attempt: number; granted: boolean; retryAfterMs: number }
  | { type: "socket_opened"; attempt: number }
  | { type: "socket_failed"; attempt: number; error: string }
  | { type: "frame"; attempt: number; data: string | ArrayBuffer }
  | { type: "socket_closed"; attempt: number; code: number; reason: string };

export type LogLevel = "info" | "warn" | "error";

export type GatewayAction =
  | { type: "fetch_gateway"; attempt: number }
  | { type: "acquire_identify_slot"; attempt: number; maxConcurrency: number }
  | { type: "connect"; attempt: number; url: string }
  | { type: "send"; attempt: number; payload: OutboundPayload }
  | { type: "close"; attempt: number; code: number; reason: string }
  | { type: "persist"; durable: DurableGatewayState }
  /** The next time a `tick` is due, or null when nothing is (the object is idle). */
  | { type: "schedule"; at: number | null }
  | { type: "dispatch"; dispatch: GatewayDispatch }
  /** A guild's owner or role permissions changed: kept in the same step, before any later message is read. */
  | { type: "guild_roles"; change: GuildRolesChange }
  | { type: "log"; level: LogLevel; msg: string; fields: Record<string, unknown> };

export interface StepContext {
  now: number;
  /** Uniform in [0, 1): jitter for the first heartbeat, the INVALID_SESSION wait and reconnect backoff. */
  random: () => number;
  token: string;
  shard: ShardIdentity;
}

export interface StepResult {
  state: GatewayState;
  actions: GatewayAction[];
}

const RESTORED = "restored";

/** The state after a restart of the object: a running gateway reconnects (resuming if it can) at once. */
export function restoreState(durable: DurableGatewayState, now: number): GatewayState {
  const phase: Phase =
    durable.running && durable.fatal === null
      ? { name: "waiting", until: now, next: planFor(durable), reason: RESTORED }
      : { name: "idle" };
  return { durable, phase, attempt: 0, resumeUrlFailed: false, lastAckLatencyMs: null, lastAckAt: null };
}

export function planFor(durable: DurableGatewayState): Plan {
  return durable.session !== null && durable.session.seq !== null ? "resume" : "identify";
}

/** When the next `tick` is due (deadlines, heartbeats, waits), or null when idle. */
export function nextWake(state: GatewayState): number | null {
  const phase = state.phase;
  switch (phase.name) {
    case "idle":
      return null;
    case "waiting":
      return phase.until;
    case "fetching_gateway":
    case "acquiring_identify_slot":
    case "connecting":
      return phase.deadline;
    case "open": {
      const times = [phase.helloDeadline, phase.heartbeat?.nextAt ?? null].filter((at): at is number => at !== null);
      return times.length > 0 ? Math.min(...times) : null;
    }
  }
}

export function step(state: GatewayState, event: GatewayEvent, context: StepContext): StepResult {
  const transition = new Transition(state, context);
  transition.apply(event);
  return transition.result();
}

class Transition {
  private state: GatewayState;
  private readonly actions: GatewayAction[] = [];
  private durableChanged = false;
  private readonly wakeBefore: number | null;

  constructor(
    initial: GatewayState,
    private readonly context: StepContext,
  ) {
    this.state = { ...initial };
    this.wakeBefore = nextWake(initial);
  }

  result(): StepResult {
    if (this.durableChanged) this.actions.push({ type: "persist", durable: this.state.durable });
    const wake = nextWake(this.state);
    if (wake !== this.wakeBefore) this.actions.push({ type: "schedule", at: wake });
    return { state: this.state, actions: this.actions };
  }

  apply(event: GatewayEvent): void {
    const before = this.state.phase;
    this.handle(event);
    if (event.type !== "stop" && event.type !== "restart") this.countLostConnection(before);
  }

  /**
   * A reconnect is a working session lost (closed, zombie, RECONNECT, INVALID_SESSION) or an object restarted while
   * running; retries of one reconnect and waits for an IDENTIFY slot are not counted again.
   */
  private countLostConnection(before: Phase): void {
    if (before.name !== "open" || before.stage !== "ready" || this.state.durable.fatal !== null) return;
    const phase = this.state.phase;
    if (phase.name === "open" && phase.attempt === before.attempt) return;
    this.recordReconnect();
  }

  private recordReconnect(): void {
    const now = this.context.now;
    const recent = this.state.durable.reconnects.filter((at) => at > now - RECONNECT_WINDOW_MS);
    this.updateDurable({ reconnects: [...recent, now] });
  }

  private handle(event: GatewayEvent): void {
    switch (event.type) {
      case "start":
        this.start();
        return;
      case "stop":
        this.stop(event.reason);
        return;
      case "restart":
        this.restart();
        return;
      case "tick":
        this.tick();
        return;
      case "gateway_info":
        this.gatewayInfo(event.attempt, event.info);
        return;
      case "gateway_info_failed":
        this.gatewayInfoFailed(event);
        return;
      case "identify_slot":
        this.identifySlot(event.attempt, event.granted, event.retryAfterMs);
        return;
      case "socket_opened":
        this.socketOpened(event.attempt);
        return;
      case "socket_failed":
        this.socketFailed(event.attempt, event.error);
        return;
      case "frame":
        this.frame(event.attempt, event.data);
        return;
      case "socket_closed":
        this.socketClosed(event.attempt, event.code, event.reason);
        return;
    }
  }

  // --- commands -------------------------------------------------------------

  private start(): void {
    const durable = this.state.durable;
    if (durable.fatal !== null) {
      this.log("warn", "gateway.start_refused", { fatal: durable.fatal });
      return;
    }
    if (!durable.running) this.updateDurable({ running: true });
    if (this.state.phase.name === "idle") {
      this.begin(planFor(this.state.durable), "start");
      return;
    }
    this.tick();
  }

  private stop(reason: string): void {
    const phase = this.state.phase;
    if (phase.name === "idle" && !this.state.durable.running) return;
    if (phase.name === "open" || phase.name === "connecting") {
      this.actions.push({ type: "close", attempt: phase.attempt, code: CLOSE_NORMAL, reason: "stopping" });
    }
    // Closing with 1000 ends the session: the next start identifies.
    if (this.state.durable.running || this.state.durable.session !== null) {
      this.updateDurable({ running: false, session: null, failures: 0 });
    }
    this.state = { ...this.state, phase: { name: "idle" }, attempt: this.state.attempt + 1 };
    this.log("info", "gateway.stopped", { reason });
  }

  private restart(): void {
    const phase = this.state.phase;
    if (phase.name === "open" || phase.name === "connecting") {
      this.actions.push({ type: "close", attempt: phase.attempt, code: CLOSE_TO_RESUME, reason: "restarting" });
    }
    this.updateDurable({ running: true, fatal: null, failures: 0 });
    this.log("info", "gateway.restarted", {});
    this.begin(planFor(this.state.durable), "restart");
  }

  private tick(): void {
    const { now } = this.context;
    const phase = this.state.phase;
    switch (phase.name) {
      case "idle":
        return;
      case "waiting":
        if (phase.until <= now) this.begin(phase.next, phase.reason);
        return;
      case "fetching_gateway":
      case "acquiring_identify_slot":
      case "connecting":
        if (phase.deadline <= now) {
          if (phase.name === "connecting") this.close(phase.attempt, CLOSE_TO_RESUME, "connect timed out");
          this.failed(phase.name === "connecting" ? phase.plan : "identify", `${phase.name} timed out`);
        }
        return;
      case "open":
        if (phase.helloDeadline !== null && phase.helloDeadline <= now) {
          this.close(phase.attempt, CLOSE_TO_RESUME, "no HELLO");
          this.failed(phase.plan, "no HELLO");
          return;
        }
        if (phase.heartbeat !== null && phase.heartbeat.nextAt <= now) this.heartbeatDue(phase, phase.heartbeat);
        return;
    }
  }

  // --- connecting -------------------------------------------------------------

  /** Starts a connection attempt now: resume through the resume URL, or identify after GET /gateway/bot. */
  private begin(plan: Plan, reason: string): void {
    const { now } = this.context;
    const attempt = this.state.attempt + 1;
    this.state = { ...this.state, attempt };
    if (reason === RESTORED) this.recordReconnect();
    const session = this.state.durable.session;
    if (plan === "resume" && session !== null) {
      const base = this.state.resumeUrlFailed && this.state.durable.gatewayUrl ? this.state.durable.gatewayUrl : null;
      const url = gatewayUrl(base ?? session.resumeUrl);
      this.log("info", "gateway.resuming", { reason, attempt, sessionAgeMs: now - session.startedAt });
      this.connect(attempt, "resume", url);
      return;
    }
    this.log("info", "gateway.identifying", { reason, attempt });
    this.state = { ...this.state, phase: { name: "fetching_gateway", attempt, deadline: now + CONNECT_TIMEOUT_MS } };
    this.actions.push({ type: "fetch_gateway", attempt });
  }

  private connect(attempt: number, plan: Plan, url: string): void {
    const deadline = this.context.now + CONNECT_TIMEOUT_MS;
    this.state = { ...this.state, phase: { name: "connecting", attempt, plan, url, deadline } };
    this.actions.push({ type: "connect", attempt, url });
  }

  private gatewayInfo(attempt: number, info: GatewayBot): void {
    if (!this.isCurrent("fetching_gateway", attempt)) return;
    const { now, shard } = this.context;
    const limit = info.session_start_limit;
    const budget: IdentifyBudget = {
      total: limit.total,
      remaining: limit.remaining,
      resetAt: now + limit.reset_after,
      maxConcurrency: limit.max_concurrency,
      checkedAt: now,
    };
    this.updateDurable({ gatewayUrl: info.url, identifyBudget: budget });
    if (info.shards > shard.shardCount) {
      this.log("warn", "gateway.more_shards_recommended", { recommended: info.shards, running: shard.shardCount });
    }
    if (limit.remaining === 0) {
      this.log("warn", "gateway.identify_budget_exhausted", { alert: true, resetAfterMs: limit.reset_after });
      this.wait(limit.reset_after, "identify", "identify_budget_exhausted");
      return;
    }
    if (limit.remaining <= LOW_IDENTIFY_BUDGET) {
      this.log("warn", "gateway.identify_budget_low", { alert: true, remaining: limit.remaining, total: limit.total });
    }
    const deadline = now + CONNECT_TIMEOUT_MS;
    this.state = { ...this.state, phase: { name: "acquiring_identify_slot", attempt, deadline } };
    this.actions.push({ type: "acquire_identify_slot", attempt, maxConcurrency: limit.max_concurrency });
  }

  private gatewayInfoFailed(event: Extract<GatewayEvent, { type: "gateway_info_failed" }>): void {
    if (!this.isCurrent("fetching_gateway", event.attempt)) return;
    if (event.status === 401) {
      this.haltForGood({
        source: "http_status",
        code: 401,
        name: "Unauthorized",
        reason: "GET /gateway/bot refused the bot token",
        at: this.context.now,
      });
      return;
    }
    this.failed("identify", `GET /gateway/bot failed: ${event.error}`, event.retryAfterMs ?? 0);
  }

  private identifySlot(attempt: number, granted: boolean, retryAfterMs: number): void {
    if (!this.isCurrent("acquiring_identify_slot", attempt)) return;
    const url = this.state.durable.gatewayUrl;
    if (!granted || url === null) {
      this.wait(Math.max(retryAfterMs, 1), "identify", "identify_concurrency");
      return;
    }
    const budget = this.state.durable.identifyBudget;
    if (budget !== null) this.updateDurable({ identifyBudget: { ...budget, remaining: budget.remaining - 1 } });
    this.connect(attempt, "identify", gatewayUrl(url));
  }

  private socketOpened(attempt: number): void {
    if (!this.isCurrent("connecting", attempt)) {
      this.close(attempt, CLOSE_TO_RESUME, "superseded");
      return;
    }
    const phase = this.state.phase as Extract<Phase, { name: "connecting" }>;
    const now = this.context.now;
    this.state = {
      ...this.state,
      phase: {
        name: "open",
        attempt,
        plan: phase.plan,
        stage: "awaiting_hello",
        openedAt: now,
        helloDeadline: now + HELLO_TIMEOUT_MS,
        heartbeat: null,
      },
    };
  }

  private socketFailed(attempt: number, error: string): void {
    if (!this.isCurrent("connecting", attempt)) return;
    const phase = this.state.phase as Extract<Phase, { name: "connecting" }>;
    if (phase.plan === "resume") this.state = { ...this.state, resumeUrlFailed: true };
    this.failed(phase.plan, `connect failed: ${error}`);
  }

  // --- an open connection -----------------------------------------------------

  private frame(attempt: number, data: string | ArrayBuffer): void {
    const phase = this.state.phase;
    if (phase.name !== "open" || phase.attempt !== attempt) return;
    const parsed = parseFrame(data);
    if (!parsed.ok) {
      this.log("warn", "gateway.malformed_frame", { problem: parsed.problem });
      return;
    }
    const { op, d, s, t } = parsed.frame;
    switch (op) {
      case GatewayOpcodes.Hello:
        this.hello(phase, d);
        return;
      case GatewayOpcodes.HeartbeatAck:
        this.heartbeatAck(phase);
        return;
      case GatewayOpcodes.Heartbeat:
        this.heartbeatRequested(phase);
        return;
      case GatewayOpcodes.Reconnect:
        this.log("info", "gateway.reconnect_requested", {});
        this.close(phase.attempt, CLOSE_TO_RESUME, "RECONNECT");
        this.begin(planFor(this.state.durable), "reconnect_requested");
        return;
      case GatewayOpcodes.InvalidSession:
        this.invalidSession(phase, d);
        return;
      case GatewayOpcodes.Dispatch:
        this.dispatch(phase, s ?? null, t ?? null, d);
        return;
      default:
        this.log("warn", "gateway.unknown_opcode", { op });
    }
  }

  private hello(phase: OpenPhase, data: unknown): void {
    if (phase.stage !== "awaiting_hello") {
      this.log("warn", "gateway.unexpected_hello", { stage: phase.stage });
      return;
    }
    const hello = HelloSchema.safeParse(data);
    if (!hello.success) {
      this.log("warn", "gateway.malformed_frame", { problem: "HELLO without a heartbeat interval" });
      return;
    }
    const { now, random } = this.context;
    const intervalMs = hello.data.heartbeat_interval;
    const heartbeat: Heartbeat = {
      intervalMs,
      nextAt: now + Math.floor(intervalMs * clamp01(random())),
      awaitingAck: false,
      sentAt: null,
    };
    this.setOpen({ ...phase, stage: "handshaking", helloDeadline: null, heartbeat });
    const session = this.state.durable.session;
    if (phase.plan === "resume" && session !== null && session.seq !== null) {
      this.send(phase.attempt, resumePayload(this.context.token, session.id, session.seq));
    } else {
      const { shardId, shardCount } = this.context.shard;
      this.send(phase.attempt, identifyPayload(this.context.token, [shardId, shardCount]));
    }
  }

  private heartbeatDue(phase: OpenPhase, heartbeat: Heartbeat): void {
    if (heartbeat.awaitingAck) {
      // No ACK since the last heartbeat: a zombie connection. Close with a code that keeps the session, resume.
      this.log("warn", "gateway.zombie_connection", { intervalMs: heartbeat.intervalMs });
      this.close(phase.attempt, CLOSE_TO_RESUME, "no heartbeat ACK");
      this.failed(planFor(this.state.durable), "zombie connection");
      return;
    }
    const now = this.context.now;
    this.send(phase.attempt, heartbeatPayload(this.state.durable.session?.seq ?? null));
    this.setOpen({
      ...phase,
      heartbeat: { ...heartbeat, nextAt: now + heartbeat.intervalMs, awaitingAck: true, sentAt: now },
    });
  }

  private heartbeatRequested(phase: OpenPhase): void {
    const now = this.context.now;
    this.send(phase.attempt, heartbeatPayload(this.state.durable.session?.seq ?? null));
    if (phase.heartbeat !== null)
      this.setOpen({ ...phase, heartbeat: { ...phase.heartbeat, awaitingAck: true, sentAt: now } });
  }

  private heartbeatAck(phase: OpenPhase): void {
    const heartbeat = phase.heartbeat;
    if (heartbeat === null) return;
    const now = this.context.now;
    const latency = heartbeat.sentAt === null ? null : now - heartbeat.sentAt;
    this.setOpen({ ...phase, heartbeat: { ...heartbeat, awaitingAck: false } });
    this.state = { ...this.state, lastAckAt: now, lastAckLatencyMs: latency ?? this.state.lastAckLatencyMs };
  }

  private invalidSession(phase: OpenPhase, data: unknown): void {
    const resumable = InvalidSessionSchema.safeParse(data).data === true && this.state.durable.session !== null;
    this.log("warn", "gateway.invalid_session", { resumable });
    this.close(phase.attempt, CLOSE_TO_RESUME, "INVALID_SESSION");
    if (!resumable) this.updateDurable({ session: null });
    const { min, max } = INVALID_SESSION_WAIT_MS;
    const wait = min + Math.floor(clamp01(this.context.random()) * (max - min));
    const failures = this.state.durable.failures + 1;
    this.updateDurable({ failures });
    this.wait(
      Math.max(wait, backoffMs(failures, this.context.random)),
      resumable ? "resume" : "identify",
      "invalid_session",
    );
  }

  private dispatch(phase: OpenPhase, seq: number | null, name: string | null, data: unknown): void {
    const now = this.context.now;
    if (name === "READY") {
      this.ready(phase, seq, data);
      return;
    }
    const session = this.state.durable.session;
    if (seq !== null && session !== null) this.updateDurable({ session: { ...session, seq } });
    if (name === "RESUMED") {
      this.setOpen({ ...phase, stage: "ready" });
      this.connected();
      this.log("info", "gateway.resumed", { seq: this.state.durable.session?.seq ?? null });
      return;
    }
    if (name !== null && isGuildRoleEvent(name)) {
      const read = readGuildRolesEvent(name, data);
      if (read.outcome === "change") this.actions.push({ type: "guild_roles", change: read.change });
      else if (read.outcome === "malformed")
        this.log("warn", "gateway.malformed_dispatch", { event: name, seq, problem: read.problem });
      return;
    }
    if (name === null || !isHandedOn(name)) return;
    if (seq === null) {
      this.log("warn", "gateway.malformed_frame", { problem: `${name} without a sequence number` });
      return;
    }
    const read = readDispatch(name, data, {
      seq,
      shardId: this.context.shard.shardId,
      receivedAt: now,
      sessionId: session?.id ?? null,
      selfUserId: this.state.durable.selfUserId,
    });
    if (read.outcome === "handed_on") this.actions.push({ type: "dispatch", dispatch: read.dispatch });
    else if (read.outcome === "malformed")
      this.log("warn", "gateway.malformed_dispatch", { event: name, seq, problem: read.problem });
  }

  private ready(phase: OpenPhase, seq: number | null, data: unknown): void {
    const ready = ReadySchema.safeParse(data);
    if (!ready.success) {
      this.log("warn", "gateway.malformed_frame", { problem: "READY without a session" });
      return;
    }
    const session: GatewaySession = {
      id: ready.data.session_id,
      resumeUrl: ready.data.resume_gateway_url,
      seq,
      startedAt: this.context.now,
    };
    this.updateDurable({ session, selfUserId: ready.data.user.id });
    this.setOpen({ ...phase, stage: "ready" });
    this.connected();
    this.log("info", "gateway.ready", { seq });
  }

  /** READY or RESUMED: the attempt succeeded. */
  private connected(): void {
    if (this.state.durable.failures !== 0) this.updateDurable({ failures: 0 });
    this.state = { ...this.state, resumeUrlFailed: false };
  }

  private socketClosed(attempt: number, code: number, reason: string): void {
    const phase = this.state.phase;
    if (phase.name !== "open" || phase.attempt !== attempt) return;
    const name = closeCodeName(code);
    if (FATAL_CLOSE_CODES.has(code)) {
      this.haltForGood({ source: "close_code", code, name, reason, at: this.context.now });
      return;
    }
    this.log("warn", "gateway.closed", { closeCode: code, name, reason });
    if (SESSION_ENDING_CLOSE_CODES.has(code)) {
      this.updateDurable({ session: null });
      this.failed("identify", `closed with ${code}`);
      return;
    }
    this.failed(planFor(this.state.durable), `closed with ${code}`);
  }

  // --- helpers ---------------------------------------------------------------

  /** An attempt that did not reach READY/RESUMED: retry at once the first time, then back off. */
  private failed(plan: Plan, reason: string, atLeastMs = 0): void {
    const failures = this.state.durable.failures + 1;
    this.updateDurable({ failures });
    const delay = Math.max(backoffMs(failures, this.context.random), atLeastMs);
    this.log("info", "gateway.retrying", { reason, failures, delayMs: delay, plan });
    if (delay === 0) {
      this.begin(plan, reason);
      return;
    }
    this.wait(delay, plan, reason);
  }

  private wait(delayMs: number, next: Plan, reason: string): void {
    this.state = { ...this.state, phase: { name: "waiting", until: this.context.now + delayMs, next, reason } };
  }

  private haltForGood(fatal: FatalStop): void {
    // Logged as closeCode/status: the logger redacts any field named `code`.
    const { code, ...rest } = fatal;
    this.log("error", "gateway.stopped_for_good", {
      alert: true,
      ...rest,
      ...(fatal.source === "close_code" ? { closeCode: code } : { status: code }),
      action: "Fix the bot token, shard count or intents, then POST /api/v1/ops/gateway/restart.",
    });
    this.updateDurable({ fatal, session: null });
    this.state = { ...this.state, phase: { name: "idle" } };
  }

  private isCurrent(name: Phase["name"], attempt: number): boolean {
    const phase = this.state.phase;
    return phase.name === name && "attempt" in phase && phase.attempt === attempt;
  }

  private setOpen(phase: OpenPhase): void {
    this.state = { ...this.state, phase };
  }

  private send(attempt: number, payload: OutboundPayload): void {
    this.actions.push({ type: "send", attempt, payload });
  }

  private close(attempt: number, code: number, reason: string): void {
    this.actions.push({ type: "close", attempt, code, reason });
  }

  private updateDurable(patch: Partial<DurableGatewayState>): void {
    this.state = { ...this.state, durable: { ...this.state.durable, ...patch } };
    this.durableChanged = true;
  }

  private log(level: LogLevel, msg: string, fields: Record<string, unknown>): void {
    this.actions.push({ type: "log", level, msg, fields });
  }
}

type OpenPhase = Extract<Phase, { name: "open" }>;

const clamp01 = (value: number) => Math.min(Math.max(value, 0), 0.999_999);

/** 0 for the first failure, then 1 s, 2 s, 4 s… up to the cap, each with ±25% jitter. */
export function backoffMs(failures: number, random: () => number): number {
  if (failures <= 1) return 0;
  const base = Math.min(RECONNECT_BACKOFF_CAP_MS, 1_000 * 2 ** Math.min(failures - 2, 16));
  return Math.round(base * (0.75 + clamp01(random()) * 0.5));
}
