import { DurableObject } from "cloudflare:workers";
import { hubEventSink } from "../platform/execution/event-sink";
import { botPresenceChanged } from "../platform/members/bot-presence";
import { rateLimiterFor } from "../platform/objects";
import { configFor } from "../shared/config";
import { discordUserAgent } from "../shared/discord/user-agent";
import type { GatewayDispatch } from "../shared/gateway/dispatches";
import {
  CONNECT_TIMEOUT_MS,
  type GatewayAction,
  type GatewayEvent,
  type GatewayState,
  nextWake,
  restoreState,
  type StepContext,
  step,
} from "../shared/gateway/machine";
import type { OutboundPayload } from "../shared/gateway/protocol";
import {
  IDENTIFY_POLICY,
  IDENTIFY_WINDOW_MS,
  identifyBucketKey,
  parseShardObjectName,
  type ShardIdentity,
} from "../shared/gateway/shards";
import { type GatewayShardStatus, shardStatus } from "../shared/gateway/status";
import { type Logger, rootLogger } from "../shared/logging";
import { fetchGatewayBot, openGatewaySocket } from "./gateway/discord-api";
import { type DispatchCounts, DispatchInbox, type RecentDispatch } from "./gateway/dispatch-inbox";
import { GuildRoleStore } from "./gateway/guild-role-store";
import { type DispatchHandler, dispatchHandler } from "./gateway/on-dispatch";
import { GatewayStateStore } from "./gateway/state-store";

/** Dispatch keys older than this are pruned, at most this often. */
const PRUNE_EVERY_MS = 3_600_000;
/** Abnormal closure: the socket ended without a close frame (or an error was reported). */
const CLOSED_ABNORMALLY = 1006;

export interface GatewayStatus extends GatewayShardStatus {
  dispatches: DispatchCounts & { recent: RecentDispatch[] };
}

/**
 * One Discord Gateway shard (docs/architecture.md §1): the object holds the outbound
 * WebSocket, and its alarm is the watchdog. The protocol lives in
 * `shared/gateway/machine.ts`; this class only turns socket events, alarms and
 * RPCs into the machine's events and performs the actions it returns, one
 * event at a time (async results come back as events, so no await ever
 * splits a decision). Named `<fleet>/shard-<id>-of-<count>`.
 */
export class DiscordGateway extends DurableObject<Env> {
  private readonly shard: ShardIdentity | null;
  private readonly logger: Logger;
  private readonly store: GatewayStateStore;
  private readonly inbox: DispatchInbox;
  private readonly guildRoles: GuildRoleStore;
  private readonly handOff: DispatchHandler;
  private state: GatewayState;
  private readonly sockets = new Map<number, WebSocket>();
  private readonly queue: GatewayEvent[] = [];
  private draining = false;
  private readonly inflight = new Set<Promise<void>>();
  private readonly handingOff = new Set<string>();
  /** The last hand-off of each message: an edit waits for its message (and an earlier edit) to be handed on. */
  private readonly messageChains = new Map<string, Promise<void>>();
  private lastPruneAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.shard = parseShardObjectName(ctx.id.name);
    this.logger = rootLogger.child({
      component: "discord_gateway",
      shardId: this.shard?.shardId,
      shardCount: this.shard?.shardCount,
    });
    this.store = new GatewayStateStore(ctx.storage.sql);
    this.inbox = new DispatchInbox(ctx.storage.sql);
    this.guildRoles = new GuildRoleStore(ctx.storage.sql);
    // Notices to members (a departure, a refused edit) also reach their realtime `notifications` channel.
    const events = hubEventSink({ env, logger: this.logger, waitUntil: (promise) => ctx.waitUntil(promise) });
    this.handOff = dispatchHandler({ env, events }, this.logger, this.guildRoles);
    this.state = restoreState(this.store.load(), Date.now());
    // Restarted after an eviction or a deploy: a running gateway needs its watchdog even if no alarm is pending.
    void ctx.blockConcurrencyWhile(() => this.syncAlarm());
  }

  /** Connects (or keeps running) unless a fatal close stopped it; the cron calls it every 5 minutes. */
  async start(): Promise<GatewayStatus> {
    this.requireRunnable();
    this.enqueue({ type: "start" });
    await this.settle();
    return this.status();
  }

  async stop(reason: string): Promise<GatewayStatus> {
    this.identity();
    this.enqueue({ type: "stop", reason });
    await this.settle();
    return this.status();
  }

  /** Clears a fatal stop (the token or intents were fixed) and reconnects now. */
  async restart(): Promise<GatewayStatus> {
    this.requireRunnable();
    this.enqueue({ type: "restart" });
    await this.settle();
    return this.status();
  }

  status(): GatewayStatus {
    const shard = this.identity();
    return {
      ...shardStatus(this.state, shard, Date.now()),
      dispatches: { ...this.inbox.counts(), recent: this.inbox.recent() },
    };
  }

  override async alarm(): Promise<void> {
    if (this.shard === null) return;
    try {
      this.enqueue({ type: "tick" });
      this.retryPendingHandOffs();
      this.pruneDispatchKeys();
      await this.settle();
    } catch (error) {
      this.logger.error("gateway.alarm_failed", { error });
    } finally {
      await this.syncAlarm();
    }
  }

  // --- the machine ------------------------------------------------------------

  /** Events are stepped strictly one after another; actions that await feed their results back in here. */
  private enqueue(event: GatewayEvent): void {
    this.queue.push(event);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        const { state, actions } = step(this.state, next, this.stepContext());
        this.state = state;
        for (const action of actions) this.perform(action);
      }
    } finally {
      this.draining = false;
    }
  }

  private perform(action: GatewayAction): void {
    try {
      switch (action.type) {
        case "fetch_gateway":
          this.track(this.fetchGateway(action.attempt));
          return;
        case "acquire_identify_slot":
          this.track(this.acquireIdentifySlot(action.attempt, action.maxConcurrency));
          return;
        case "connect":
          this.track(this.openSocket(action.attempt, action.url));
          return;
        case "send":
          this.send(action.attempt, action.payload);
          return;
        case "close":
          this.close(action.attempt, action.code, action.reason);
          return;
        case "persist":
          this.store.save(action.durable);
          return;
        case "schedule":
          this.track(this.schedule(action.at));
          return;
        case "dispatch":
          // Recorded with the sequence number in one synchronous step: a replay is dropped here.
          if (this.inbox.accept(action.dispatch)) this.track(this.deliver(action.dispatch));
          return;
        case "guild_roles":
          this.guildRoles.apply(action.change, Date.now());
          this.track(botPresenceChanged(this.env, action.change, this.logger));
          return;
        case "log":
          this.logger[action.level](action.msg, action.fields);
          return;
      }
    } catch (error) {
      this.logger.error("gateway.action_failed", { alert: true, action: action.type, error });
    }
  }

  private stepContext(): StepContext {
    return { now: Date.now(), random: Math.random, token: this.botToken() ?? "", shard: this.identity() };
  }

  // --- actions ------------------------------------------------------------------

  private async fetchGateway(attempt: number): Promise<void> {
    const config = this.config();
    const token = this.botToken() ?? "";
    const result = await fetchGatewayBot(config.DISCORD_API_BASE, token, discordUserAgent(config.PUBLIC_BASE_URL));
    this.enqueue(
      result.ok
        ? { type: "gateway_info", attempt, info: result.info }
        : { type: "gateway_info_failed", attempt, ...result },
    );
  }

  /** One IDENTIFY per concurrency bucket every 5 s across the fleet (the RateLimiter object of that bucket). */
  private async acquireIdentifySlot(attempt: number, maxConcurrency: number): Promise<void> {
    const key = identifyBucketKey(this.identity(), maxConcurrency);
    try {
      const verdict = await rateLimiterFor(this.env, key).limit(key, IDENTIFY_POLICY);
      this.enqueue({ type: "identify_slot", attempt, granted: verdict.allowed, retryAfterMs: verdict.retryAfterMs });
    } catch (error) {
      // Fail closed: an IDENTIFY over the limit costs a session start, waiting costs seconds.
      this.logger.warn("gateway.identify_slot_unavailable", { error });
      this.enqueue({ type: "identify_slot", attempt, granted: false, retryAfterMs: IDENTIFY_WINDOW_MS });
    }
  }

  private async openSocket(attempt: number, url: string): Promise<void> {
    let socket: WebSocket;
    try {
      socket = await openGatewaySocket(url);
    } catch (error) {
      this.enqueue({ type: "socket_failed", attempt, error: error instanceof Error ? error.message : String(error) });
      return;
    }
    this.sockets.set(attempt, socket);
    socket.addEventListener("message", (event) => this.enqueue({ type: "frame", attempt, data: event.data }));
    socket.addEventListener("close", (event) => {
      this.sockets.delete(attempt);
      this.enqueue({ type: "socket_closed", attempt, code: event.code, reason: event.reason });
    });
    socket.addEventListener("error", () => {
      this.enqueue({ type: "socket_closed", attempt, code: CLOSED_ABNORMALLY, reason: "socket error" });
    });
    socket.accept();
    this.enqueue({ type: "socket_opened", attempt });
  }

  private send(attempt: number, payload: OutboundPayload): void {
    const socket = this.sockets.get(attempt);
    if (!socket) return;
    try {
      socket.send(JSON.stringify(payload));
    } catch (error) {
      this.logger.warn("gateway.send_failed", { op: payload.op, error });
      this.enqueue({ type: "socket_closed", attempt, code: CLOSED_ABNORMALLY, reason: "send failed" });
    }
  }

  private close(attempt: number, code: number, reason: string): void {
    const socket = this.sockets.get(attempt);
    this.sockets.delete(attempt);
    try {
      socket?.close(code, reason);
    } catch {
      // Already closed: nothing to end.
    }
  }

  private async schedule(at: number | null): Promise<void> {
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }

  /** The alarm always matches the machine's next wake: none when idle, the earliest deadline otherwise. */
  private async syncAlarm(): Promise<void> {
    try {
      await this.schedule(nextWake(this.state));
    } catch (error) {
      this.logger.error("gateway.alarm_not_set", { alert: true, error });
    }
  }

  private async deliver(dispatch: GatewayDispatch): Promise<void> {
    if (this.handingOff.has(dispatch.key)) return;
    this.handingOff.add(dispatch.key);
    const subject =
      dispatch.type === "MESSAGE_CREATE" || dispatch.type === "MESSAGE_UPDATE" ? dispatch.message.id : null;
    const before = subject === null ? undefined : this.messageChains.get(subject);
    let finished = () => {};
    const chained = new Promise<void>((resolve) => {
      finished = resolve;
    });
    if (subject !== null) this.messageChains.set(subject, chained);
    try {
      await before;
      await this.handOff(dispatch);
      this.inbox.handedOn(dispatch.key);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const gaveUp = this.inbox.handOffFailed(dispatch.key, message);
      if (gaveUp) this.logger.error("gateway.hand_off_abandoned", { alert: true, key: dispatch.key, error });
      else this.logger.warn("gateway.hand_off_failed", { key: dispatch.key, error });
    } finally {
      this.handingOff.delete(dispatch.key);
      finished();
      if (subject !== null && this.messageChains.get(subject) === chained) this.messageChains.delete(subject);
    }
  }

  private retryPendingHandOffs(): void {
    for (const dispatch of this.inbox.pending()) {
      if (!this.handingOff.has(dispatch.key)) this.track(this.deliver(dispatch));
    }
  }

  private pruneDispatchKeys(): void {
    const now = Date.now();
    if (now - this.lastPruneAt < PRUNE_EVERY_MS) return;
    this.lastPruneAt = now;
    this.inbox.prune(now);
  }

  // --- plumbing -----------------------------------------------------------------

  private track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.logger.error("gateway.action_failed", { alert: true, error }))
      .finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  /** Waits until the work started so far (and what it started in turn) is done, within the connect timeout. */
  private async settle(): Promise<void> {
    const deadline = Date.now() + CONNECT_TIMEOUT_MS;
    while (this.inflight.size > 0 && Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...this.inflight]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, deadline - Date.now());
        }),
      ]);
      clearTimeout(timer);
    }
  }

  private identity(): ShardIdentity {
    if (this.shard === null) {
      throw new Error(`A Gateway shard object is named <fleet>/shard-<id>-of-<count>, not ${this.ctx.id.name}.`);
    }
    return this.shard;
  }

  private config() {
    const result = configFor(this.env);
    if (!result.ok)
      throw new Error(`The configuration is invalid: ${result.problems.map((p) => p.variable).join(", ")}`);
    return result.config;
  }

  private botToken(): string | null {
    const result = configFor(this.env);
    return result.ok ? (result.config.DISCORD_BOT_TOKEN ?? null) : null;
  }

  private requireRunnable(): void {
    this.identity();
    this.config();
    if (this.botToken() === null) throw new Error("DISCORD_BOT_TOKEN is not configured: the Gateway cannot connect.");
  }
}
