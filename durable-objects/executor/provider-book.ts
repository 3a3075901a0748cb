import { instrumentKey } from "../../shared/risk/instruments";
import { afterSignal, type ProviderPosition } from "../../shared/risk/provider-positions";
import type { PositionDirection, RiskSignal } from "../../shared/risk/types";

/** A provider silent on an instrument this long is forgotten there (their next entry starts afresh). */
const FORGET_AFTER_MS = 90 * 24 * 3600_000;
/** How long what a signal changed is kept for taking it back (a provider's edit comes within 30 s). */
const UNDO_FOR_MS = 3600_000;

type Held = { instrument: string; direction: string; quantity: number | null };

/**
 * Each provider's own position per instrument, as their accepted signals
 * state it, in the executor's own SQLite. An exit that names a quantity is
 * executed as the fraction it is of this position. A signal its provider
 * withdraws (an edit) is taken back out while nothing later changed it.
 */
export class ProviderBook {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      `create table if not exists provider_positions (provider text not null, instrument text not null,
        direction text not null, quantity real, updated_at integer not null, primary key (provider, instrument, direction))`,
    );
    sql.exec(
      `create table if not exists provider_position_undo (signal_id text primary key, provider text not null,
        instrument text not null, before text not null, applied_at integer not null, seq integer not null)`,
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

  /**
   * Records an accepted signal (in the same synchronous step that counts it),
   * keeping what it replaced so that a withdrawal can take it back.
   */
  apply(provider: string, signalId: string, signal: RiskSignal, now: number): void {
    const held = this.held(provider, signal);
    const instrument = instrumentKey(signal);
    const seq = this.sql
      .exec<{ seq: number }>("select coalesce(max(seq), 0) + 1 as seq from provider_position_undo")
      .one().seq;
    this.sql.exec(
      "insert or replace into provider_position_undo (signal_id, provider, instrument, before, applied_at, seq) values (?, ?, ?, ?, ?, ?)",
      signalId,
      provider,
      instrument,
      JSON.stringify(held),
      now,
      seq,
    );
    this.replace(provider, instrument, afterSignal(held, signal), now);
  }

  /**
   * Takes a withdrawn signal back out of its provider's position. Only while
   * it is the last signal applied to that instrument for that provider:
   * "superseded" otherwise (the book is left as it is), "unknown" when it
   * was never applied or is too old.
   */
  revert(signalId: string, now: number): "reverted" | "superseded" | "unknown" {
    const undo = this.revertible(signalId);
    if (undo.state !== "revertible") return undo.state;
    const before = JSON.parse(undo.before) as Held[];
    this.replace(
      undo.provider,
      undo.instrument,
      before.map((p) => ({
        instrument: p.instrument,
        direction: p.direction as PositionDirection,
        quantity: p.quantity,
      })),
      now,
    );
    this.sql.exec("delete from provider_position_undo where signal_id = ?", signalId);
    return "reverted";
  }

  /** Whether `revert` would take the signal back now. */
  revertible(
    signalId: string,
  ):
    | { state: "revertible"; provider: string; instrument: string; before: string }
    | { state: "superseded" | "unknown" } {
    const undo = this.sql
      .exec<{ provider: string; instrument: string; before: string; seq: number }>(
        "select provider, instrument, before, seq from provider_position_undo where signal_id = ?",
        signalId,
      )
      .toArray()[0];
    if (!undo) return { state: "unknown" };
    const later = this.sql
      .exec<{ n: number }>(
        "select count(*) as n from provider_position_undo where provider = ? and instrument = ? and seq > ?",
        undo.provider,
        undo.instrument,
        undo.seq,
      )
      .one().n;
    if (later > 0) return { state: "superseded" };
    return { state: "revertible", provider: undo.provider, instrument: undo.instrument, before: undo.before };
  }

  prune(now: number): void {
    this.sql.exec("delete from provider_positions where updated_at < ?", now - FORGET_AFTER_MS);
    this.sql.exec("delete from provider_position_undo where applied_at < ?", now - UNDO_FOR_MS);
  }

  private replace(provider: string, instrument: string, positions: readonly ProviderPosition[], now: number): void {
    this.sql.exec("delete from provider_positions where provider = ? and instrument = ?", provider, instrument);
    for (const position of positions) {
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
}
