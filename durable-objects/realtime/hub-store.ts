import type { Audience, RealtimeChannel } from "../../shared/realtime/protocol";
import { REALTIME_LIMITS } from "../../shared/realtime/protocol";
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
  frame: string;
  /** The frame's size in UTF-8 bytes. */
  bytes: number;
  at: number;
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
 * sequence number (so it survives hibernation, restarts and deploys), the last
 * REALTIME_LIMITS.replayEvents events for `?since=` replay, the community the
 * object is bound to, and its cumulative figures.
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
        frame TEXT NOT NULL, at INTEGER NOT NULL)`,
    );
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
   * number and its frame, and the replay buffer keeps only the newest
   * REALTIME_LIMITS.replayEvents. Throws (storing nothing) if any frame is too large.
   */
  record(events: readonly ValidPublish[]): RecordedEvent[] {
    return this.transaction(() => {
      let seq = this.latestSeq();
      const recorded: RecordedEvent[] = [];
      for (const event of events) {
        seq += 1;
        const frame = JSON.stringify({ seq, type: event.type, channel: event.channel, data: event.data, at: event.at });
        const bytes = encoder.encode(frame).byteLength;
        if (bytes > REALTIME_LIMITS.maxEventBytes) throw new EventTooLargeError(bytes);
        recorded.push({ seq, channel: event.channel, audience: event.audience, frame, bytes, at: event.at });
      }
      for (const event of recorded) {
        const member = typeof event.audience === "string" ? null : event.audience.userId;
        const audience = typeof event.audience === "string" ? event.audience : "member";
        this.sql.exec(
          "INSERT INTO hub_events (seq, channel, audience, user_id, frame, at) VALUES (?, ?, ?, ?, ?, ?)",
          event.seq,
          event.channel,
          audience,
          member,
          event.frame,
          event.at,
        );
      }
      this.sql.exec("DELETE FROM hub_events WHERE seq <= ?", seq - REALTIME_LIMITS.replayEvents);
      this.setMeta("seq", String(seq));
      return recorded;
    });
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
      .exec<{ seq: number; channel: string; audience: string; user_id: string | null; frame: string; at: number }>(
        "SELECT seq, channel, audience, user_id, frame, at FROM hub_events WHERE seq > ? ORDER BY seq",
        since,
      )
      .toArray();
    const oldest = rows[0]?.seq ?? latest + 1;
    const events = rows.map((row) => ({
      seq: row.seq,
      channel: row.channel as RealtimeChannel,
      audience: (row.audience === "member" ? { userId: row.user_id ?? "" } : row.audience) as Audience,
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
