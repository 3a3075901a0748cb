import type { GatewayDispatch } from "../../shared/gateway/dispatches";

/** How long a dispatch's key is remembered: far beyond any RESUME replay (a session lasts minutes offline). */
export const DISPATCH_KEY_RETENTION_MS = 24 * 3_600_000;
/** Hand-off attempts before a dispatch is given up (and an alert logged). */
export const MAX_HAND_OFF_ATTEMPTS = 5;
const LAST_DISPATCHES = 20;

export type DispatchStatus = "pending" | "handed_on" | "failed";

export interface RecentDispatch {
  key: string;
  type: GatewayDispatch["type"];
  seq: number;
  receivedAt: number;
  status: DispatchStatus;
  attempts: number;
  guildId: string | null;
  channelId: string | null;
  /** The message id, or the member's user id. */
  subjectId: string;
  lastError: string | null;
}

export interface DispatchCounts {
  /** New dispatches by type. */
  received: Record<string, number>;
  /** Deliveries of a dispatch already received (a replay after RESUME), dropped. */
  replayed: Record<string, number>;
}

const SCHEMA = [
  `create table if not exists dispatches (key text primary key, type text not null, seq integer not null,
     received_at integer not null, status text not null, attempts integer not null default 0, last_error text,
     payload text, guild_id text, channel_id text, subject_id text not null)`,
  `create index if not exists dispatches_received on dispatches (received_at)`,
  `create index if not exists dispatches_status on dispatches (status)`,
  `create table if not exists dispatch_counts (type text primary key, received integer not null default 0,
     replayed integer not null default 0)`,
];

/**
 * Every dispatch the watcher hands on passes through here first, in the same
 * synchronous step that stores its sequence number: a key seen before (a
 * replay after RESUME) is counted and dropped, a new one is kept as pending
 * until its hand-off succeeds. A hand-off that fails or is cut by an eviction
 * is retried from here; the payload (message text included) is kept only
 * while the dispatch is pending.
 */
export class DispatchInbox {
  constructor(private readonly sql: SqlStorage) {
    for (const statement of SCHEMA) sql.exec(statement);
  }

  /** True when the dispatch is new and must be handed on; false for a replay. */
  accept(dispatch: GatewayDispatch): boolean {
    const inserted = this.sql.exec(
      `insert into dispatches (key, type, seq, received_at, status, payload, guild_id, channel_id, subject_id)
       values (?, ?, ?, ?, 'pending', ?, ?, ?, ?) on conflict(key) do nothing`,
      dispatch.key,
      dispatch.type,
      dispatch.seq,
      dispatch.receivedAt,
      JSON.stringify(dispatch),
      ...where(dispatch),
    ).rowsWritten;
    const column = inserted > 0 ? "received" : "replayed";
    this.sql.exec(
      `insert into dispatch_counts (type, ${column}) values (?, 1)
       on conflict(type) do update set ${column} = ${column} + 1`,
      dispatch.type,
    );
    return inserted > 0;
  }

  handedOn(key: string): void {
    this.sql.exec(
      "update dispatches set status = 'handed_on', attempts = attempts + 1, payload = null, last_error = null where key = ?",
      key,
    );
  }

  /** Records a failed hand-off; returns true when it was the last attempt. */
  handOffFailed(key: string, error: string): boolean {
    const row = this.sql
      .exec<{ attempts: number }>(
        `update dispatches set attempts = attempts + 1, last_error = ?,
           status = case when attempts + 1 >= ? then 'failed' else status end,
           payload = case when attempts + 1 >= ? then null else payload end
         where key = ? returning attempts`,
        error.slice(0, 500),
        MAX_HAND_OFF_ATTEMPTS,
        MAX_HAND_OFF_ATTEMPTS,
        key,
      )
      .toArray()[0];
    return row !== undefined && row.attempts >= MAX_HAND_OFF_ATTEMPTS;
  }

  /** Pending dispatches, oldest first (a failed hand-off, or one an eviction cut short). */
  pending(limit = 50): GatewayDispatch[] {
    return this.sql
      .exec<{ payload: string }>(
        "select payload from dispatches where status = 'pending' and payload is not null order by received_at, seq limit ?",
        limit,
      )
      .toArray()
      .map((row) => JSON.parse(row.payload) as GatewayDispatch);
  }

  prune(now: number): number {
    return this.sql.exec(
      "delete from dispatches where received_at < ? and status != 'pending'",
      now - DISPATCH_KEY_RETENTION_MS,
    ).rowsWritten;
  }

  counts(): DispatchCounts {
    const counts: DispatchCounts = { received: {}, replayed: {} };
    for (const row of this.sql
      .exec<{ type: string; received: number; replayed: number }>(
        "select type, received, replayed from dispatch_counts",
      )
      .toArray()) {
      if (row.received > 0) counts.received[row.type] = row.received;
      if (row.replayed > 0) counts.replayed[row.type] = row.replayed;
    }
    return counts;
  }

  recent(limit = LAST_DISPATCHES): RecentDispatch[] {
    return this.sql
      .exec<{
        key: string;
        type: GatewayDispatch["type"];
        seq: number;
        received_at: number;
        status: DispatchStatus;
        attempts: number;
        guild_id: string | null;
        channel_id: string | null;
        subject_id: string;
        last_error: string | null;
      }>(
        `select key, type, seq, received_at, status, attempts, guild_id, channel_id, subject_id, last_error
         from dispatches order by received_at desc, seq desc limit ?`,
        limit,
      )
      .toArray()
      .map((row) => ({
        key: row.key,
        type: row.type,
        seq: row.seq,
        receivedAt: row.received_at,
        status: row.status,
        attempts: row.attempts,
        guildId: row.guild_id,
        channelId: row.channel_id,
        subjectId: row.subject_id,
        lastError: row.last_error,
      }));
  }
}

function where(dispatch: GatewayDispatch): [string | null, string | null, string] {
  switch (dispatch.type) {
    case "MESSAGE_CREATE":
    case "MESSAGE_UPDATE":
      return [dispatch.message.guildId, dispatch.message.channelId, dispatch.message.id];
    case "GUILD_MEMBER_ADD":
    case "GUILD_MEMBER_REMOVE":
    case "GUILD_MEMBER_UPDATE":
      return [dispatch.guildId, null, dispatch.user.id];
  }
}
