import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { authEventStore } from "../../../platform/db/auth-events";
import { database } from "../../../platform/db/client";
import { CSRF_FORM_FIELD, CSRF_HEADER, csrfToken, isAllowedOrigin, isFormLike } from "../../../shared/auth/csrf";
import { LOCAL_SESSION_COOKIE, SESSION_COOKIE } from "../../../shared/auth/session-token";
import { deviceLabel } from "../../../shared/auth/sign-in-alert";
import { constantTimeEqual } from "../../../shared/crypto/constant-time";
import { AppError } from "../../../shared/errors";
import { clientIp } from "../client-ip";
import type { AppContext, AppEnv } from "../context";
import { allowedOrigins } from "../public-origin";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Callers that are not browsers: Discord and the webhook senders sign their requests. */
const SERVER_TO_SERVER = (path: string) => path === "/interactions" || path.startsWith("/webhooks/");

export class CsrfRejectedError extends AppError {
  constructor(message: string) {
    super(403, "CSRF_REJECTED", message);
  }
}

/**
 * The Origin half of CSRF protection, for every mutation (POST, PUT, PATCH, DELETE) a browser could send. A request
 * whose `Origin` is another site's is refused (403 CSRF_REJECTED), and so is one without `Origin` that carries the
 * session cookie or that `Sec-Fetch-Site` calls cross-site (a browser always sends `Origin` on a mutation). Exempt:
 * requests with `Authorization` (operators; a cross-site page cannot set it without a preflight this app never
 * grants), Discord's `/interactions` and the signed `/webhooks/`. The token half is `assertCsrfToken`, run where the
 * session is known.
 */
export const csrfOrigin = createMiddleware<AppEnv>(async (c, next) => {
  if (SAFE_METHODS.has(c.req.method) || SERVER_TO_SERVER(c.req.path) || c.req.header("authorization") !== undefined) {
    return next();
  }
  const origin = c.req.header("origin");
  if (origin !== undefined) {
    if (!isAllowedOrigin(origin, allowedOrigins(c))) {
      await refuse(c, "origin_mismatch", "This request came from another site and was refused.");
    }
    return next();
  }
  const fetchSite = c.req.header("sec-fetch-site");
  if (fetchSite === "cross-site" || fetchSite === "same-site") {
    await refuse(c, "cross_site_fetch", "This request came from another site and was refused.");
  }
  if (carriesSession(c)) {
    await refuse(c, "origin_missing", "A signed-in browser request must say where it comes from (Origin).");
  }
  return next();
});

const carriesSession = (c: AppContext) =>
  getCookie(c, SESSION_COOKIE) !== undefined || getCookie(c, LOCAL_SESSION_COOKIE) !== undefined;

/**
 * The token half, for a mutation made with a session: a form (or any body a cross-site page could send without a
 * preflight) must carry the session's CSRF token in its `csrf_token` field or the `x-csrf-token` header. JSON
 * requests are covered by the Origin check and the preflight a cross-origin JSON body needs.
 */
export async function assertCsrfToken(c: AppContext, secret: string, sessionId: string): Promise<void> {
  if (SAFE_METHODS.has(c.req.method) || !isFormLike(c.req.header("content-type"))) return;
  const sent = c.req.header(CSRF_HEADER) ?? (await formField(c, CSRF_FORM_FIELD));
  if (!sent || !(await constantTimeEqual(sent, await csrfToken(secret, sessionId)))) {
    await refuse(c, sent ? "token_mismatch" : "token_missing", "This form has expired: reload the page and try again.");
  }
}

async function formField(c: AppContext, name: string): Promise<string | undefined> {
  const type = c.req.header("content-type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined;
  const value = (await c.req.parseBody())[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * Logs the refusal and, when it carried a session cookie (a forgery aimed at a signed-in browser, not a bot's stray
 * POST), records it without a user (a forged request proves nobody's identity); then throws it.
 */
async function refuse(c: AppContext, reason: string, message: string): Promise<never> {
  const origin = c.req.header("origin") ?? null;
  c.get("logger").warn("csrf.rejected", { reason, method: c.req.method, path: c.req.path, origin });
  if (!carriesSession(c)) throw new CsrfRejectedError(message);
  try {
    await authEventStore(database(c.env.DB)).record({
      event: "auth.csrf_rejected",
      userId: null,
      sessionId: null,
      method: `${c.req.method} ${c.req.path}`.slice(0, 200),
      reason,
      ip: clientIp(c),
      userAgent: c.req.header("user-agent") ?? null,
      country: null,
      device: deviceLabel(c.req.header("user-agent")),
      requestId: c.get("requestId"),
    });
  } catch (error) {
    c.get("logger").error("csrf.record_failed", { error });
  }
  throw new CsrfRejectedError(message);
}
