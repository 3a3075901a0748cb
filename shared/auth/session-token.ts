import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { Environment } from "../config";
import { type PurposeKey, purposeKey } from "../crypto/purpose-key";

/**
 * The browser session token: an HS256 JWT in the `__Host-session` cookie,
 * under a key derived from SESSION_SECRET for sessions only (so a billing link
 * or the realtime hand-off never passes for one). The algorithm is pinned,
 * issuer and audience are checked, and every token carries `sub` (the user),
 * `jti` (its row in `sessions`, which is what makes it revocable), `iat` and
 * `exp`. A token is only half the check: the caller must also find its `jti`
 * in `sessions`, unrevoked and unexpired.
 */

export const SESSION_COOKIE = "__Host-session";
/** A session lasts 7 days from its last renewal... */
export const SESSION_TTL_MS = 7 * 24 * 3600_000;
/** ...is renewed (same `jti`, later `exp`) when used more than a day after its token was issued... */
export const SESSION_RENEW_AFTER_MS = 24 * 3600_000;
/** ...and never outlives 30 days from sign-in, renewals or not. */
export const SESSION_MAX_AGE_MS = 30 * 24 * 3600_000;

const ISSUER = "discord-trade-executor";
const AUDIENCE = "dte:session";
const ALGORITHM = "HS256";

const SessionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{22,64}$/, "a session id is 22-64 base64url characters");
const ClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  jti: SessionIdSchema,
  iat: z.number().int(),
  exp: z.number().int(),
});

export interface SessionClaims {
  userId: string;
  sessionId: string;
  issuedAt: number;
  expiresAt: number;
}

export type SessionTokenProblem = "malformed" | "expired" | "invalid";

/** A token that cannot be used. `problem` is for logs; callers answer every one with the same 401. */
export class SessionTokenError extends Error {
  constructor(readonly problem: SessionTokenProblem) {
    super(`session token ${problem}`);
    this.name = "SessionTokenError";
  }
}

/** A fresh session id: 128 random bits, base64url. */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export async function signSessionToken(
  secret: string,
  session: { userId: string; sessionId: string; expiresAt: number },
  options: { nowMs?: number } = {},
): Promise<string> {
  SessionIdSchema.parse(session.sessionId);
  const nowMs = options.nowMs ?? Date.now();
  if (session.expiresAt <= nowMs) throw new RangeError("A session token must expire in the future.");
  return new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(session.userId)
    .setJti(session.sessionId)
    .setIssuedAt(Math.floor(nowMs / 1000))
    .setExpirationTime(Math.floor(session.expiresAt / 1000))
    .sign(await sessionKey(secret));
}

/** The claims of a well-signed, unexpired session token; SessionTokenError otherwise. Times are in ms. */
export async function verifySessionToken(
  secret: string,
  token: string,
  options: { nowMs?: number } = {},
): Promise<SessionClaims> {
  if (token.length === 0 || token.length > 2048) throw new SessionTokenError("malformed");
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, await sessionKey(secret), {
      algorithms: [ALGORITHM],
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: "JWT",
      requiredClaims: ["sub", "jti", "iat", "exp"],
      ...(options.nowMs === undefined ? {} : { currentDate: new Date(options.nowMs) }),
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new SessionTokenError("expired");
    if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) {
      throw new SessionTokenError("malformed");
    }
    throw new SessionTokenError("invalid");
  }
  const claims = ClaimsSchema.safeParse(payload);
  if (!claims.success) throw new SessionTokenError("invalid");
  return {
    userId: claims.data.sub,
    sessionId: claims.data.jti,
    issuedAt: claims.data.iat * 1000,
    expiresAt: claims.data.exp * 1000,
  };
}

/** Expiries are whole seconds, as a JWT's `exp` is, so a session's row and its token always agree. */
const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

/** A new session's expiry: 7 days from sign-in. */
export function newSessionExpiry(nowMs: number): number {
  return wholeSeconds(nowMs + SESSION_TTL_MS);
}

/** Sliding renewal: a token issued more than a day ago gets a successor, unless the session hit its 30-day cap. */
export function renewedExpiry(
  claims: Pick<SessionClaims, "issuedAt">,
  session: { createdAt: number },
  nowMs: number,
): number | null {
  if (nowMs - claims.issuedAt < SESSION_RENEW_AFTER_MS) return null;
  const expiresAt = wholeSeconds(Math.min(nowMs + SESSION_TTL_MS, session.createdAt + SESSION_MAX_AGE_MS));
  return expiresAt > nowMs ? expiresAt : null;
}

/**
 * Which cookie carries the session on an origin. `__Host-session` (Secure) everywhere, except plain-http loopback
 * outside production (`npm start` on http://localhost): browsers refuse a `__Host-` cookie without Secure, and some
 * (Safari) refuse Secure on plain http, so there the session lives in LOCAL_SESSION_COOKIE, unprefixed and not
 * Secure. That cookie is never read anywhere else, where a sibling host could have planted it.
 */
export function sessionCookieFor(url: string, environment: Environment): { name: string; secure: boolean } {
  const { protocol, hostname } = new URL(url);
  const relaxed = environment !== "production" && protocol === "http:" && LOOPBACK_HOSTS.has(hostname);
  return relaxed ? { name: LOCAL_SESSION_COOKIE, secure: false } : { name: SESSION_COOKIE, secure: true };
}

export const LOCAL_SESSION_COOKIE = "dte-dev-session";
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

function sessionKey(secret: string): Promise<PurposeKey> {
  return purposeKey(secret, AUDIENCE);
}
