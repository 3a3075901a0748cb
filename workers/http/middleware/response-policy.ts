import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";

/** Paths whose answers hold account data, sessions or signed links: no browser or proxy may keep a copy. */
const UNCACHEABLE_PREFIXES = ["/api/", "/billing/", "/auth/", "/app/"] as const;

/**
 * A static page runs no script and loads nothing; a page that needs more sets its own policy.
 * `frame-ancestors` and `form-action` do not fall back to `default-src`, so they are named.
 */
const STATIC_HTML_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Headers that depend on what is answered, set after the handler (and after
 * the error handler, so error answers carry them too): `Cache-Control:
 * no-store` under /api and /billing, and a locked-down CSP on HTML.
 */
export const responsePolicy = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const path = c.req.path;
  if (UNCACHEABLE_PREFIXES.some((prefix) => path.startsWith(prefix) || path === prefix.slice(0, -1))) {
    c.header("cache-control", "no-store");
  }
  const isHtml = c.res.headers.get("content-type")?.toLowerCase().startsWith("text/html") ?? false;
  if (isHtml && !c.res.headers.has("content-security-policy")) {
    c.header("content-security-policy", STATIC_HTML_CSP);
  }
});
