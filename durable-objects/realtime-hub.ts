import { DurableObject } from "cloudflare:workers";
import { configFor } from "../shared/config";
import { type Logger, rootLogger } from "../shared/logging";
import { channelsFor, inAudience, streamsFor } from "../shared/realtime/access";
import { HANDOFF_HEADER, verifyHandoff } from "../shared/realtime/handoff";
import { CLOSE_CODES, type ControlFrame, REALTIME_LIMITS, type StreamHeads } from "../shared/realtime/protocol";
import { PublishBatchSchema, type PublishInput } from "../shared/realtime/publish";
import type { HubCounter, HubStats } from "../shared/realtime/stats";
import { assertOwnCommunity } from "./executor/identity";
import { ConnectLimiter } from "./realtime/connect-limiter";
import { type Connection, countAcked, newConnection, saveAttachment, tagOf } from "./realtime/connection";
import { deliver, deliverTo, sendFrame } from "./realtime/deliver";
import { FlushSchedule } from "./realtime/flush-schedule";
import { HubStore, type RecordedEvent } from "./realtime/hub-store";
import { judgeClientFrame } from "./realtime/inbound";
import { SocketRegistry } from "./realtime/socket-registry";
import { hubError, parseSince } from "./realtime/upgrade";
import { endedCredentials, reportStats } from "./realtime/upkeep";

export interface PublishResult {
  firstSeq: number;
  lastSeq: number;
  /** Events handed to sockets by this call: 0 when they wait, with others, for the hub's next flush. */
  delivered: number;
}

/**
 * One community's WebSocket fan-out (docs/architecture.md §7.5), on the hibernation API. The Worker
 * authenticates a browser and forwards its upgrade here with a signed identity
 * (`shared/realtime/handoff.ts`); the hub accepts the socket tagged by member,
 * role and session (or operator token), with that identity and its channels in the
 * socket's attachment, so the object can hibernate between events and wake
 * with every socket intact. Publishers call `publish` / `publishBatch`; each
 * event is numbered, kept for replay and sent only where `shared/realtime/access.ts`
 * allows: at once while the hub keeps within its frame budget, else with the events that
 * follow it in the next flush. The protocol and its limits: `shared/realtime/protocol.ts`.
 */
export class RealtimeHub extends DurableObject<Env> {
  private readonly store: HubStore;
  private readonly registry: SocketRegistry;
  private readonly logger: Logger;
  private readonly connectLimiter = new ConnectLimiter();
  private readonly waiting = new FlushSchedule();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private alarmScheduled = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new HubStore(ctx.storage.sql, (run) => ctx.storage.transactionSync(run));
    this.store.count({ wakes: 1 });
    this.logger = rootLogger.child({ component: "realtime-hub", communityId: ctx.id.name });
    const { registry, unreadable } = SocketRegistry.rebuild(ctx.getWebSockets());
    this.registry = registry;
    for (const ws of unreadable) {
      this.logger.error("realtime.attachment_unreadable", {});
      ws.close(CLOSE_CODES.internalError, "connection state lost; reconnect");
    }
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** A WebSocket upgrade forwarded by the Worker (`GET /api/v1/communities/:communityId/realtime`). */
  override async fetch(request: Request): Promise<Response> {
    const config = configFor(this.env);
    const secret = config.ok ? config.config.SESSION_SECRET : undefined;
    if (!secret) return hubError(503, "FEATURE_NOT_CONFIGURED", "Realtime needs SESSION_SECRET.");
    const own = this.ctx.id.name ?? this.store.getMeta("communityId") ?? "";
    const identity = await verifyHandoff(secret, request.headers.get(HANDOFF_HEADER), own);
    if (!identity) {
      this.logger.warn("realtime.handoff_refused", {});
      return hubError(403, "HANDOFF_INVALID", "Connections reach the hub only through the Worker.");
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return hubError(426, "UPGRADE_REQUIRED", "This endpoint only accepts WebSocket upgrades.");
    }
    const since = parseSince(new URL(request.url).searchParams.get("since"));
    if (since === "invalid") return hubError(400, "VALIDATION_FAILED", "since must be a non-negative integer.");
    assertOwnCommunity(this.ctx.id, this.store, identity.communityId);
    if (this.registry.size >= REALTIME_LIMITS.maxSocketsPerHub) {
      return hubError(503, "REALTIME_FULL", "This community has too many open connections; try again later.");
    }
    const attempt = this.connectLimiter.attempt(identity.userId, Date.now());
    if (!attempt.allowed) {
      return hubError(429, "RATE_LIMITED", "Too many connection attempts: reconnect with a backoff.", {
        "retry-after": String(Math.max(1, Math.ceil(attempt.retryAfterMs / 1000))),
      });
    }
    if (this.registry.countFor(identity.userId) >= REALTIME_LIMITS.maxSocketsPerUser) {
      return hubError(429, "TOO_MANY_CONNECTIONS", "Close another tab or window of this community first.");
    }

    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [
      tagOf.user(identity.userId),
      tagOf.role(identity.role),
      tagOf.credential(identity.credential),
    ]);
    const connection = newConnection(server, identity, channelsFor(identity.role), Date.now());
    saveAttachment(connection);
    this.flush(); // what was published before this socket is its replay's, not its live stream's
    this.registry.add(connection);
    this.welcome(connection, since);
    this.store.count({ connectionsOpened: 1 });
    await this.ensureAlarm();
    return new Response(null, { status: 101, webSocket: client });
  }

  ping(): "pong" {
    return "pong";
  }

  async publish(input: PublishInput): Promise<PublishResult> {
    return this.publishBatch([input]);
  }

  /**
   * Events in order, numbered, sent (now, or in the next flush when the hub is over its frame budget), then stored
   * in one transaction: sent first, so that frames need not wait for storage to confirm the write. Refuses the
   * whole batch if one is invalid. Async only so that a refusal reaches the caller as a rejection: nothing in it
   * awaits, so batches never interleave.
   */
  async publishBatch(inputs: readonly PublishInput[]): Promise<PublishResult> {
    const events = PublishBatchSchema.parse(inputs);
    for (const event of events) assertOwnCommunity(this.ctx.id, this.store, event.communityId);
    return this.store.record(events, (recorded) => {
      this.waiting.add(recorded);
      return {
        firstSeq: recorded[0]?.seq ?? this.store.latestSeq(),
        lastSeq: recorded.at(-1)?.seq ?? this.store.latestSeq(),
        delivered: this.flushWithinBudget(),
      };
    });
  }

  /** Closes the sockets of revoked sessions at once (the Worker calls this on sign-out). */
  endSessions(sessionIds: readonly string[]): number {
    let closed = 0;
    for (const sessionId of sessionIds) closed += this.endCredential({ kind: "session", sessionId });
    return closed;
  }

  /** Closes every socket (the community was deleted); returns how many were open. */
  endAll(): number {
    let closed = 0;
    for (const ws of this.ctx.getWebSockets()) {
      const connection = this.registry.get(ws);
      if (connection) closed += this.end(connection, CLOSE_CODES.communityDeleted, "community deleted");
    }
    return closed;
  }

  /** The community was purged (30 days after its deletion): its sockets close and its replay buffer and figures go. */
  async purgeStorage(): Promise<void> {
    this.endAll();
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.waiting.take();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  private endCredential(credential: Connection["credential"]): number {
    let closed = 0;
    for (const ws of this.ctx.getWebSockets(tagOf.credential(credential))) {
      const connection = this.registry.get(ws);
      if (connection) closed += this.end(connection, CLOSE_CODES.sessionEnded, "session ended", "closedSessionEnded");
    }
    return closed;
  }

  stats(): HubStats {
    return {
      connections: this.registry.size,
      latestSeq: this.store.latestSeq(),
      counters: this.store.counters(),
      latencyBuckets: this.store.latencyBuckets(),
    };
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const connection = this.registry.get(ws);
    if (!connection) {
      ws.close(CLOSE_CODES.internalError, "connection state lost; reconnect");
      return;
    }
    this.store.count({ messagesIn: 1, bytesIn: typeof message === "string" ? message.length : message.byteLength });
    const outcome = judgeClientFrame(connection, message, Date.now());
    switch (outcome.kind) {
      case "close":
        this.logger.warn("realtime.client_closed", {
          userId: connection.userId,
          closeCode: outcome.code,
          reason: outcome.reason,
        });
        this.end(connection, outcome.code, outcome.reason, outcome.counter);
        return;
      case "reply":
        this.send(connection, outcome.frame);
        return;
      case "channels": {
        this.flush(); // what was published before the change goes by the old channels, so the heads below hold
        this.registry.setChannels(connection, outcome.channels);
        saveAttachment(connection);
        const channels = [...connection.channels];
        this.send(connection, { type: "subscribed", channels, streams: this.headsOf(connection) });
        return;
      }
      case "ack":
        countAcked(connection.flow, outcome.seq);
        return;
    }
  }

  override webSocketClose(ws: WebSocket): void {
    // The runtime answers the close itself; echoing the client's code could throw (1005).
    this.registry.remove(ws);
  }

  override webSocketError(ws: WebSocket, error: unknown): void {
    this.logger.warn("realtime.socket_error", { error });
    this.registry.remove(ws);
  }

  /** While sockets are open, every minute: close those whose session ended, and report the hub's figures. */
  override async alarm(): Promise<void> {
    this.alarmScheduled = false;
    const communityId = this.ctx.id.name ?? this.store.getMeta("communityId");
    try {
      const ended = await endedCredentials(this.env, this.registry.credentials());
      this.endSessions(ended.sessionIds);
      for (const fingerprint of ended.opsFingerprints) this.endCredential({ kind: "ops", fingerprint });
    } catch (error) {
      this.logger.error("realtime.session_check_failed", { error });
    }
    if (communityId) {
      try {
        await reportStats(this.env, communityId, this.stats());
      } catch (error) {
        this.logger.warn("realtime.stats_report_failed", { error });
      }
    }
    if (this.registry.size > 0) await this.ensureAlarm();
  }

  /**
   * The first frame, then a `?since=` replay: the buffered events after
   * `since` that this member may see, oldest first. A replay the buffer cannot
   * complete, or larger than a socket's unacknowledged-bytes limit, is not
   * sent: the welcome says `complete: false` and the client refetches. The
   * welcome's stream heads are those the replayed events chain onto.
   */
  private welcome(connection: Connection, since: number | null): void {
    const backlog = since === null ? null : this.store.eventsAfter(since);
    const visible = (backlog?.events ?? []).filter(
      (event) => connection.channels.has(event.channel) && inAudience(connection, event.audience),
    );
    const bytes = visible.reduce((sum, event) => sum + event.bytes, 0);
    const complete = backlog?.complete === true && bytes <= REALTIME_LIMITS.maxUnackedBytes;
    const replayed = complete ? visible : [];
    this.send(connection, {
      type: "welcome",
      seq: this.store.latestSeq(),
      role: connection.role,
      channels: [...connection.channels],
      streams: headsBefore(this.headsOf(connection), replayed),
      replay: since === null ? null : { since, complete, events: replayed.length },
    });
    if (replayed.length > 0) {
      const delivery = deliverTo(connection, replayed);
      this.store.count({ messagesOut: delivery.frames, bytesOut: delivery.bytes });
    }
  }

  /** Sends what waits now if the frame budget allows; else one timer sends it, with whatever joins it, when it does. */
  private flushWithinBudget(): number {
    if (this.flushTimer !== null) return 0;
    const wait = this.waiting.waitMs(Date.now());
    if (wait === 0) return this.flush();
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      try {
        this.flush();
      } catch (error) {
        this.logger.error("realtime.flush_failed", { error });
      }
    }, wait);
    return 0;
  }

  /** Sends every waiting event now; returns how many deliveries that made. */
  private flush(): number {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    const events = this.waiting.take();
    if (events.length === 0) return 0;
    const delivery = deliver(this.registry, events);
    for (const connection of delivery.slow) {
      this.end(connection, CLOSE_CODES.tryAgainLater, "slow consumer: reconnect with ?since=<last seq>");
    }
    for (const connection of delivery.broken) this.registry.remove(connection.ws);
    const now = Date.now();
    this.waiting.sent(delivery.frames, now);
    this.store.count(
      {
        eventsPublished: events.length,
        messagesOut: delivery.frames,
        bytesOut: delivery.bytes,
        closedSlowConsumer: delivery.slow.size,
      },
      events.map((event) => Math.max(0, now - event.at)),
    );
    return delivery.events;
  }

  private headsOf(connection: Connection): StreamHeads {
    return this.store.heads(streamsFor(connection.role, connection.channels), connection.userId);
  }

  private send(connection: Connection, frame: ControlFrame): void {
    if (!sendFrame(connection, JSON.stringify(frame))) this.registry.remove(connection.ws);
  }

  /** Closes a connection with a code and reason; returns 1 if it was open. */
  private end(connection: Connection, code: number, reason: string, counter: HubCounter | null = null): number {
    if (!this.registry.remove(connection.ws)) return 0;
    try {
      connection.ws.close(code, reason);
    } catch {
      // already closing
    }
    if (counter) this.store.count({ [counter]: 1 });
    return 1;
  }

  private async ensureAlarm(): Promise<void> {
    if (this.alarmScheduled) return;
    this.alarmScheduled = true;
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + REALTIME_LIMITS.sessionCheckMs);
    }
  }
}

/** Stream heads as they stood before `replayed` (oldest first): where each replayed stream's first event chains on. */
function headsBefore(current: StreamHeads, replayed: readonly RecordedEvent[]): StreamHeads {
  const heads = { ...current };
  const seen = new Set<string>();
  for (const event of replayed) {
    if (seen.has(event.stream)) continue;
    seen.add(event.stream);
    heads[event.stream] = event.prev;
  }
  return heads;
}
