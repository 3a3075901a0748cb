import { DurableObject } from "cloudflare:workers";
import {
  admit,
  type BreakerState,
  type BreakerVerdict,
  CLOSED_BREAKER,
  record,
} from "../shared/execution/circuit-breaker";
import { rootLogger } from "../shared/logging";
import { gcra, type RateLimitPolicy } from "../shared/rate-limit";

export interface LimitResult {
  allowed: boolean;
  remaining: number;
  retryAfterMs: number;
}

/**
 * One object per rate-limit key (`env.RATE_LIMITER.getByName(key)`).
 * `limit()` reads and writes its state with the synchronous SQLite API and never
 * awaits in between, so concurrent calls cannot interleave and the count is exact.
 * An alarm deletes the state once the key has been idle for a full period.
 */
export class RateLimiter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tat REAL NOT NULL, expires_at REAL NOT NULL)",
    );
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS breakers (name TEXT PRIMARY KEY, state TEXT NOT NULL)");
  }

  /** A broker's circuit breaker lives in the object named `breaker:<broker>`; reads and writes are synchronous. */
  breakerAdmit(name: string): BreakerVerdict {
    const verdict = admit(this.breakerState(name), Date.now());
    this.saveBreaker(name, verdict.state);
    return verdict;
  }

  breakerRecord(name: string, ok: boolean): { state: BreakerState; changed: "opened" | "closed" | null } {
    const result = record(this.breakerState(name), ok, Date.now());
    this.saveBreaker(name, result.state);
    if (result.changed === "opened") {
      rootLogger.error("broker.circuit_opened", { alert: true, breaker: name, trips: result.state.trips });
    } else if (result.changed === "closed") {
      rootLogger.warn("broker.circuit_closed", { breaker: name });
    }
    return result;
  }

  breakerState(name: string): BreakerState {
    const row = this.ctx.storage.sql
      .exec<{ state: string }>("SELECT state FROM breakers WHERE name = ?", name)
      .toArray()[0];
    return row ? (JSON.parse(row.state) as BreakerState) : CLOSED_BREAKER;
  }

  private saveBreaker(name: string, state: BreakerState): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO breakers (name, state) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET state = excluded.state",
      name,
      JSON.stringify(state),
    );
  }

  /** Callers validate the policy once, where it is declared (assertValidPolicy). */
  limit(key: string, policy: RateLimitPolicy, cost = 1): LimitResult {
    return this.decide(key, policy, cost, true);
  }

  /**
   * Several limits on one subject (60 a minute and 500 an hour): allowed only when every limit allows, and then
   * each is spent; a refusal spends nothing. The wait is the longest of the refusing limits'. Synchronous like
   * limit(), so concurrent calls cannot overshoot any of them.
   */
  limitAll(limits: readonly { key: string; policy: RateLimitPolicy }[]): LimitResult {
    const now = Date.now();
    const decisions = limits.map(({ key, policy }) => ({ key, policy, decision: gcra(policy, this.tat(key), now) }));
    const refused = decisions.filter(({ decision }) => !decision.allowed);
    if (refused.length > 0) {
      return { allowed: false, remaining: 0, retryAfterMs: Math.max(...refused.map((r) => r.decision.retryAfterMs)) };
    }
    for (const { key, policy, decision } of decisions) this.store(key, decision.tat, decision.tat + policy.periodMs);
    return { allowed: true, remaining: Math.min(...decisions.map((d) => d.decision.remaining)), retryAfterMs: 0 };
  }

  /**
   * A budget of failures (operator sign-in attempts): once `policy.limit`
   * failures are spent, every attempt is refused, right or wrong, so a guess
   * cannot be confirmed while the key is throttled. A success spends nothing.
   * Synchronous like limit(), so concurrent attempts cannot overshoot.
   */
  attempt(key: string, policy: RateLimitPolicy, succeeded: boolean): LimitResult {
    return this.decide(key, policy, 1, !succeeded);
  }

  private decide(key: string, policy: RateLimitPolicy, cost: number, spend: boolean): LimitResult {
    const decision = gcra(policy, this.tat(key), Date.now(), cost);
    if (decision.allowed && !spend) {
      return { allowed: true, remaining: Math.min(policy.limit, decision.remaining + cost), retryAfterMs: 0 };
    }
    if (decision.allowed) this.store(key, decision.tat, decision.tat + policy.periodMs);
    return { allowed: decision.allowed, remaining: decision.remaining, retryAfterMs: decision.retryAfterMs };
  }

  private tat(key: string): number | undefined {
    return this.ctx.storage.sql.exec<{ tat: number }>("SELECT tat FROM buckets WHERE key = ?", key).toArray()[0]?.tat;
  }

  private store(key: string, tat: number, expiresAt: number): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO buckets (key, tat, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET tat = excluded.tat, expires_at = excluded.expires_at",
      key,
      tat,
      expiresAt,
    );
    // After the write, so it cannot affect the count; a failure only delays cleanup.
    this.scheduleCleanup(expiresAt).catch((error: unknown) =>
      rootLogger.error("rate_limiter.cleanup_schedule_failed", { error }),
    );
  }

  /** Readiness probe: proves the namespace answers. */
  ping(): "pong" {
    return "pong";
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.sql.exec("DELETE FROM buckets WHERE expires_at <= ?", now);
    const next = this.ctx.storage.sql
      .exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM buckets")
      .toArray()[0]?.next;
    if (next != null) await this.ctx.storage.setAlarm(next);
  }

  private async scheduleCleanup(expiresAt: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null) await this.ctx.storage.setAlarm(expiresAt);
  }
}
