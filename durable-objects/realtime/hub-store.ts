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
 * Numbers a hub may hand out beyond those it has stored. A frame sent after a storage write in the same turn waits
 * until storage confirms that write (the output gate), so a hub sends events first and stores them after; this
 * reservation, stored before the first frame that uses it, is what keeps a number from being used twice when a hub
 * starts again without the events its last turn sent (hibernation, a deploy, a reset after a write that failed).
 */
export const RESERVED_NUMBERS = 1000;

/**
 * What a hub keeps in its own SQLite, all with the synchronous API: the
 * sequence number, the numbers reserved ahead of it and each stream's head (so
 * they survive hibernation, restarts and deploys), the last
 * REALTIME_LIMITS.replayEvents events for `?since=` replay, the numbers a restart
 * skipped, the community the object is bound to, and its cumulative figures.
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
    sql.exec("CREATE TABLE IF NOT EXISTS hub_skips (first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL)");
    this.resumeNumbering();
  }

  /**
   * A hub starting over its storage: numbers reserved but not stored may be in clients' hands (sent by a turn whose
   * write never landed), so numbering goes on after them and they are kept as skipped, never an event of this hub.
   */
  private resumeNumbering(): void {
    const stored = this.latestSeq();
    if (this.getMeta("trimmedThrough") === null) {
      // Stored before the replay buffer kept this: it held every event after its oldest.
      const oldest = this.sql.exec<{ seq: number }>("SELECT MIN(seq) AS seq FROM hub_events").toArray()[0]?.seq;
      this.setMeta("trimmedThrough", String(oldest == null ? stored : oldest - 1));
    }
    const reserved = this.reserved();
    if (reserved <= stored) return;
    this.transaction(() => {
      this.sql.exec("INSERT INTO hub_skips (first_seq, last_seq) VALUES (?, ?)", stored + 1, reserved);
      this.setMeta("seq", String(reserved));
    });
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
   * Numbers events and hands them to `send`, then stores them in one transaction: each gets the next sequence
   * number, its stream's previous one and its frame; the stream heads move on, and the replay buffer keeps only the
   * newest REALTIME_LIMITS.replayEvents. Numbers past the reservation are reserved (stored) before `send` runs.
   * Throws, sending and storing nothing, if any frame is too large.
   */
  record<T>(events: readonly ValidPublish[], send: (recorded: readonly RecordedEvent[]) => T): T {
    const recorded = this.number(events);
    const last = recorded.at(-1)?.seq ?? 0;
    if (last > this.reserved()) this.setMeta("reserved", String(last + RESERVED_NUMBERS));
    try {
      return send(recorded);
    } finally {
      // Even when sending failed part way: some frames may be out, and their numbers must not come again.
      this.store(recorded);
    }
  }

  private number(events: readonly ValidPublish[]): RecordedEvent[] {
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
    return recorded;
  }

  private store(recorded: readonly RecordedEvent[]): void {
    const last = recorded.at(-1);
    if (!last) return;
    this.transaction(() => {
      const heads = new Map<string, number>();
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
        heads.set(streamKey(event.channel, event.audience), event.seq);
      }
      for (const [key, seq] of heads) {
        this.sql.exec(
          "INSERT INTO hub_streams (key, last_seq) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET last_seq = excluded.last_seq",
          key,
          seq,
        );
      }
      this.trim();
      this.setMeta("seq", String(last.seq));
    });
  }

  /** Keeps the newest REALTIME_LIMITS.replayEvents events; a restart's skipped numbers below them go too. */
  private trim(): void {
    const cutoff = this.sql
      .exec<{ seq: number }>(
        "SELECT seq FROM hub_events ORDER BY seq DESC LIMIT 1 OFFSET ?",
        REALTIME_LIMITS.replayEvents,
      )
      .toArray()[0]?.seq;
    if (cutoff === undefined) return;
    this.sql.exec("DELETE FROM hub_events WHERE seq <= ?", cutoff);
    this.sql.exec("DELETE FROM hub_skips WHERE last_seq <= ?", cutoff);
    this.setMeta("trimmedThrough", String(cutoff));
  }

  private reserved(): number {
    return Number(this.getMeta("reserved") ?? 0);
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
   * of them (false when the buffer no longer holds every event after `since`,
   * `since` is ahead of this hub, or a number its restart skipped).
   */
  eventsAfter(since: number): { events: RecordedEvent[]; complete: boolean } {
    const trimmedThrough = Number(this.getMeta("trimmedThrough") ?? 0);
    const skipped = this.sql
      .exec("SELECT 1 FROM hub_skips WHERE first_seq <= ? AND last_seq >= ?", since, since)
      .toArray().length;
    // A number this hub skipped is one a client holds from a turn whose events were never stored.
    if (since > this.latestSeq() || since < trimmedThrough || skipped > 0) return { events: [], complete: false };
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
    return { events, complete: true };
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
