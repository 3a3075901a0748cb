import { createMiddleware } from "hono/factory";
import { redactSecretPaths, rootLogger } from "../../../shared/logging";
import type { AppEnv } from "../context";
import { handlerRoute } from "../matched-route";

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Gives every request an id (Cloudflare's ray id when present), a logger that
 * carries it, the `x-request-id` response header, and one access log line
 * (its path without the credentials some paths carry).
 */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  const ray = c.req.header("cf-ray");
  const requestId = ray && REQUEST_ID.test(ray) ? ray : crypto.randomUUID();
  c.set("requestId", requestId);
  c.set("logger", rootLogger.child({ requestId }));

  await next();

  c.header("x-request-id", requestId);
  const status = c.res.status;
  c.get("logger").info("request", {
    method: c.req.method,
    path: redactSecretPaths(c.req.path),
    route: handlerRoute(c) ?? "(unmatched)",
    status,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
    communityId: c.get("communityId"),
    userId: c.get("userId"),
  });
});
