import { getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { sessionStore } from "../../platform/db/sessions";
import {
  renewedExpiry,
  SESSION_COOKIE,
  type SessionClaims,
  SessionTokenError,
  signSessionToken,
  verifySessionToken,
} from "../../shared/auth/session-token";
import { ServiceUnavailableError, UnauthorizedError } from "../../shared/errors";
import { database } from "../db/client";
import type { AppContext, AppEnv } from "../http/context";

/** A request's verified browser session. */
export interface AuthenticatedSession {
  userId: string;
  sessionId: string;
  /** When the token was issued (ms): sliding renewal looks at it. */
  issuedAt: number;
  expiresAt: number;
  createdAt: number;
}

/**
 * The browser session of a request, checked twice: the `__Host-session`
 * cookie must hold a token signed with SESSION_SECRET (algorithm, issuer,
 * audience and expiry checked), and its `jti` must name a live row in
 * `sessions` for the same user. Anything else answers 401 with one of
 * SESSION_REQUIRED (no cookie), SESSION_EXPIRED or SESSION_INVALID (forged,
 * tampered, revoked, unknown), logged without the token.
 */
export async function authenticateSession(c: AppContext): Promise<AuthenticatedSession> {
  const secret = c.get("config").SESSION_SECRET;
  if (!secret) {
    throw new ServiceUnavailableError(
      "Browser sessions are not configured (SESSION_SECRET).",
      "FEATURE_NOT_CONFIGURED",
    );
  }
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) throw new UnauthorizedError("Sign in first: this needs a session.", "SESSION_REQUIRED");

  const now = Date.now();
  let claims: SessionClaims;
  try {
    claims = await verifySessionToken(secret, token, { nowMs: now });
  } catch (error) {
    const problem = error instanceof SessionTokenError ? error.problem : "invalid";
    c.get("logger").warn("session.rejected", { problem });
    if (problem === "expired")
      throw new UnauthorizedError("Your session has expired: sign in again.", "SESSION_EXPIRED");
    throw new UnauthorizedError("This session is not valid: sign in again.", "SESSION_INVALID");
  }

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
    if (problem === "expired")
      throw new UnauthorizedError("Your session has expired: sign in again.", "SESSION_EXPIRED");
    throw new UnauthorizedError("This session has ended: sign in again.", "SESSION_INVALID");
  }
  c.set("userId", row.userId);
  c.executionCtx.waitUntil(
    sessions.touch(row.id, now).catch((error: unknown) => c.get("logger").warn("session.touch_failed", { error })),
  );
  return {
    userId: row.userId,
    sessionId: row.id,
    issuedAt: claims.issuedAt,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
  };
}

/** Route middleware: a verified session (401 otherwise), in `c.get("session")` for the handler. */
export const requireSession = createMiddleware<AppEnv>(async (c, next) => {
  c.set("session", await authenticateSession(c));
  await next();
});

/**
 * Sliding renewal for a response that can carry a cookie: a session whose
 * token was issued over a day ago gets a new token with the same `jti` and a
 * new 7-day expiry (never past 30 days from sign-in), in its row and its cookie.
 */
export async function renewSessionIfDue(c: AppContext, session: AuthenticatedSession): Promise<boolean> {
  const secret = c.get("config").SESSION_SECRET;
  const now = Date.now();
  const expiresAt = secret ? renewedExpiry(session, session, now) : null;
  if (!secret || expiresAt === null) return false;
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
 * The session cookie: `__Host-` (no Domain, Path=/, Secure), HttpOnly and
 * SameSite=Lax. Browsers accept Secure cookies on http://localhost, so local
 * development needs no exception.
 */
export function writeSessionCookie(c: AppContext, token: string, expiresAt: number): void {
  setCookie(c, SESSION_COOKIE, token, {
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "Lax",
    expires: new Date(expiresAt),
  });
}
