import type { AppContext } from "./context";

/**
 * This site's origin as browsers see it: PUBLIC_BASE_URL's (required in production), or, where it is not set
 * (development, tests), the request's own.
 */
export function publicOrigin(c: AppContext): string {
  const base = c.get("config").PUBLIC_BASE_URL;
  return new URL(base ?? c.req.url).origin;
}

/** The origins a browser mutation may come from: this site's, and the request's own (a local run on 127.0.0.1). */
export function allowedOrigins(c: AppContext): string[] {
  return [...new Set([publicOrigin(c), new URL(c.req.url).origin])];
}
