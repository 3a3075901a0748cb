import {
  type Audience,
  audienceKind,
  REALTIME_LIMITS,
  type RealtimeChannel,
  type StreamHeads,
  streamName,
} from "../../shared/realtime/protocol";
import type { ValidPublish } from "../../shared/realtime/publish";
import {
  emptyCounters,
  emptyLatencyBuckets,
  HUB_COUNTERS,
  type HubCounter,
  type HubCounters,
  latencyBucket,
} from "../../shared/realtime/stats";

/** An event as stored for replay: its frame is sent as is. */
export interface RecordedEvent {
  seq: number;
  channel: RealtimeChannel;
  audience: Audience;
  /** The stream's public name (`orders:member`) and the seq of its previous event. */
  stream: string;
  prev: number;
  frame: string;
  /** The frame's size in UTF-8 bytes. */
  bytes: number;
  at: number;
}

/** A stream's key in storage: its public name, and for a member's own stream the member (each has their own). */
function streamKey(channel: RealtimeChannel, audience: Audience): string {
  const name = streamName(channel, audienceKind(audience));
  return typeof audience === "string" ? name : `${name}|${audience.userId}`;
}

/** An event whose frame would be larger than REALTIME_LIMITS.maxEventBytes. */
export class EventTooLargeError extends RangeError {
  constructor(readonly bytes: number) {
    super(`An event of ${bytes} bytes is over the ${REALTIME_LIMITS.maxEventBytes}-byte limit.`);
    this.name = "EventTooLargeError";
  }
}

const encoder = new TextEncoder();

/**
 * What a hub keeps in its own SQLite, all with the synchronous API: the
 * sequence number and each stream's head (so they survive hibernation,
 * restarts and deploys), the last REALTIME_LIMITS.replayEvents events for
 * `?since=` replay, the community the object is bound to, and its cumulative
 * figures.
 */
export class HubStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly transaction: <T>(run: () => T) => T,
  ) {
    sql.exec("CREATE TABLE IF NOT EXISTS hub_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    sql.exec(
      `CREATE TABLE IF NOT EXISTS hub_events (
        seq INTEGER PRIMARY KEY, channel TEXT NOT NULL, audience TEXT NOT NULL, user_id TEXT,
        stream TEXT NOT NULL, prev INTEGER NOT NULL, frame TEXT NOT NULL, at INTEGER NOT NULL)`,
    );
    sql.exec("CREATE TABLE IF NOT EXISTS hub_streams (key TEXT PRIMARY KEY, last_seq INTEGER NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS hub_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS hub_latency (bucket INTEGER PRIMARY KEY, count INTEGER NOT NULL)");
  }

  getMeta(key: string): string | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM hub_meta WHERE key = ?", key).toArray()[0];
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.sql.exec(
      "INSERT INTO hub_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  latestSeq(): number {
    return Number(this.getMeta("seq") ?? 0);
  }

  /**
   * Numbers and stores events in one transaction: each gets the next sequence
   * number, its stream's previous one and its frame; the stream heads move on,
   * and the replay buffer keeps only the newest REALTIME_LIMITS.replayEvents.
   * Throws (storing nothing) if any frame is too large.
   */
  record(events: readonly ValidPublish[]): RecordedEvent[] {
    return this.transaction(() => {
      let seq = this.latestSeq();
      const heads = new Map<string, number>();
      const recorded: RecordedEvent[] = [];
      for (const event of events) {
        seq += 1;
        const key = streamKey(event.channel, event.audience);
        const prev = heads.get(key) ?? this.streamHead(key);
        heads.set(key, seq);
        const stream = streamName(event.channel, audienceKind(event.audience));
        const frame = JSON.stringify({
          seq,
          type: event.type,
          channel: event.channel,
          data: event.data,
          at: event.at,
          stream,
          prev,
        });
        const bytes = encoder.encode(frame).byteLength;
        if (bytes > REALTIME_LIMITS.maxEventBytes) throw new EventTooLargeError(bytes);
        recorded.push({
          seq,
          channel: event.channel,
          audience: event.audience,
          stream,
          prev,
          frame,
          bytes,
          at: event.at,
        });
      }
      for (const event of recorded) {
        const member = typeof event.audience === "string" ? null : event.audience.userId;
        this.sql.exec(
          "INSERT INTO hub_events (seq, channel, audience, user_id, stream, prev, frame, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          event.seq,
          event.channel,
          audienceKind(event.audience),
          member,
          event.stream,
          event.prev,
          event.frame,
          event.at,
        );
      }
      for (const [key, last] of heads) {
        this.sql.exec(
          "INSERT INTO hub_streams (key, last_seq) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET last_seq = excluded.last_seq",
          key,
          last,
        );
      }
      this.sql.exec("DELETE FROM hub_events WHERE seq <= ?", seq - REALTIME_LIMITS.replayEvents);
      this.setMeta("seq", String(seq));
      return recorded;
    });
  }

  /**
   * The current head of each stream a reader sees, by public name: `streams`
   * are the names (`orders:member`, `signals:community`, ...), `userId` whose
   * own streams the `:member` ones are. A stream without events is 0.
   */
  heads(streams: readonly string[], userId: string): StreamHeads {
    const heads: StreamHeads = {};
    for (const name of streams) {
      heads[name] = this.streamHead(name.endsWith(":member") ? `${name}|${userId}` : name);
    }
    return heads;
  }

  private streamHead(key: string): number {
    const row = this.sql.exec<{ last_seq: number }>("SELECT last_seq FROM hub_streams WHERE key = ?", key).toArray()[0];
    return row?.last_seq ?? 0;
  }

  /**
   * The stored events after `since`, oldest first, and whether they are all
   * of them (false when the buffer no longer reaches back to `since + 1`, or
   * `since` is ahead of this hub).
   */
  eventsAfter(since: number): { events: RecordedEvent[]; complete: boolean } {
    const latest = this.latestSeq();
    if (since > latest) return { events: [], complete: false };
    const rows = this.sql
      .exec<{
        seq: number;
        channel: string;
        audience: string;
        user_id: string | null;
        stream: string;
        prev: number;
        frame: string;
        at: number;
      }>(
        "SELECT seq, channel, audience, user_id, stream, prev, frame, at FROM hub_events WHERE seq > ? ORDER BY seq",
        since,
      )
      .toArray();
    const oldest = rows[0]?.seq ?? latest + 1;
    const events = rows.map((row) => ({
      seq: row.seq,
      channel: row.channel as RealtimeChannel,
      audience: (row.audience === "member" ? { userId: row.user_id ?? "" } : row.audience) as Audience,
      stream: row.stream,
      prev: row.prev,
      frame: row.frame,
      bytes: encoder.encode(row.frame).byteLength,
      at: row.at,
    }));
    return { events, complete: oldest <= since + 1 };
  }

  /** Adds to the cumulative counters and the latency histogram. */
  count(deltas: Partial<HubCounters>, latenciesMs: readonly number[] = []): void {
    for (const [name, delta] of Object.entries(deltas)) {
      if (!delta) continue;
      this.sql.exec(
        "INSERT INTO hub_counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
        name,
        delta,
      );
    }
    const buckets = new Map<number, number>();
    for (const ms of latenciesMs) {
      const bucket = latencyBucket(ms);
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    }
    for (const [bucket, n] of buckets) {
      this.sql.exec(
        "INSERT INTO hub_latency (bucket, count) VALUES (?, ?) ON CONFLICT(bucket) DO UPDATE SET count = count + excluded.count",
        bucket,
        n,
      );
    }
  }

  counters(): HubCounters {
    const counters = emptyCounters();
    for (const row of this.sql.exec<{ name: string; value: number }>("SELECT name, value FROM hub_counters")) {
      if ((HUB_COUNTERS as readonly string[]).includes(row.name)) counters[row.name as HubCounter] = row.value;
    }
    return counters;
  }

  latencyBuckets(): number[] {
    const buckets = emptyLatencyBuckets();
    for (const row of this.sql.exec<{ bucket: number; count: number }>("SELECT bucket, count FROM hub_latency")) {
      if (row.bucket >= 0 && row.bucket < buckets.length) buckets[row.bucket] = row.count;
    }
    return buckets;
  }
}
