/**
 * The CommunityExecutor's own SQLite: what must be decided atomically inside
 * the object (duplicate and conflict windows, the kill switch, daily counters,
 * in-flight reservations, paper accounts, the fill-tracking schedule). Every
 * function here is synchronous, so no other request can interleave between a
 * read and the write that depends on it.
 */

import type { OrderRow } from "../../shared/execution/orders";
import { utcDay } from "../../shared/risk/daily-loss";
import { EquityDays } from "./equity-days";
import { inGroupsOf } from "./sql-groups";

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
  // What D1 held when the order was last followed up: a paper order the desk still reports the same is not read again.
  tracking: {
    user_id: "text",
    broker: "text",
    broker_order_id: "text",
    order_type: "text",
    status: "text",
    filled_quantity: "real",
    stop_price: "real",
  },
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

/** An order due for a follow-up, with what D1 held at the last one (null for rows tracked before it was kept). */
export interface DueFollowUp {
  orderId: string;
  submittedAt: number;
  last: Pick<
    OrderRow,
    "userId" | "broker" | "brokerOrderId" | "orderType" | "status" | "filledQuantity" | "stopPrice"
  > | null;
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

/** What a fan-out step reads of one member before deciding: a pause, a lock, today's orders, what is in flight. */
export interface MemberState {
  paused: { until: number; reason: string } | null;
  lock: AccountLock | null;
  ordersToday: number;
  reserved: UserReservation;
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

/** A Durable Object's SQL statement binds at most 100 parameters (`inGroupsOf` keeps to it). */
const RESERVATIONS_PER_STATEMENT = 10;
const COUNTERS_PER_STATEMENT = 33;

type LockRow = {
  day: string;
  at: number;
  loss_percent: number;
  unlocked_at: number | null;
  unlocked_by: string | null;
};
const LOCK_COLUMNS = "day, at, loss_percent, unlocked_at, unlocked_by";
const lockFrom = (row: LockRow): AccountLock => ({
  day: row.day,
  at: row.at,
  lossPercent: row.loss_percent,
  unlockedAt: row.unlocked_at,
  unlockedBy: row.unlocked_by,
});

/** How long a source id is remembered: well beyond any redelivery. */
const SOURCE_MEMORY_MS = 7 * 24 * 3600_000;

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

  /**
   * Each member's pause, circuit-breaker lock, today's order count and reservations, in four queries however many
   * members: what a fan-out step reads before it decides. Members without any have none.
   */
  membersState(userIds: readonly string[], day: string, now: number): Map<string, MemberState> {
    const ids = JSON.stringify(userIds);
    type Row = {
      user_id: string;
      notional: number;
      open_positions: number;
      symbol: string | null;
      closing_instrument: string | null;
      closing_quantity: number;
      position_key: string | null;
    };
    const rows = new Map<string, Omit<MemberState, "reserved"> & { reservations: Row[] }>();
    for (const userId of userIds) rows.set(userId, { paused: null, lock: null, ordersToday: 0, reservations: [] });
    for (const row of this.sql.exec<{ user_id: string; until: number; reason: string }>(
      "select user_id, until, reason from pauses where user_id in (select value from json_each(?)) and until > ?",
      ids,
      now,
    )) {
      const member = rows.get(row.user_id);
      if (member) member.paused = { until: row.until, reason: row.reason };
    }
    for (const row of this.sql.exec<LockRow & { user_id: string }>(
      `select user_id, ${LOCK_COLUMNS} from locks where user_id in (select value from json_each(?))`,
      ids,
    )) {
      const member = rows.get(row.user_id);
      if (member) member.lock = lockFrom(row);
    }
    for (const row of this.sql.exec<{ key: string; value: number }>(
      "select key, value from counters where day = ? and key in (select 'orders:' || value from json_each(?))",
      day,
      ids,
    )) {
      const member = rows.get(row.key.slice("orders:".length));
      if (member) member.ordersToday = row.value;
    }
    // In each member's own order, so the sums are the same as reading one member at a time.
    for (const row of this.sql.exec<Row>(
      `select user_id, notional, open_positions, symbol, closing_instrument, closing_quantity, position_key
        from reservations where user_id in (select value from json_each(?)) order by user_id, rowid`,
      ids,
    )) {
      rows.get(row.user_id)?.reservations.push(row);
    }
    const state = new Map<string, MemberState>();
    for (const [userId, member] of rows) {
      const closing: Record<string, number> = {};
      const entries: Record<string, number> = {};
      for (const row of member.reservations) {
        if (row.closing_instrument && row.closing_quantity > 0) {
          closing[row.closing_instrument] = (closing[row.closing_instrument] ?? 0) + row.closing_quantity;
        }
        if (row.position_key) entries[row.position_key] = (entries[row.position_key] ?? 0) + row.notional;
      }
      state.set(userId, {
        paused: member.paused,
        lock: member.lock,
        ordersToday: member.ordersToday,
        reserved: {
          notional: member.reservations.reduce((sum, r) => sum + r.notional, 0),
          openPositions: member.reservations.reduce((sum, r) => sum + r.open_positions, 0),
          symbols: member.reservations.flatMap((r) => (r.symbol ? [r.symbol] : [])),
          closing,
          entries,
        },
      });
    }
    return state;
  }

  /** Reserves what each order holds of its member's limits, ten orders a statement (amounts bound exactly). */
  reserve(entries: readonly { orderId: string; userId: string; reservation: OrderReservation }[], at: number): void {
    for (const rows of inGroupsOf(entries, RESERVATIONS_PER_STATEMENT)) {
      this.sql.exec(
        `insert or ignore into reservations (order_id, user_id, notional, open_positions, symbol, closing_instrument,
          closing_quantity, position_key, created_at, expires_at)
          values ${rows.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
        ...rows.flatMap(({ orderId, userId, reservation }) => [
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
        ]),
      );
    }
  }

  /** Adds to many of one day's counters, thirty a statement. */
  addCounters(day: string, deltas: ReadonlyMap<string, number>): void {
    for (const rows of inGroupsOf([...deltas], COUNTERS_PER_STATEMENT)) {
      this.sql.exec(
        `insert into counters (day, key, value) values ${rows.map(() => "(?, ?, ?)").join(", ")}
          on conflict(day, key) do update set value = value + excluded.value`,
        ...rows.flatMap(([key, delta]) => [day, key, delta]),
      );
    }
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
    const row = this.one<LockRow>(`select ${LOCK_COLUMNS} from locks where user_id = ?`, userId);
    return row ? lockFrom(row) : null;
  }

  /** The member's pause (the daily loss limit's or the circuit breaker's) while it lasts. */
  pausedUntil(userId: string, now: number): { until: number; reason: string } | null {
    const row = this.one<{ until: number; reason: string }>(
      "select until, reason from pauses where user_id = ?",
      userId,
    );
    return row && row.until > now ? row : null;
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

  /**
   * Forgets everything this object keeps about one member (erased from the community): their paper account, pause,
   * circuit-breaker lock, reservations and confirmations. The caller made sure nothing of theirs is still working.
   */
  forgetMember(userId: string): void {
    for (const table of ["paper_accounts", "pauses", "locks", "reservations", "confirmations"]) {
      this.sql.exec(`delete from ${table} where user_id = ?`, userId);
    }
  }

  loadPaperAccount<T>(userId: string): T | null {
    const row = this.one<{ state: string }>("select state from paper_accounts where user_id = ?", userId);
    return row ? (JSON.parse(row.state) as T) : null;
  }

  /** The paper accounts of many members, in one query (members without one are absent). */
  loadPaperAccounts<T>(userIds: readonly string[]): Map<string, T> {
    const accounts = new Map<string, T>();
    for (const row of this.sql.exec<{ user_id: string; state: string }>(
      "select user_id, state from paper_accounts where user_id in (select value from json_each(?))",
      JSON.stringify(userIds),
    )) {
      accounts.set(row.user_id, JSON.parse(row.state) as T);
    }
    return accounts;
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

  track(
    order: Pick<
      OrderRow,
      "id" | "userId" | "broker" | "brokerOrderId" | "orderType" | "status" | "filledQuantity" | "stopPrice"
    >,
    submittedAt: number,
    dueAt: number,
  ): void {
    this.sql.exec(
      `insert into tracking (order_id, due_at, submitted_at, user_id, broker, broker_order_id, order_type, status,
        filled_quantity, stop_price) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict(order_id) do update set
        due_at = excluded.due_at, user_id = excluded.user_id, broker = excluded.broker,
        broker_order_id = excluded.broker_order_id, order_type = excluded.order_type, status = excluded.status,
        filled_quantity = excluded.filled_quantity, stop_price = excluded.stop_price`,
      order.id,
      dueAt,
      submittedAt,
      order.userId,
      order.broker,
      order.brokerOrderId,
      order.orderType,
      order.status,
      order.filledQuantity,
      order.stopPrice,
    );
  }

  /** The next follow-up of an order whose state has not changed since the last one. */
  followUpAgain(orderId: string, dueAt: number): void {
    this.sql.exec("update tracking set due_at = ? where order_id = ?", dueAt, orderId);
  }

  untrack(orderId: string): void {
    this.sql.exec("delete from tracking where order_id = ?", orderId);
  }

  dueTracking(now: number, limit = 200): DueFollowUp[] {
    return this.sql
      .exec<{
        order_id: string;
        submitted_at: number;
        user_id: string | null;
        broker: string | null;
        broker_order_id: string | null;
        order_type: string | null;
        status: string | null;
        filled_quantity: number | null;
        stop_price: number | null;
      }>(
        `select order_id, submitted_at, user_id, broker, broker_order_id, order_type, status, filled_quantity,
          stop_price from tracking where due_at <= ? order by due_at limit ?`,
        now,
        limit,
      )
      .toArray()
      .map((r) => ({
        orderId: r.order_id,
        submittedAt: r.submitted_at,
        last:
          r.user_id !== null && r.broker !== null && r.order_type !== null && r.status !== null
            ? {
                userId: r.user_id,
                broker: r.broker as OrderRow["broker"],
                brokerOrderId: r.broker_order_id,
                orderType: r.order_type as OrderRow["orderType"],
                status: r.status as OrderRow["status"],
                filledQuantity: r.filled_quantity ?? 0,
                stopPrice: r.stop_price,
              }
            : null,
      }));
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
