import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
import { FAKE_BOT_USER_ID } from "./payloads";

/**
 * A fake Discord (auxiliary worker in vitest.config.ts): `GET /gateway/bot`
 * and the Gateway WebSocket, speaking the protocol as Discord's "Gateway" and
 * "Gateway Events" pages describe it. Self-contained on purpose: its numbers
 * come from those pages, not from the code under test.
 *
 * Each test gets its own fake, named by a UUID that is the first path segment
 * of every URL it hands out (`wss://gateway.discord.test/<id>`,
 * `wss://resume.discord.test/<id>`). The test drives it through the RPC
 * methods of the default entrypoint and reads what the client sent.
 */

const OP = { Dispatch: 0, Heartbeat: 1, Identify: 2, Resume: 6, Reconnect: 7, InvalidSession: 9, Hello: 10, Ack: 11 };

export interface FakeConfig {
  /** The bot token this Discord accepts (`Bot <token>` on REST, `d.token` in IDENTIFY/RESUME). */
  token: string;
  heartbeatIntervalMs: number;
  /** Answer heartbeats with op 11 (false makes the connection a zombie). */
  ack: boolean;
  /** Until this time GET /gateway/bot reports no session starts left. */
  exhaustedUntil: number;
  maxConcurrency: number;
  /** On RESUME, replay this many events the client already had (Discord may redeliver). */
  replayOverlap: number;
  /** Answer IDENTIFY by closing with this code (4013/4014: the intents; 4004: the token), or null. */
  refuseIdentifyWith: number | null;
  /** Answer GET /gateway/bot with this status, raw body and headers instead (bad input from Discord's side), or null. */
  gatewayBotOverride: { status: number; body: string; headers?: Record<string, string> } | null;
  /** Refuse WebSocket upgrades to this host (503), e.g. the resume host going away; null accepts all. */
  refuseUpgradeHost: string | null;
}

/** A frame the client sent; `json` is its `d` as JSON text (RPC types cannot carry `unknown`). */
export interface ReceivedFrame {
  connection: number;
  at: number;
  op: number;
  json: string;
}

export interface FakeConnection {
  n: number;
  url: string;
  openedAt: number;
  /** The close code, and who closed: "client", "server" or "dropped". */
  closedCode: number | null;
  closedBy: string | null;
}

const DEFAULTS: FakeConfig = {
  token: "",
  heartbeatIntervalMs: 45_000,
  ack: true,
  exhaustedUntil: 0,
  maxConcurrency: 1,
  replayOverlap: 0,
  refuseIdentifyWith: null,
  gatewayBotOverride: null,
  refuseUpgradeHost: null,
};

/** Discord's close reasons ("Opcodes and Status Codes": Gateway close event codes). */
const CLOSE_REASONS: Record<number, string> = {
  4004: "Authentication failed.",
  4010: "Invalid shard.",
  4011: "Sharding required.",
  4012: "Invalid API version.",
  4013: "Invalid intent(s).",
  4014: "Disallowed intent(s).",
};

interface FakeEnv {
  FAKE_GATEWAY: DurableObjectNamespace<FakeGateway>;
}

export class FakeGateway extends DurableObject<FakeEnv> {
  private readonly sockets = new Map<number, WebSocket>();
  private readonly identified = new Set<number>();

  constructor(ctx: DurableObjectState, env: FakeEnv) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec("create table if not exists kv (key text primary key, value text not null)");
    sql.exec(
      "create table if not exists received (id integer primary key, connection integer, at integer, op integer, d text)",
    );
    sql.exec("create table if not exists events (seq integer primary key, frame text not null)");
    sql.exec(
      "create table if not exists connections (n integer primary key, url text, opened_at integer, closed_code integer, closed_by text)",
    );
    // Sockets do not survive a restart of this object (a drop): mark them, the client saw 1006.
    sql.exec("update connections set closed_code = 1006, closed_by = 'dropped' where closed_code is null");
  }

  configure(patch: Partial<FakeConfig>): void {
    this.put("config", { ...this.config(), ...patch });
  }

  gatewayBot(authorization: string | null, id: string): Response {
    const config = this.config();
    if (authorization !== `Bot ${config.token}`) {
      return Response.json({ message: "401: Unauthorized", code: 0 }, { status: 401 });
    }
    if (config.gatewayBotOverride) {
      const { status, body, headers } = config.gatewayBotOverride;
      return new Response(body, { status, headers: { "content-type": "application/json", ...headers } });
    }
    const now = Date.now();
    const exhausted = now < config.exhaustedUntil;
    return Response.json({
      url: `wss://gateway.discord.test/${id}`,
      shards: 1,
      session_start_limit: {
        total: 1000,
        remaining: exhausted ? 0 : 997,
        reset_after: exhausted ? config.exhaustedUntil - now : 14_400_000,
        max_concurrency: config.maxConcurrency,
      },
    });
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
      return new Response("expected a WebSocket", { status: 426 });
    if (new URL(request.url).hostname === this.config().refuseUpgradeHost)
      return new Response("upstream unavailable", { status: 503 });
    const pair = new WebSocketPair();
    const [client, server] = Object.values(pair) as [WebSocket, WebSocket];
    server.accept();
    const n = this.ctx.storage.sql.exec<{ n: number }>("select coalesce(max(n), 0) + 1 as n from connections").one().n;
    this.ctx.storage.sql.exec(
      "insert into connections (n, url, opened_at) values (?, ?, ?)",
      n,
      request.url,
      Date.now(),
    );
    this.sockets.set(n, server);
    server.addEventListener("message", (event) => this.onMessage(n, server, event.data));
    server.addEventListener("close", (event) => {
      this.closed(n, event.code, "client");
    });
    server.send(
      JSON.stringify({ op: OP.Hello, d: { heartbeat_interval: this.config().heartbeatIntervalMs }, s: null, t: null }),
    );
    return new Response(null, { status: 101, webSocket: client });
  }

  // --- what the test does ---------------------------------------------------

  /**
   * Sends a dispatch (op 0) with the next sequence number, as Discord does, and keeps it for RESUME.
   * `deliver: false` loses it in flight: the client only gets it when it resumes.
   */
  dispatch(t: string, d: unknown, deliver = true): number {
    const session = this.get<{ id: string; seq: number }>("session");
    if (!session) throw new Error("no session: the client has not identified");
    const seq = session.seq + 1;
    const frame = JSON.stringify({ op: OP.Dispatch, s: seq, t, d });
    this.put("session", { ...session, seq });
    this.ctx.storage.sql.exec("insert into events (seq, frame) values (?, ?)", seq, frame);
    if (deliver) this.current()?.send(frame);
    return seq;
  }

  sendRaw(text: string): void {
    this.current()?.send(text);
  }

  send(payload: unknown): void {
    this.current()?.send(JSON.stringify(payload));
  }

  close(code: number, reason: string): void {
    const [n, socket] = this.latest() ?? [];
    if (n === undefined || !socket) return;
    socket.close(code, reason);
    this.closed(n, code, "server");
  }

  /** The connection dies without a close frame (the client sees 1006): this object restarts. */
  drop(): void {
    this.ctx.abort("dropped by the test");
  }

  /** Forgets the session (it timed out server-side): a RESUME gets INVALID_SESSION false. */
  expireSession(): void {
    this.ctx.storage.sql.exec("delete from kv where key = 'session'");
  }

  received(): ReceivedFrame[] {
    return this.ctx.storage.sql
      .exec<{ connection: number; at: number; op: number; d: string }>(
        "select connection, at, op, d from received order by id",
      )
      .toArray()
      .map((row) => ({ connection: row.connection, at: row.at, op: row.op, json: row.d }));
  }

  connections(): FakeConnection[] {
    return this.ctx.storage.sql
      .exec<{ n: number; url: string; opened_at: number; closed_code: number | null; closed_by: string | null }>(
        "select n, url, opened_at, closed_code, closed_by from connections order by n",
      )
      .toArray()
      .map((row) => ({
        n: row.n,
        url: row.url,
        openedAt: row.opened_at,
        closedCode: row.closed_code,
        closedBy: row.closed_by,
      }));
  }

  // --- the protocol ---------------------------------------------------------

  private onMessage(n: number, socket: WebSocket, data: unknown): void {
    let payload: { op?: unknown; d?: unknown };
    try {
      payload = JSON.parse(String(data)) as { op?: unknown; d?: unknown };
    } catch {
      socket.close(4002, "Decode error");
      return;
    }
    const op = typeof payload.op === "number" ? payload.op : -1;
    this.ctx.storage.sql.exec(
      "insert into received (connection, at, op, d) values (?, ?, ?, ?)",
      n,
      Date.now(),
      op,
      JSON.stringify(payload.d ?? null),
    );
    const config = this.config();
    switch (op) {
      case OP.Heartbeat:
        if (config.ack) socket.send(JSON.stringify({ op: OP.Ack }));
        return;
      case OP.Identify:
        this.identify(n, socket, payload.d as { token?: string; shard?: [number, number] }, config);
        return;
      case OP.Resume:
        this.resume(n, socket, payload.d as { token?: string; session_id?: string; seq?: number }, config);
        return;
      default:
        socket.close(4001, "Unknown opcode");
    }
  }

  private identify(n: number, socket: WebSocket, d: { token?: string; shard?: [number, number] }, config: FakeConfig) {
    if (d?.token !== config.token) return this.serverClose(n, socket, 4004, "Authentication failed.");
    if (config.refuseIdentifyWith !== null) {
      const code = config.refuseIdentifyWith;
      return this.serverClose(n, socket, code, CLOSE_REASONS[code] ?? "Unknown error.");
    }
    if (this.identified.has(n)) return this.serverClose(n, socket, 4005, "Already authenticated.");
    this.identified.add(n);
    const session = { id: crypto.randomUUID().replaceAll("-", ""), seq: 1 };
    this.put("session", session);
    this.ctx.storage.sql.exec("delete from events");
    const id = new URL(this.connections().find((c) => c.n === n)?.url ?? "https://x/unknown").pathname.split("/")[1];
    socket.send(
      JSON.stringify({
        op: OP.Dispatch,
        s: 1,
        t: "READY",
        d: {
          v: 10,
          user: {
            id: FAKE_BOT_USER_ID,
            username: "executor",
            discriminator: "0",
            global_name: null,
            avatar: null,
            bot: true,
          },
          guilds: [],
          session_id: session.id,
          resume_gateway_url: `wss://resume.discord.test/${id}`,
          shard: d.shard,
          application: { id: "100000000000000001", flags: 0 },
        },
      }),
    );
  }

  private resume(
    n: number,
    socket: WebSocket,
    d: { token?: string; session_id?: string; seq?: number },
    config: FakeConfig,
  ) {
    if (d?.token !== config.token) return this.serverClose(n, socket, 4004, "Authentication failed.");
    const session = this.get<{ id: string; seq: number }>("session");
    if (!session || session.id !== d.session_id || typeof d.seq !== "number" || d.seq > session.seq) {
      socket.send(JSON.stringify({ op: OP.InvalidSession, d: false }));
      return;
    }
    this.identified.add(n);
    const from = Math.max(0, d.seq - config.replayOverlap);
    for (const row of this.ctx.storage.sql.exec<{ frame: string }>(
      "select frame from events where seq > ? order by seq",
      from,
    )) {
      socket.send(row.frame);
    }
    const seq = session.seq + 1;
    this.put("session", { ...session, seq });
    socket.send(JSON.stringify({ op: OP.Dispatch, s: seq, t: "RESUMED", d: null }));
  }

  private serverClose(n: number, socket: WebSocket, code: number, reason: string): void {
    socket.close(code, reason);
    this.closed(n, code, "server");
  }

  private closed(n: number, code: number, by: string): void {
    this.sockets.delete(n);
    this.ctx.storage.sql.exec(
      "update connections set closed_code = ?, closed_by = ? where n = ? and closed_code is null",
      code,
      by,
      n,
    );
  }

  private latest(): [number, WebSocket] | undefined {
    return [...this.sockets.entries()].sort(([a], [b]) => b - a)[0];
  }

  private current(): WebSocket | undefined {
    return this.latest()?.[1];
  }

  private config(): FakeConfig {
    return { ...DEFAULTS, ...this.get<Partial<FakeConfig>>("config") };
  }

  private get<T>(key: string): T | null {
    const row = this.ctx.storage.sql.exec<{ value: string }>("select value from kv where key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.value) as T) : null;
  }

  private put(key: string, value: unknown): void {
    this.ctx.storage.sql.exec(
      "insert into kv (key, value) values (?, ?) on conflict(key) do update set value = excluded.value",
      key,
      JSON.stringify(value),
    );
  }
}

/** Requests come as `https://<any>.discord.test/<fake id>/...`; RPCs name the fake. */
export default class FakeDiscord extends WorkerEntrypoint<FakeEnv> {
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const [, id = "", ...rest] = url.pathname.split("/");
    const fake = this.env.FAKE_GATEWAY.getByName(id);
    if (rest.join("/") === "api/v10/gateway/bot" && request.method === "GET") {
      return fake.gatewayBot(request.headers.get("authorization"), id);
    }
    return fake.fetch(request);
  }

  configure(id: string, patch: Partial<FakeConfig>) {
    return this.fake(id).configure(patch);
  }
  dispatch(id: string, t: string, d: unknown, deliver = true) {
    return this.fake(id).dispatch(t, d, deliver);
  }
  send(id: string, payload: unknown) {
    return this.fake(id).send(payload);
  }
  sendRaw(id: string, text: string) {
    return this.fake(id).sendRaw(text);
  }
  close(id: string, code: number, reason: string) {
    return this.fake(id).close(code, reason);
  }
  async drop(id: string) {
    await this.fake(id)
      .drop()
      .catch(() => undefined);
  }
  expireSession(id: string) {
    return this.fake(id).expireSession();
  }
  received(id: string) {
    return this.fake(id).received();
  }
  connections(id: string) {
    return this.fake(id).connections();
  }

  private fake(id: string) {
    return this.env.FAKE_GATEWAY.getByName(id);
  }
}
