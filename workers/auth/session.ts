import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { database } from "../../platform/db/client";
import { LAST_SEEN_RESOLUTION_MS, sessionStore } from "../../platform/db/sessions";
import { csrfToken } from "../../shared/auth/csrf";
import { safeReturnPath } from "../../shared/auth/discord-oauth";
import {
  newSessionExpiry,
  newSessionId,
  renewedExpiry,
  type SessionClaims,
  SessionTokenError,
  sessionCookieFor,
  signSessionToken,
  verifySessionToken,
} from "../../shared/auth/session-token";
import { ServiceUnavailableError, UnauthorizedError } from "../../shared/errors";
import { clientIp } from "../http/client-ip";
import type { AppContext, AppEnv } from "../http/context";
import { assertCsrfToken } from "../http/middleware/csrf";
import { revokeSession } from "./revocation";

/** A request's verified browser session. */
export interface AuthenticatedSession {
  userId: string;
  sessionId: string;
  /** When the token was issued (ms): sliding renewal looks at it. */
  issuedAt: number;
  expiresAt: number;
  createdAt: number;
  /** When this session last verified the member's second factor (MFA), or null: what a step-up reads. */
  mfaVerifiedAt: number | null;
}

/** Which cookie carries the session for this request (see `sessionCookieFor` in shared/auth/session-token.ts). */
function sessionCookie(c: AppContext): { name: string; secure: boolean } {
  return sessionCookieFor(c.req.url, c.get("config").ENVIRONMENT);
}

function sessionSecret(c: AppContext): string {
  const secret = c.get("config").SESSION_SECRET;
  if (!secret) {
    throw new ServiceUnavailableError(
      "Browser sessions are not configured (SESSION_SECRET).",
      "FEATURE_NOT_CONFIGURED",
    );
  }
  return secret;
}

const unauthorized = (problem: string) =>
  problem === "expired"
    ? new UnauthorizedError("Your session has expired: sign in again.", "SESSION_EXPIRED")
    : new UnauthorizedError("This session is not valid: sign in again.", "SESSION_INVALID");

/**
 * The browser session of a request, checked twice: the session cookie must
 * hold a token signed with SESSION_SECRET (algorithm, issuer, audience and
 * expiry checked), and its `jti` must name a live row in `sessions` for the
 * same user. Anything else answers 401 with one of SESSION_REQUIRED (no
 * cookie), SESSION_EXPIRED or SESSION_INVALID (forged, tampered, revoked,
 * unknown), logged with the problem, never the token.
 */
export async function authenticateSession(c: AppContext, alongside?: AlongsideSession): Promise<AuthenticatedSession> {
  const secret = sessionSecret(c);
  const token = getCookie(c, sessionCookie(c).name);
  if (!token) throw new UnauthorizedError("Sign in first: this needs a session.", "SESSION_REQUIRED");

  const now = Date.now();
  let claims: SessionClaims;
  try {
    claims = await verifySessionToken(secret, token, { nowMs: now });
  } catch (error) {
    const problem = error instanceof SessionTokenError ? error.problem : "invalid";
    c.get("logger").warn("session.rejected", { problem });
    throw unauthorized(problem);
  }

  alongside?.(c, claims.userId);
  const sessions = sessionStore(database(c.env.DB));
  const row = await sessions.get(claims.sessionId);
  const problem = !row
    ? "unknown"
    : row.userId !== claims.userId
      ? "user_mismatch"
      : row.revokedAt !== null
        ? "revoked"
        : row.expiresAt <= now
          ? "expired"
          : null;
  if (problem || !row) {
    c.get("logger").warn("session.rejected", { problem, userId: claims.userId });
    throw unauthorized(problem ?? "unknown");
  }
  c.set("userId", row.userId);
  if (row.lastSeenAt === null || row.lastSeenAt < now - LAST_SEEN_RESOLUTION_MS) {
    c.executionCtx.waitUntil(
      sessions.touch(row.id, now).catch((error: unknown) => c.get("logger").warn("session.touch_failed", { error })),
    );
  }
  return {
    userId: row.userId,
    sessionId: row.id,
    issuedAt: claims.issuedAt,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
    mfaVerifiedAt: row.mfaVerifiedAt,
  };
}

/**
 * Route middleware: a verified session (401 otherwise), in `c.get("session")`
 * for the handler. A mutation sent as a form must also carry the session's
 * CSRF token (403 CSRF_REJECTED otherwise; the Origin check runs for every
 * route). A response that can carry a cookie (not a WebSocket's 101) also
 * renews the session when it is due (sliding renewal).
 */
export const requireSession = requireSessionWith();

/**
 * Work a route may start for the token's user while the session row is read (a lookup of its own, so the two D1
 * round trips overlap); its result must count only once the session is known to be live.
 */
export type AlongsideSession = (c: AppContext, userId: string) => void;

/** `requireSession`, starting `alongside` once the token's signature is verified. */
export function requireSessionWith(alongside?: AlongsideSession) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const session = await authenticateSession(c, alongside);
    await assertCsrfToken(c, sessionSecret(c), session.sessionId);
    c.set("session", session);
    await runRenewing(c, session, next);
  });
}

/**
 * `requireSession` for pages (`/app/...`): a browser without a live session is
 * sent to sign in (302 to `/auth/discord/login`, coming back to the page it
 * asked for) rather than answered 401.
 */
export const requirePageSession = createMiddleware<AppEnv>(async (c, next) => {
  let session: AuthenticatedSession;
  try {
    session = await authenticateSession(c);
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    const url = new URL(c.req.url);
    const back = safeReturnPath(`${url.pathname}${url.search}`);
    return c.redirect(`/auth/discord/login?next=${encodeURIComponent(back)}`, 302);
  }
  await assertCsrfToken(c, sessionSecret(c), session.sessionId);
  c.set("session", session);
  await runRenewing(c, session, next);
});

/** The signed-in user of a request that passed `requireSession` or `requirePageSession`. */
export function signedInUserId(c: AppContext): string {
  const session = c.get("session");
  if (!session) throw new Error("This route runs behind requireSession or requirePageSession.");
  return session.userId;
}

/** The CSRF token a page puts in its forms (`csrf_token`) for the request's session. */
export function csrfTokenFor(c: AppContext, session: AuthenticatedSession): Promise<string> {
  return csrfToken(sessionSecret(c), session.sessionId);
}

async function runRenewing(c: AppContext, session: AuthenticatedSession, next: () => Promise<void>) {
  await next();
  if (c.res.status === 101) return;
  try {
    await renewSessionIfDue(c, session);
  } catch (error) {
    c.get("logger").warn("session.renew_failed", { error });
  }
}

/**
 * Sliding renewal: a session whose token was issued over a day ago gets a new
 * token with the same `jti` and a new 7-day expiry (never past 30 days from
 * sign-in), in its row and its cookie. False when not due, or no longer live.
 */
export async function renewSessionIfDue(c: AppContext, session: AuthenticatedSession): Promise<boolean> {
  const secret = sessionSecret(c);
  const now = Date.now();
  const expiresAt = renewedExpiry(session, session, now);
  if (expiresAt === null) return false;
  if (!(await sessionStore(database(c.env.DB)).extend(session.sessionId, expiresAt, now))) return false;
  const token = await signSessionToken(
    secret,
    { userId: session.userId, sessionId: session.sessionId, expiresAt },
    { nowMs: now },
  );
  writeSessionCookie(c, token, expiresAt);
  return true;
}

/**
 * Signs a user in (the Discord OAuth callback's last step): a new `sessions`
 * row with the client's user agent and address, and its token in the cookie.
 */
export async function startSession(c: AppContext, userId: string): Promise<AuthenticatedSession> {
  const secret = sessionSecret(c);
  const now = Date.now();
  const sessionId = newSessionId();
  const expiresAt = newSessionExpiry(now);
  const row = await sessionStore(database(c.env.DB)).create({
    id: sessionId,
    userId,
    expiresAt,
    userAgent: c.req.header("user-agent") ?? null,
    ip: clientIp(c),
    now,
  });
  const token = await signSessionToken(secret, { userId, sessionId, expiresAt }, { nowMs: now });
  writeSessionCookie(c, token, expiresAt);
  c.get("logger").info("session.started", { userId, sessionId });
  return { userId, sessionId, issuedAt: now, expiresAt, createdAt: row.createdAt, mfaVerifiedAt: null };
}

/**
 * Signs the request's session out (`POST /auth/logout`): revokes its row,
 * which also closes its realtime sockets, and clears the cookie. True when a
 * live session was ended.
 */
export async function endSession(c: AppContext, session: AuthenticatedSession): Promise<boolean> {
  const ended = await revokeSession(c.env, c.get("logger"), session.sessionId);
  clearSessionCookie(c);
  c.get("logger").info("session.ended", { userId: session.userId, sessionId: session.sessionId, ended });
  return ended;
}

/**
 * The session cookie: `__Host-session` (no Domain, Path=/, Secure), HttpOnly,
 * SameSite=Lax, expiring with the session; on a plain-http loopback origin
 * outside production, the unprefixed local cookie without Secure.
 */
export function writeSessionCookie(c: AppContext, token: string, expiresAt: number): void {
  const { name, secure } = sessionCookie(c);
  setCookie(c, name, token, { path: "/", secure, httpOnly: true, sameSite: "Lax", expires: new Date(expiresAt) });
}

export function clearSessionCookie(c: AppContext): void {
  const { name, secure } = sessionCookie(c);
  deleteCookie(c, name, { path: "/", secure, httpOnly: true, sameSite: "Lax" });
}
