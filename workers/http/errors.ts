import type { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, MethodNotAllowedError, NotFoundError, toAppError, ValidationError } from "../../shared/errors";
import type { AppContext, AppEnv } from "./context";
import { errorPage, wantsErrorPage } from "./html-page";
import { handlerRoute } from "./matched-route";

/**
 * Turns any throw into the JSON error body (a readable page for a browser outside `/api/`); 5xx are logged with
 * their cause, never sent.
 */
export function handleError(error: unknown, c: AppContext): Response {
  const appError = error instanceof HTTPException ? fromHttpException(error) : toAppError(error);
  const requestId = c.get("requestId") ?? crypto.randomUUID();
  const logger = c.get("logger");
  if (appError.status >= 500) {
    const cause = appError.cause ?? (appError === error ? undefined : error);
    logger?.error("request.failed", {
      route: handlerRoute(c) ?? "(unmatched)",
      communityId: c.get("communityId"),
      errorCode: appError.code,
      status: appError.status,
      error: cause instanceof Error ? { name: cause.name, message: cause.message, stack: cause.stack } : cause,
    });
  } else {
    logger?.warn("request.rejected", { errorCode: appError.code, status: appError.status });
  }
  const headers = { ...appError.headers, "x-request-id": requestId };
  if (wantsErrorPage(c))
    return c.html(errorPage(appError, requestId), appError.status as ContentfulStatusCode, headers);
  return c.json(appError.toBody(requestId), appError.status as ContentfulStatusCode, headers);
}

function fromHttpException(error: HTTPException): AppError {
  if (error.status === 400) return new ValidationError(error.message || "Bad request.");
  return new AppError(error.status, "HTTP_ERROR", error.message || "Request failed.");
}

/**
 * 404 for unknown paths, 405 (with Allow) when the path exists under another
 * method. Paths match exactly as the router matches them (strict: a trailing
 * slash is another path), so `GET /health/` is a 404, not a 405.
 */
export function notFoundOrMethodNotAllowed(app: Hono<AppEnv>) {
  return (c: AppContext): Response => {
    const allowed = allowedMethods(app, c.req.path);
    const error =
      allowed.length > 0
        ? new MethodNotAllowedError(c.req.method, allowed)
        : new NotFoundError(`No route for ${c.req.method} ${c.req.path}.`, "ROUTE_NOT_FOUND");
    return handleError(error, c);
  };
}

const patternCache = new Map<string, RegExp>();

function allowedMethods(app: Hono<AppEnv>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL" || route.path.endsWith("*")) continue; // middleware registrations
    if (routePattern(route.path).test(path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}

function routePattern(path: string): RegExp {
  let pattern = patternCache.get(path);
  if (!pattern) {
    const source = path
      .split("/")
      .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("/");
    pattern = new RegExp(`^${source}$`);
    patternCache.set(path, pattern);
  }
  return pattern;
}
