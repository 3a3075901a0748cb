import { DurableObject } from "cloudflare:workers";
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
  }

  /** Callers validate the policy once, where it is declared (assertValidPolicy). */
  limit(key: string, policy: RateLimitPolicy, cost = 1): LimitResult {
    const now = Date.now();
    const row = this.ctx.storage.sql.exec<{ tat: number }>("SELECT tat FROM buckets WHERE key = ?", key).toArray()[0];
    const decision = gcra(policy, row?.tat, now, cost);
    if (decision.allowed) {
      const expiresAt = decision.tat + policy.periodMs;
      this.ctx.storage.sql.exec(
        "INSERT INTO buckets (key, tat, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET tat = excluded.tat, expires_at = excluded.expires_at",
        key,
        decision.tat,
        expiresAt,
      );
      // After the write, so it cannot affect the count; a failure only delays cleanup.
      this.scheduleCleanup(expiresAt).catch((error: unknown) =>
        rootLogger.error("rate_limiter.cleanup_schedule_failed", { error }),
      );
    }
    return { allowed: decision.allowed, remaining: decision.remaining, retryAfterMs: decision.retryAfterMs };
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
