import type { SubmitSignalInput } from "../../shared/execution/submit";
import { emptyCounts, type FanOutCounts } from "../../shared/execution/summary";

/**
 * pending: the signal passed the gates, nothing is counted yet; running: it is
 * counted and its followers are being planned; done / refused: finished.
 */
export type FanOutStatus = "pending" | "running" | "done" | "refused";

export interface FanOutRun {
  signalId: string;
  input: SubmitSignalInput;
  status: FanOutStatus;
  /** The last follower (by user id) already planned; the next step starts after it. */
  cursor: string | null;
  /** Every follower has been planned (or the rest was given up). */
  planned: boolean;
  /** For an exit that names a quantity: the provider's position it is a part of. */
  exitBase: number | null;
  /** A same-direction add within the double-post window: the signal it is combined with into one position. */
  combinesWith: string | null;
  counts: FanOutCounts;
  startedAt: number;
  updatedAt: number;
}

/** A run still unfinished this long after its last step is taken up by the sweeper (if nobody runs it). */
export const FAN_OUT_RESUME_AFTER_MS = 30_000;
/** Finished runs are kept this long (the source memory answers duplicates for longer). */
const FINISHED_MEMORY_MS = 24 * 3600_000;

/**
 * The fan-out of each accepted signal, step by step, in the executor's own
 * SQLite: where it stopped (a cursor over followers by user id) and what it
 * counted. A retry of the signal or the sweeper continues from there, so a
 * failure or restart part way never leaves the rest of the followers unsent.
 */
export class FanOutJournal {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      `create table if not exists fanouts (signal_id text primary key, input text not null, status text not null,
        cursor text, planned integer not null default 0, exit_base real, counts text not null,
        started_at integer not null, updated_at integer not null)`,
    );
    sql.exec("create index if not exists fanouts_status on fanouts (status, updated_at)");
    const columns = sql
      .exec<{ name: string }>("pragma table_info(fanouts)")
      .toArray()
      .map((c) => c.name);
    if (!columns.includes("combines_with")) sql.exec("alter table fanouts add column combines_with text");
  }

  open(input: SubmitSignalInput, now: number, combinesWith: string | null = null): FanOutRun {
    const counts = emptyCounts();
    this.sql.exec(
      "insert or ignore into fanouts (signal_id, input, status, counts, started_at, updated_at, combines_with) values (?, ?, 'pending', ?, ?, ?, ?)",
      input.signalId,
      JSON.stringify(input),
      JSON.stringify(counts),
      now,
      now,
      combinesWith,
    );
    return this.get(input.signalId) as FanOutRun;
  }

  get(signalId: string): FanOutRun | null {
    const [row] = this.sql
      .exec<{
        signal_id: string;
        input: string;
        status: string;
        cursor: string | null;
        planned: number;
        exit_base: number | null;
        counts: string;
        started_at: number;
        updated_at: number;
        combines_with: string | null;
      }>("select * from fanouts where signal_id = ?", signalId)
      .toArray();
    if (!row) return null;
    return {
      signalId: row.signal_id,
      input: JSON.parse(row.input) as SubmitSignalInput,
      status: row.status as FanOutStatus,
      cursor: row.cursor,
      planned: row.planned === 1,
      exitBase: row.exit_base,
      combinesWith: row.combines_with,
      counts: JSON.parse(row.counts) as FanOutCounts,
      startedAt: row.started_at,
      updatedAt: row.updated_at,
    };
  }

  /** Saves a step: status, cursor and counts together (call it in the step's synchronous part). */
  save(run: Pick<FanOutRun, "signalId" | "status" | "cursor" | "planned" | "exitBase" | "counts">, now: number): void {
    this.sql.exec(
      "update fanouts set status = ?, cursor = ?, planned = ?, exit_base = ?, counts = ?, updated_at = ? where signal_id = ?",
      run.status,
      run.cursor,
      run.planned ? 1 : 0,
      run.exitBase,
      JSON.stringify(run.counts),
      now,
      run.signalId,
    );
  }

  /** Runs that are neither finished nor refused, oldest first. */
  unfinished(limit = 20): FanOutRun[] {
    return this.sql
      .exec<{ signal_id: string }>(
        "select signal_id from fanouts where status in ('pending', 'running') order by started_at limit ?",
        limit,
      )
      .toArray()
      .flatMap((r) => {
        const run = this.get(r.signal_id);
        return run ? [run] : [];
      });
  }

  /** When the sweeper should look at unfinished runs again. */
  nextDue(): number | null {
    const [row] = this.sql
      .exec<{ due: number | null }>("select min(updated_at) as due from fanouts where status in ('pending', 'running')")
      .toArray();
    return row?.due == null ? null : row.due + FAN_OUT_RESUME_AFTER_MS;
  }

  prune(now: number): void {
    this.sql.exec(
      "delete from fanouts where status in ('done', 'refused') and updated_at < ?",
      now - FINISHED_MEMORY_MS,
    );
  }
}
