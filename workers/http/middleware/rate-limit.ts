import { createMiddleware } from "hono/factory";
import { rateLimiterFor } from "../../../platform/objects";
import { RateLimitedError, ServiceUnavailableError } from "../../../shared/errors";
import { assertValidPolicy, type RateLimitPolicy } from "../../../shared/rate-limit";
import { clientSubject } from "../client-ip";
import type { AppContext, AppEnv } from "../context";

type RateLimitKeyBy = "ip" | "user" | "route";

export interface RateLimitOptions extends RateLimitPolicy {
  /** Names the limit, so two limits on one route do not share a bucket. */
  name: string;
  keyBy: RateLimitKeyBy;
}

/**
 * Asks the key's RateLimiter object before the handler runs; 429 with
 * Retry-After when the budget is spent. Per-IP limits key on
 * `cf-connecting-ip` only (see client-ip.ts). If the limiter cannot be reached the
 * request is refused (503): a limit that silently stops limiting is a hole.
 */
export function rateLimit(options: RateLimitOptions) {
  assertValidPolicy(options);
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = `${options.name}:${options.keyBy}:${subjectFor(c, options.keyBy)}`;
    let result: { allowed: boolean; remaining: number; retryAfterMs: number };
    try {
      result = await rateLimiterFor(c.env, key).limit(key, {
        limit: options.limit,
        periodMs: options.periodMs,
      });
    } catch (error) {
      c.get("logger").error("rate_limiter.unavailable", { limiter: options.name, error });
      throw new ServiceUnavailableError(
        "Rate limiting is unavailable; try again shortly.",
        "RATE_LIMITER_UNAVAILABLE",
        {
          retryAfterSeconds: 1,
        },
      );
    }
    c.header("ratelimit-limit", String(options.limit));
    c.header("ratelimit-remaining", String(result.remaining));
    if (!result.allowed) throw new RateLimitedError(result.retryAfterMs);
    await next();
  });
}

function subjectFor(c: AppContext, keyBy: RateLimitKeyBy): string {
  switch (keyBy) {
    case "ip":
      return clientSubject(c);
    case "user":
      return c.get("userId") ?? `anon:${clientSubject(c)}`;
    case "route":
      return `${c.req.method} ${c.req.routePath}`;
  }
}
