import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { PayloadTooLargeError } from "../../../shared/errors";
import type { AppEnv } from "../context";

export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

export interface BodyLimitOverride {
  /** Applies to paths starting with this prefix; the longest matching prefix wins. */
  pathPrefix: string;
  maxBytes: number;
}

/**
 * One body-size gate for the whole app, 64 KiB unless a route prefix says otherwise.
 * Checks the declared length and also counts a streamed body, answering 413 either way.
 */
export function bodyLimit(overrides: readonly BodyLimitOverride[] = [], defaultBytes = DEFAULT_BODY_LIMIT_BYTES) {
  const sorted = [...overrides].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
  const limiters = new Map<number, ReturnType<typeof honoBodyLimit>>();
  const limiterFor = (maxBytes: number) => {
    let limiter = limiters.get(maxBytes);
    if (!limiter) {
      limiter = honoBodyLimit({
        maxSize: maxBytes,
        onError: () => {
          throw new PayloadTooLargeError(maxBytes);
        },
      });
      limiters.set(maxBytes, limiter);
    }
    return limiter;
  };

  return createMiddleware<AppEnv>(async (c, next) => {
    const maxBytes = sorted.find((o) => c.req.path.startsWith(o.pathPrefix))?.maxBytes ?? defaultBytes;
    await limiterFor(maxBytes)(c, next);
  });
}
