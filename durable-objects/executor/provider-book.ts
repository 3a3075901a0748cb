import { instrumentKey } from "../../shared/risk/instruments";
import { afterSignal, type ProviderPosition } from "../../shared/risk/provider-positions";
import type { PositionDirection, RiskSignal } from "../../shared/risk/types";

/** A provider silent on an instrument this long is forgotten there (their next entry starts afresh). */
const FORGET_AFTER_MS = 90 * 24 * 3600_000;

/**
 * Each provider's own position per instrument, as their accepted signals
 * state it, in the executor's own SQLite. An exit that names a quantity is
 * executed as the fraction it is of this position.
 */
export class ProviderBook {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      `create table if not exists provider_positions (provider text not null, instrument text not null,
        direction text not null, quantity real, updated_at integer not null, primary key (provider, instrument, direction))`,
    );
  }

  /** The provider's positions in the signal's instrument. */
  held(provider: string, signal: RiskSignal): ProviderPosition[] {
    return this.sql
      .exec<{ instrument: string; direction: string; quantity: number | null }>(
        "select instrument, direction, quantity from provider_positions where provider = ? and instrument = ?",
        provider,
        instrumentKey(signal),
      )
      .toArray()
      .map((r) => ({ instrument: r.instrument, direction: r.direction as PositionDirection, quantity: r.quantity }));
  }

  /** Records an accepted signal (in the same synchronous step that counts it). */
  apply(provider: string, signal: RiskSignal, now: number): void {
    const next = afterSignal(this.held(provider, signal), signal);
    this.sql.exec(
      "delete from provider_positions where provider = ? and instrument = ?",
      provider,
      instrumentKey(signal),
    );
    for (const position of next) {
      this.sql.exec(
        "insert into provider_positions (provider, instrument, direction, quantity, updated_at) values (?, ?, ?, ?, ?)",
        provider,
        position.instrument,
        position.direction,
        position.quantity,
        now,
      );
    }
  }

  prune(now: number): void {
    this.sql.exec("delete from provider_positions where updated_at < ?", now - FORGET_AFTER_MS);
  }
}
