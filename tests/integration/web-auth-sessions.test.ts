import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  newSessionId,
  renewedExpiry,
  SESSION_MAX_AGE_MS,
  SESSION_TTL_MS,
  SessionTokenError,
  signSessionToken,
  verifySessionToken,
} from "../../shared/auth/session-token";
import { signBillingLink } from "../../shared/billing/links";
import { purposeKey } from "../../shared/crypto/purpose-key";
import { signHandoff } from "../../shared/realtime/handoff";

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
    // The right key, but another algorithm: HS512 is not HS256.
    const hs512 = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS512", typ: "JWT" })
      .sign(await purposeKey(SECRET, "dte:session"));
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
