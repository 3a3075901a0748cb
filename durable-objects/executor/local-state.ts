/**
 * The CommunityExecutor's own SQLite: what must be decided atomically inside
 * the object (duplicate and conflict windows, the kill switch, daily counters,
 * in-flight reservations, paper accounts, the fill-tracking schedule). Every
 * function here is synchronous, so no other request can interleave between a
 * read and the write that depends on it.
 */

import { utcDay } from "../../shared/risk/daily-loss";
import { EquityDays } from "./equity-days";

const SCHEMA = [
  `create table if not exists meta (key text primary key, value text not null)`,
  `create table if not exists sources (source_id text primary key, signal_id text not null, status text not null, at integer not null)`,
  `create table if not exists recent_signals (signal_id text primary key, provider text not null, symbol text not null,
     direction text not null, fingerprint text not null, at integer not null)`,
  `create index if not exists recent_signals_provider on recent_signals (provider, at)`,
  `create table if not exists counters (day text not null, key text not null, value real not null, primary key (day, key))`,
  `create table if not exists reservations (order_id text primary key, user_id text not null, notional real not null,
     open_positions integer not null, symbol text, created_at integer not null)`,
  `create index if not exists reservations_user on reservations (user_id)`,
  `create table if not exists paper_accounts (user_id text primary key, state text not null, updated_at integer not null)`,
  `create table if not exists tracking (order_id text primary key, due_at integer not null, submitted_at integer not null,
     checks integer not null default 0)`,
  `create index if not exists tracking_due on tracking (due_at)`,
  `create table if not exists pauses (user_id text primary key, until integer not null, reason text not null)`,
  `create table if not exists confirmations (order_id text primary key, user_id text not null, due_at integer not null)`,
  `create table if not exists locks (user_id text primary key, day text not null, at integer not null,
     loss_percent real not null, unlocked_at integer, unlocked_by text)`,
];

/** Columns added after a table first shipped: objects created earlier get them on start-up. */
const ADDED_COLUMNS: Record<string, Record<string, string>> = {
  reservations: {
    closing_instrument: "text",
    closing_quantity: "real not null default 0",
    expires_at: "integer not null default 0",
    position_key: "text",
  },
  recent_signals: { instrument: "text" },
};

export interface RecentSignal {
  signalId: string;
  provider: string;
  symbol: string;
  /** The instrument key (an option's contract, not its underlying); null for rows written before it was kept. */
  instrument: string | null;
  direction: "long" | "short" | "flat";
  fingerprint: string;
  at: number;
}

/** The personal circuit breaker's lock on a member's account, kept until the member or an admin unlocks it. */
export interface AccountLock {
  /** The UTC day it tripped: the breaker stays disarmed for the rest of that day, even after an unlock. */
  day: string;
  at: number;
  lossPercent: number;
  unlockedAt: number | null;
  unlockedBy: string | null;
}

export interface UserReservation {
  notional: number;
  openPositions: number;
  symbols: string[];
  /** Units being closed per instrument key. */
  closing: Record<string, number>;
  /** Notional of entries in flight per position key. */
  entries: Record<string, number>;
}

/** What one in-flight order holds of its member's limits (the risk engine's `Reservation`). */
export interface OrderReservation {
  notional: number;
  openPositions: number;
  symbol: string | null;
  closing: { instrument: string; quantity: number } | null;
  position?: string | null;
}

/**
 * A reservation lives this long before the sweeper checks its order again:
 * it is renewed while the order is unsettled and released otherwise, so a
 * reservation can outlive its order by one lifetime at most.
 */
export const RESERVATION_LIFETIME_MS = 15 * 60_000;

/** Seconds a source id is remembered (well beyond any redelivery), and the double-post window. */
const SOURCE_MEMORY_MS = 7 * 24 * 3600_000;
export const DOUBLE_POST_WINDOW_MS = 5_000;

export { utcDay };

export class ExecutorLocalState {
  /** Each account's trading day, for the daily loss limit and the circuit breaker. */
  readonly equityDays: EquityDays;

  constructor(private readonly sql: SqlStorage) {
    for (const statement of SCHEMA) sql.exec(statement);
    for (const [table, columns] of Object.entries(ADDED_COLUMNS)) {
      const present = new Set(
        sql
          .exec<{ name: string }>(`pragma table_info(${table})`)
          .toArray()
          .map((c) => c.name),
      );
      for (const [column, type] of Object.entries(columns)) {
        if (!present.has(column)) sql.exec(`alter table ${table} add column ${column} ${type}`);
      }
    }
    this.equityDays = new EquityDays(sql);
  }

  private one<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): T | null {
    const rows = this.sql.exec<T>(query, ...bindings).toArray();
    return rows[0] ?? null;
  }

  getMeta(key: string): string | null {
    return this.one<{ value: string }>("select value from meta where key = ?", key)?.value ?? null;
  }

  setMeta(key: string, value: string | null): void {
    if (value === null) this.sql.exec("delete from meta where key = ?", key);
    else
      this.sql.exec(
        "insert into meta (key, value) values (?, ?) on conflict(key) do update set value = excluded.value",
        key,
        value,
      );
  }

  get halted(): boolean {
    return this.getMeta("halted") === "1";
  }

  setHalted(halted: boolean): void {
    this.setMeta("halted", halted ? "1" : null);
  }

  /** The stored outcome of a source already seen, or null. */
  seenSource(sourceId: string): { signalId: string; status: string } | null {
    const row = this.one<{ signal_id: string; status: string }>(
      "select signal_id, status from sources where source_id = ?",
      sourceId,
    );
    return row ? { signalId: row.signal_id, status: row.status } : null;
  }

  rememberSource(sourceId: string, signalId: string, status: string, at: number): void {
    this.sql.exec(
      "insert into sources (source_id, signal_id, status, at) values (?, ?, ?, ?) on conflict(source_id) do update set status = excluded.status",
      sourceId,
      signalId,
      status,
      at,
    );
  }

  recentFrom(provider: string, since: number): RecentSignal[] {
    return this.sql
      .exec<{
        signal_id: string;
        provider: string;
        symbol: string;
        instrument: string | null;
        direction: string;
        fingerprint: string;
        at: number;
      }>("select * from recent_signals where provider = ? and at >= ? order by at", provider, since)
      .toArray()
      .map((r) => ({
        signalId: r.signal_id,
        provider: r.provider,
        symbol: r.symbol,
        instrument: r.instrument,
        direction: r.direction as RecentSignal["direction"],
        fingerprint: r.fingerprint,
        at: r.at,
      }));
  }

  rememberRecent(signal: RecentSignal): void {
    this.sql.exec(
      "insert or replace into recent_signals (signal_id, provider, symbol, instrument, direction, fingerprint, at) values (?, ?, ?, ?, ?, ?, ?)",
      signal.signalId,
      signal.provider,
      signal.symbol,
      signal.instrument,
      signal.direction,
      signal.fingerprint,
      signal.at,
    );
  }

  /** A withdrawn signal no longer counts as a recent one (for double posts, conflicts and adds). */
  forgetRecent(signalId: string): void {
    this.sql.exec("delete from recent_signals where signal_id = ?", signalId);
  }

  counter(day: string, key: string): number {
    return this.one<{ value: number }>("select value from counters where day = ? and key = ?", day, key)?.value ?? 0;
  }

  addCounter(day: string, key: string, delta: number): number {
    const row = this.one<{ value: number }>(
      "insert into counters (day, key, value) values (?, ?, ?) on conflict(day, key) do update set value = value + excluded.value returning value",
      day,
      key,
      delta,
    );
    return row?.value ?? delta;
  }

  reservedFor(userId: string): UserReservation {
    const rows = this.sql
      .exec<{
        notional: number;
        open_positions: number;
        symbol: string | null;
        closing_instrument: string | null;
        closing_quantity: number;
        position_key: string | null;
      }>(
        "select notional, open_positions, symbol, closing_instrument, closing_quantity, position_key from reservations where user_id = ?",
        userId,
      )
      .toArray();
    const closing: Record<string, number> = {};
    const entries: Record<string, number> = {};
    for (const row of rows) {
      if (row.closing_instrument && row.closing_quantity > 0) {
        closing[row.closing_instrument] = (closing[row.closing_instrument] ?? 0) + row.closing_quantity;
      }
      if (row.position_key) entries[row.position_key] = (entries[row.position_key] ?? 0) + row.notional;
    }
    return {
      notional: rows.reduce((sum, r) => sum + r.notional, 0),
      openPositions: rows.reduce((sum, r) => sum + r.open_positions, 0),
      symbols: rows.flatMap((r) => (r.symbol ? [r.symbol] : [])),
      closing,
      entries,
    };
  }

  reserve(orderId: string, userId: string, reservation: OrderReservation, at: number) {
    this.sql.exec(
      `insert or ignore into reservations (order_id, user_id, notional, open_positions, symbol, closing_instrument,
        closing_quantity, position_key, created_at, expires_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      orderId,
      userId,
      reservation.notional,
      reservation.openPositions,
      reservation.symbol,
      reservation.closing?.instrument ?? null,
      reservation.closing?.quantity ?? 0,
      reservation.position ?? null,
      at,
      at + RESERVATION_LIFETIME_MS,
    );
  }

  release(orderIds: readonly string[]): void {
    for (const id of orderIds) this.sql.exec("delete from reservations where order_id = ?", id);
  }

  /** Order ids whose reservation has reached the end of its lifetime. */
  expiredReservations(now: number, limit = 5_000): string[] {
    return this.sql
      .exec<{ order_id: string }>(
        "select order_id from reservations where expires_at <= ? order by expires_at limit ?",
        now,
        limit,
      )
      .toArray()
      .map((r) => r.order_id);
  }

  renewReservations(orderIds: readonly string[], now: number): void {
    for (const id of orderIds) {
      this.sql.exec("update reservations set expires_at = ? where order_id = ?", now + RESERVATION_LIFETIME_MS, id);
    }
  }

  pausedUntil(userId: string, now: number): { until: number; reason: string } | null {
    const row = this.one<{ until: number; reason: string }>(
      "select until, reason from pauses where user_id = ?",
      userId,
    );
    return row && row.until > now ? row : null;
  }

  pause(userId: string, until: number, reason: string): void {
    this.sql.exec(
      "insert into pauses (user_id, until, reason) values (?, ?, ?) on conflict(user_id) do update set until = excluded.until, reason = excluded.reason",
      userId,
      until,
      reason,
    );
  }

  /** The circuit breaker's lock on the member's account (also after an unlock, for the rest of that day). */
  lockOf(userId: string): AccountLock | null {
    const row = this.one<{
      day: string;
      at: number;
      loss_percent: number;
      unlocked_at: number | null;
      unlocked_by: string | null;
    }>("select day, at, loss_percent, unlocked_at, unlocked_by from locks where user_id = ?", userId);
    return row
      ? {
          day: row.day,
          at: row.at,
          lossPercent: row.loss_percent,
          unlockedAt: row.unlocked_at,
          unlockedBy: row.unlocked_by,
        }
      : null;
  }

  /** A trip of the breaker: the account is locked (again) until someone unlocks it. */
  lock(userId: string, at: number, lossPercent: number): void {
    this.sql.exec(
      `insert into locks (user_id, day, at, loss_percent, unlocked_at, unlocked_by) values (?, ?, ?, ?, null, null)
        on conflict(user_id) do update set day = excluded.day, at = excluded.at, loss_percent = excluded.loss_percent,
        unlocked_at = null, unlocked_by = null`,
      userId,
      utcDay(at),
      at,
      lossPercent,
    );
  }

  /** Lifts a lock still in force; null when the account was not locked. */
  unlock(userId: string, at: number, by: string): AccountLock | null {
    const row = this.one<{ day: string; at: number; loss_percent: number }>(
      "update locks set unlocked_at = ?, unlocked_by = ? where user_id = ? and unlocked_at is null returning day, at, loss_percent",
      at,
      by,
      userId,
    );
    return row ? { day: row.day, at: row.at, lossPercent: row.loss_percent, unlockedAt: at, unlockedBy: by } : null;
  }

  /** Undoes an `unlock` whose audit entry could not be written. */
  relock(userId: string): void {
    this.sql.exec("update locks set unlocked_at = null, unlocked_by = null where user_id = ?", userId);
  }

  loadPaperAccount<T>(userId: string): T | null {
    const row = this.one<{ state: string }>("select state from paper_accounts where user_id = ?", userId);
    return row ? (JSON.parse(row.state) as T) : null;
  }

  savePaperAccount(userId: string, state: unknown, at: number): void {
    this.sql.exec(
      "insert into paper_accounts (user_id, state, updated_at) values (?, ?, ?) on conflict(user_id) do update set state = excluded.state, updated_at = excluded.updated_at",
      userId,
      JSON.stringify(state),
      at,
    );
  }

  paperAccountUsers(): string[] {
    return this.sql
      .exec<{ user_id: string }>("select user_id from paper_accounts order by user_id")
      .toArray()
      .map((r) => r.user_id);
  }

  track(orderId: string, submittedAt: number, dueAt: number): void {
    this.sql.exec(
      "insert into tracking (order_id, due_at, submitted_at) values (?, ?, ?) on conflict(order_id) do update set due_at = excluded.due_at",
      orderId,
      dueAt,
      submittedAt,
    );
  }

  untrack(orderId: string): void {
    this.sql.exec("delete from tracking where order_id = ?", orderId);
  }

  dueTracking(now: number, limit = 200): { orderId: string; submittedAt: number }[] {
    return this.sql
      .exec<{ order_id: string; submitted_at: number }>(
        "select order_id, submitted_at from tracking where due_at <= ? order by due_at limit ?",
        now,
        limit,
      )
      .toArray()
      .map((r) => ({ orderId: r.order_id, submittedAt: r.submitted_at }));
  }

  /** The earliest follow-up, confirmation deadline or reservation check: the alarm is always set to it. */
  nextDue(): number | null {
    return (
      this.one<{ due: number | null }>(
        `select min(due) as due from (select min(due_at) as due from tracking union all select min(due_at) from confirmations
          union all select min(expires_at) from reservations)`,
      )?.due ?? null
    );
  }

  awaitConfirmation(orderId: string, userId: string, dueAt: number): void {
    this.sql.exec(
      "insert or ignore into confirmations (order_id, user_id, due_at) values (?, ?, ?)",
      orderId,
      userId,
      dueAt,
    );
  }

  /** Takes the pending confirmation (once): null when it was already confirmed, canceled or timed out. */
  takeConfirmation(orderId: string): { userId: string; dueAt: number } | null {
    const row = this.one<{ user_id: string; due_at: number }>(
      "delete from confirmations where order_id = ? returning user_id, due_at",
      orderId,
    );
    return row ? { userId: row.user_id, dueAt: row.due_at } : null;
  }

  isAwaitingConfirmation(orderId: string): boolean {
    return this.one("select 1 as yes from confirmations where order_id = ?", orderId) !== null;
  }

  dueConfirmations(now: number, limit = 200): string[] {
    return this.sql
      .exec<{ order_id: string }>(
        "select order_id from confirmations where due_at <= ? order by due_at limit ?",
        now,
        limit,
      )
      .toArray()
      .map((r) => r.order_id);
  }

  /** Drops memory that can no longer matter: old sources, old recent signals, old counters. */
  prune(now: number): void {
    this.sql.exec("delete from sources where at < ?", now - SOURCE_MEMORY_MS);
    this.sql.exec("delete from recent_signals where at < ?", now - 60_000);
    this.sql.exec("delete from counters where day < ?", utcDay(now - 3 * 24 * 3600_000));
    this.sql.exec("delete from pauses where until < ?", now);
    // An unlocked lock only matters for the day it tripped on (the breaker stays disarmed that day).
    this.sql.exec("delete from locks where unlocked_at is not null and day < ?", utcDay(now));
    this.equityDays.prune(now);
  }
}
