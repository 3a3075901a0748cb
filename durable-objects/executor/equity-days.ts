import { type EquityDay, observeEquity } from "../../shared/risk/daily-loss";
import { inGroupsOf } from "./sql-groups";

/** A Durable Object's SQL statement binds at most 100 parameters. */
const DAYS_PER_STATEMENT = 16;

/** Days without a sighting after which an account's day is forgotten (its next sighting starts afresh). */
const FORGET_AFTER_MS = 30 * 24 * 3600_000;

/**
 * Each account's trading day (start-of-day equity, intraday peak, last
 * equity) in the executor's own SQLite, for the daily loss limit and the
 * circuit breaker. Updated synchronously wherever the executor reads or
 * changes an account, so the peak is as high as any equity it has seen.
 */
export class EquityDays {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      `create table if not exists equity_days (account text primary key, day text not null, start_equity real not null,
        peak_equity real not null, last_equity real not null, seen_at integer not null)`,
    );
  }

  /** Records an equity seen now and returns the account's day. */
  observe(
    account: string,
    equity: number,
    now: number,
    brokerStartOfDay: { date: string; startEquity: number } | null,
  ): EquityDay {
    const next = observeEquity(this.get(account), equity, now, brokerStartOfDay);
    this.sql.exec(
      `insert into equity_days (account, day, start_equity, peak_equity, last_equity, seen_at) values (?, ?, ?, ?, ?, ?)
        on conflict(account) do update set day = excluded.day, start_equity = excluded.start_equity,
        peak_equity = excluded.peak_equity, last_equity = excluded.last_equity, seen_at = excluded.seen_at`,
      account,
      next.day,
      next.startEquity,
      next.peakEquity,
      next.lastEquity,
      now,
    );
    return next;
  }

  /** `observe` for many accounts at once: one read, and one write per ten accounts. */
  observeMany(
    sightings: readonly {
      account: string;
      equity: number;
      brokerStartOfDay: { date: string; startEquity: number } | null;
    }[],
    now: number,
  ): Map<string, EquityDay> {
    const known = new Map<string, EquityDay>();
    for (const row of this.sql.exec<{
      account: string;
      day: string;
      start_equity: number;
      peak_equity: number;
      last_equity: number;
    }>(
      "select account, day, start_equity, peak_equity, last_equity from equity_days where account in (select value from json_each(?))",
      JSON.stringify(sightings.map((s) => s.account)),
    )) {
      known.set(row.account, {
        day: row.day,
        startEquity: row.start_equity,
        peakEquity: row.peak_equity,
        lastEquity: row.last_equity,
      });
    }
    const days = new Map<string, EquityDay>();
    for (const { account, equity, brokerStartOfDay } of sightings) {
      const next = observeEquity(days.get(account) ?? known.get(account) ?? null, equity, now, brokerStartOfDay);
      days.set(account, next);
    }
    for (const rows of inGroupsOf([...days], DAYS_PER_STATEMENT)) {
      this.sql.exec(
        `insert into equity_days (account, day, start_equity, peak_equity, last_equity, seen_at)
          values ${rows.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")}
          on conflict(account) do update set day = excluded.day, start_equity = excluded.start_equity,
          peak_equity = excluded.peak_equity, last_equity = excluded.last_equity, seen_at = excluded.seen_at`,
        ...rows.flatMap(([account, day]) => [account, day.day, day.startEquity, day.peakEquity, day.lastEquity, now]),
      );
    }
    return days;
  }

  /** An account's day as last seen (a member's data export), or null. */
  dayOf(account: string): EquityDay | null {
    return this.get(account);
  }

  /** Forgets an account's day (a member erased from the community). */
  forget(account: string): void {
    this.sql.exec("delete from equity_days where account = ?", account);
  }

  private get(account: string): EquityDay | null {
    const [row] = this.sql
      .exec<{ day: string; start_equity: number; peak_equity: number; last_equity: number }>(
        "select day, start_equity, peak_equity, last_equity from equity_days where account = ?",
        account,
      )
      .toArray();
    return row
      ? { day: row.day, startEquity: row.start_equity, peakEquity: row.peak_equity, lastEquity: row.last_equity }
      : null;
  }

  prune(now: number): void {
    this.sql.exec("delete from equity_days where seen_at < ?", now - FORGET_AFTER_MS);
  }
}
