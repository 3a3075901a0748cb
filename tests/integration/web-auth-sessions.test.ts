import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { OpenAPIHono } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { database } from "../../platform/db/client";
import { sessionStore } from "../../platform/db/sessions";
import { csrfToken } from "../../shared/auth/csrf";
import {
  newSessionId,
  renewedExpiry,
  SESSION_COOKIE,
  SESSION_MAX_AGE_MS,
  SESSION_TTL_MS,
  SessionTokenError,
  sessionCookieFor,
  signSessionToken,
  verifySessionToken,
} from "../../shared/auth/session-token";
import { signBillingLink } from "../../shared/billing/links";
import { purposeKey, purposeKeyBytes } from "../../shared/crypto/purpose-key";
import { sessions } from "../../shared/db/schema";
import { rootLogger } from "../../shared/logging";
import { signHandoff } from "../../shared/realtime/handoff";
import { revokeAllSessions } from "../../workers/auth/revocation";
import { endSession, requireSession, startSession } from "../../workers/auth/session";
import type { AppEnv } from "../../workers/http/context";
import { handleError } from "../../workers/http/errors";
import { configGate } from "../../workers/http/middleware/config-gate";
import { requestContext } from "../../workers/http/middleware/request-context";
import { BASE, errorOf } from "../support/http";
import { sessionFor, signedInUser } from "../support/realtime";
import { TEST_VARS } from "../support/test-vars";

const SECRET = "unit-session-secret-unit-session-secret-01";
const HOUR = 3600_000;
const NOW = Date.UTC(2026, 5, 1, 12);

async function problemOf(token: string, nowMs = NOW): Promise<string> {
  try {
    await verifySessionToken(SECRET, token, { nowMs });
    return "accepted";
  } catch (error) {
    expect(error).toBeInstanceOf(SessionTokenError);
    return (error as SessionTokenError).problem;
  }
}

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

describe("session tokens", () => {
  it("Scenario: A well-signed session token verifies", async () => {
    const sessionId = newSessionId();
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const token = await signSessionToken(
      SECRET,
      { userId: "user-1", sessionId, expiresAt: NOW + SESSION_TTL_MS },
      { nowMs: NOW },
    );
    await expect(verifySessionToken(SECRET, token, { nowMs: NOW + HOUR })).resolves.toEqual({
      userId: "user-1",
      sessionId,
      issuedAt: NOW,
      expiresAt: NOW + SESSION_TTL_MS,
    });
  });

  it("Scenario: A token signed with another key is refused", async () => {
    const token = await signSessionToken(
      "another-secret-another-secret-another-secret",
      { userId: "user-1", sessionId: newSessionId(), expiresAt: NOW + HOUR },
      { nowMs: NOW },
    );
    expect(await problemOf(token)).toBe("invalid");
    // Tampering with the payload of a good token breaks its signature the same way.
    const good = await signSessionToken(
      SECRET,
      { userId: "user-1", sessionId: newSessionId(), expiresAt: NOW + HOUR },
      { nowMs: NOW },
    );
    const [header, , signature] = good.split(".");
    const forged = `${header}.${b64url({ sub: "admin-user", jti: newSessionId(), iat: NOW / 1000, exp: NOW / 1000 + 3600, iss: "discord-trade-executor", aud: "dte:session" })}.${signature}`;
    expect(await problemOf(forged)).toBe("invalid");
  });

  it("Scenario: An unsigned token is refused", async () => {
    const claims = {
      sub: "user-1",
      jti: newSessionId(),
      iat: NOW / 1000,
      exp: NOW / 1000 + 3600,
      iss: "discord-trade-executor",
      aud: "dte:session",
    };
    for (const alg of ["none", "None", "NONE"]) {
      expect(await problemOf(`${b64url({ alg, typ: "JWT" })}.${b64url(claims)}.`)).not.toBe("accepted");
    }
    // The right key bytes, but another algorithm: HS512 is not HS256.
    const hs512 = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS512", typ: "JWT" })
      .sign(await purposeKeyBytes(SECRET, "dte:session"));
    expect(await problemOf(hs512)).toBe("invalid");
    for (const garbage of ["", "a.b", "not-a-jwt", "x".repeat(5000)]) {
      expect(await problemOf(garbage)).not.toBe("accepted");
    }
  });

  it("Scenario: A token for another audience is refused", async () => {
    const key = await purposeKey(SECRET, "dte:session");
    const base = { sub: "user-1", jti: newSessionId() };
    const sign = (issuer: string, audience: string) =>
      new SignJWT(base)
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(NOW / 1000)
        .setExpirationTime(NOW / 1000 + 3600)
        .sign(key);
    expect(await problemOf(await sign("discord-trade-executor", "dte:billing-link"))).toBe("invalid");
    expect(await problemOf(await sign("someone-else", "dte:session"))).toBe("invalid");
    // Tokens other parts derive from the same SESSION_SECRET never pass for a session.
    const billing = await signBillingLink(
      SECRET,
      { action: "portal", subject: "trader", communityId: null, userId: "user-1" },
      { nowMs: NOW },
    );
    expect(await problemOf(billing)).toBe("invalid");
    const handoff = await signHandoff(
      SECRET,
      {
        communityId: "c1",
        userId: "user-1",
        role: "owner",
        credential: { kind: "session", sessionId: newSessionId() },
      },
      { nowMs: NOW },
    );
    expect(await problemOf(handoff)).toBe("invalid");
  });

  it("Scenario: An expired token is refused", async () => {
    const token = await signSessionToken(
      SECRET,
      { userId: "user-1", sessionId: newSessionId(), expiresAt: NOW + HOUR },
      { nowMs: NOW },
    );
    expect(await problemOf(token, NOW + HOUR - 1000)).toBe("accepted");
    expect(await problemOf(token, NOW + HOUR + 1000)).toBe("expired");
  });

  it("renews a day after issue, never past 30 days from sign-in", () => {
    const createdAt = NOW - 2 * 24 * HOUR;
    expect(renewedExpiry({ issuedAt: NOW - 23 * HOUR }, { createdAt }, NOW)).toBeNull();
    expect(renewedExpiry({ issuedAt: NOW - 25 * HOUR }, { createdAt }, NOW)).toBe(NOW + SESSION_TTL_MS);
    const old = NOW - 29 * 24 * HOUR;
    expect(renewedExpiry({ issuedAt: NOW - 25 * HOUR }, { createdAt: old }, NOW)).toBe(old + SESSION_MAX_AGE_MS);
    expect(renewedExpiry({ issuedAt: NOW - 25 * HOUR }, { createdAt: NOW - SESSION_MAX_AGE_MS - 1 }, NOW)).toBeNull();
  });
});

/** The session module behind a tiny app with the platform's own middleware: what the sign-in routes will build on. */
function sessionApp() {
  const app = new OpenAPIHono<AppEnv>();
  app.use("*", requestContext);
  app.use("*", configGate());
  app.get("/whoami", requireSession, (c) => c.json(c.get("session") ?? null));
  app.post("/signin/:userId", async (c) => c.json(await startSession(c, c.req.param("userId"))));
  app.post("/signout", requireSession, async (c) => {
    const session = c.get("session");
    if (!session) throw new Error("no session");
    return c.json({ ended: await endSession(c, session) });
  });
  app.onError(handleError);
  return app;
}

const app = sessionApp();
const db = database(env.DB);

async function ask(path: string, init: RequestInit = {}, base = BASE, withEnv: object = env) {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${base}${path}`, init), withEnv as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const cookieHeader = (res: Response) => res.headers.get("set-cookie") ?? "";
const tokenOf = (res: Response) => cookieHeader(res).split(";")[0]?.split("=")[1] ?? "";

describe("sessions as rows", () => {
  it("Scenario: A token whose session was revoked is refused", async () => {
    const user = await signedInUser();
    expect((await ask("/whoami", { headers: { cookie: user.cookie } })).status).toBe(200);
    const csrf = await csrfToken(TEST_VARS.SESSION_SECRET, user.sessionId);
    const out = await ask("/signout", { method: "POST", headers: { cookie: user.cookie, "x-csrf-token": csrf } });
    expect(await out.json()).toEqual({ ended: true });
    expect(cookieHeader(out)).toMatch(/^__Host-session=; Max-Age=0; Path=\/; HttpOnly; Secure; SameSite=Lax/);
    const again = await ask("/whoami", { headers: { cookie: user.cookie } });
    expect(again.status).toBe(401);
    expect((await errorOf(again)).code).toBe("SESSION_INVALID");
  });

  it("Scenario: A token without a session row is refused", async () => {
    const user = await signedInUser();
    const expiresAt = Date.now() + HOUR;
    const noRow = await signSessionToken(TEST_VARS.SESSION_SECRET, {
      userId: user.userId,
      sessionId: newSessionId(),
      expiresAt,
    });
    const other = await signedInUser();
    const someoneElses = await signSessionToken(TEST_VARS.SESSION_SECRET, {
      userId: user.userId,
      sessionId: other.sessionId,
      expiresAt,
    });
    for (const token of [noRow, someoneElses]) {
      const res = await ask("/whoami", { headers: { cookie: `${SESSION_COOKIE}=${token}` } });
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe("SESSION_INVALID");
    }
    const none = await ask("/whoami");
    expect(none.status).toBe(401);
    expect((await errorOf(none)).code).toBe("SESSION_REQUIRED");
  });

  it("Scenario: Signing out everywhere ends every session of the member", async () => {
    const user = await signedInUser();
    const more = [await sessionFor(user.userId), await sessionFor(user.userId)];
    const bystander = await signedInUser();
    expect(await revokeAllSessions(env, rootLogger, user.userId)).toBe(3);
    const rows = await db.select().from(sessions).where(eq(sessions.userId, user.userId)).all();
    expect(rows).toHaveLength(3);
    expect(rows.every((row) => row.revokedAt !== null)).toBe(true);
    for (const cookie of [user.cookie, ...more.map((s) => s.cookie)]) {
      expect((await ask("/whoami", { headers: { cookie } })).status).toBe(401);
    }
    expect((await ask("/whoami", { headers: { cookie: bystander.cookie } })).status).toBe(200);
    expect(await revokeAllSessions(env, rootLogger, user.userId)).toBe(0);
  });

  it("Scenario: Signing in records a session row and sets the session cookie", async () => {
    const user = await signedInUser();
    const res = await ask(`/signin/${user.userId}`, {
      method: "POST",
      headers: { "user-agent": "Firefox/140", "cf-connecting-ip": "203.0.113.9" },
    });
    const session = (await res.json()) as { sessionId: string; expiresAt: number };
    const row = await sessionStore(db).get(session.sessionId);
    expect(row).toMatchObject({ userId: user.userId, userAgent: "Firefox/140", ip: "203.0.113.9", revokedAt: null });
    expect(row?.expiresAt).toBe(session.expiresAt);
    expect(session.expiresAt - Date.now()).toBeGreaterThan(SESSION_TTL_MS - 60_000);
    expect((await verifySessionToken(TEST_VARS.SESSION_SECRET, tokenOf(res))).expiresAt).toBe(session.expiresAt);
    const cookie = cookieHeader(res);
    expect(cookie).toMatch(
      /^__Host-session=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; Expires=.+; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(cookie).not.toMatch(/Domain=/i);
    const token = cookie.split(";")[0]?.split("=")[1] ?? "";
    expect((await verifySessionToken(TEST_VARS.SESSION_SECRET, token)).sessionId).toBe(session.sessionId);
    const me = await ask("/whoami", { headers: { cookie: `${SESSION_COOKIE}=${token}` } });
    expect(await me.json()).toMatchObject({ userId: user.userId, sessionId: session.sessionId });
  });
});

describe("the cookie on plain-http localhost", () => {
  it("Scenario: Plain-http localhost outside production gets a non-Secure session cookie", async () => {
    const user = await signedInUser();
    const local = await ask(`/signin/${user.userId}`, { method: "POST" }, "http://localhost:8787");
    const cookie = cookieHeader(local);
    expect(cookie).toMatch(/^dte-dev-session=[\w.-]+; Path=\/; Expires=.+; HttpOnly; SameSite=Lax$/);
    const token = cookie.split(";")[0]?.split("=")[1] ?? "";
    expect(
      (await ask("/whoami", { headers: { cookie: `dte-dev-session=${token}` } }, "http://localhost:8787")).status,
    ).toBe(200);
    // The unprefixed cookie is never read elsewhere, where anyone on a sibling host could have planted it.
    const remote = await ask("/whoami", { headers: { cookie: `dte-dev-session=${token}` } }, "https://app.example");
    expect(remote.status).toBe(401);
    expect((await errorOf(remote)).code).toBe("SESSION_REQUIRED");
    // In production, and over https or on any other host, the strict cookie.
    const strict = { name: SESSION_COOKIE, secure: true };
    expect(sessionCookieFor("http://localhost:8787/app", "production")).toEqual(strict);
    expect(sessionCookieFor("https://localhost:8787/app", "development")).toEqual(strict);
    expect(sessionCookieFor("http://dte.test/app", "test")).toEqual(strict);
    expect(sessionCookieFor("http://127.0.0.1:8787/app", "development")).toEqual({
      name: "dte-dev-session",
      secure: false,
    });
  });
});

describe("sliding renewal through the middleware", () => {
  it("Scenario: A session used after a day is renewed with the same id", async () => {
    const user = await signedInUser();
    const now = Date.now();
    const signedInAt = now - 25 * HOUR;
    const sessionId = newSessionId();
    await sessionStore(db).create({
      id: sessionId,
      userId: user.userId,
      expiresAt: signedInAt + SESSION_TTL_MS,
      now: signedInAt,
    });
    const token = await signSessionToken(
      TEST_VARS.SESSION_SECRET,
      { userId: user.userId, sessionId, expiresAt: signedInAt + SESSION_TTL_MS },
      { nowMs: signedInAt },
    );
    const res = await ask("/whoami", { headers: { cookie: `${SESSION_COOKIE}=${token}` } });
    expect(res.status).toBe(200);
    const renewed = cookieHeader(res).split(";")[0]?.split("=")[1] ?? "";
    const claims = await verifySessionToken(TEST_VARS.SESSION_SECRET, renewed);
    expect(claims.sessionId).toBe(sessionId);
    expect(claims.expiresAt).toBeGreaterThan(now + SESSION_TTL_MS - 60_000);
    const row = await sessionStore(db).get(sessionId);
    expect(row?.expiresAt).toBe(claims.expiresAt);
    // A fresh token is not renewed again.
    const fresh = await ask("/whoami", { headers: { cookie: `${SESSION_COOKIE}=${renewed}` } });
    expect(fresh.headers.get("set-cookie")).toBeNull();
  });

  it("Scenario: A session never outlives 30 days", async () => {
    const user = await signedInUser();
    const now = Date.now();
    const signedInAt = now - 29 * 24 * HOUR;
    const sessionId = newSessionId();
    await sessionStore(db).create({
      id: sessionId,
      userId: user.userId,
      expiresAt: now + 6 * 24 * HOUR,
      now: signedInAt,
    });
    const token = await signSessionToken(
      TEST_VARS.SESSION_SECRET,
      { userId: user.userId, sessionId, expiresAt: now + 6 * 24 * HOUR },
      { nowMs: now - 25 * HOUR },
    );
    const res = await ask("/whoami", { headers: { cookie: `${SESSION_COOKIE}=${token}` } });
    expect(res.status).toBe(200);
    const renewed = cookieHeader(res).split(";")[0]?.split("=")[1] ?? "";
    expect((await verifySessionToken(TEST_VARS.SESSION_SECRET, renewed)).expiresAt).toBe(
      Math.floor((signedInAt + SESSION_MAX_AGE_MS) / 1000) * 1000,
    );
    expect(renewedExpiry({ issuedAt: now - 25 * HOUR }, { createdAt: now - SESSION_MAX_AGE_MS }, now)).toBeNull();
  });
});
