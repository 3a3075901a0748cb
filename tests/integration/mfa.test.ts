import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import { BACKUP_CODE_COUNT } from "../../shared/auth/backup-codes";
import { MFA_CODE_CHECKS_PER_ADDRESS, MFA_LOCKOUT_MS } from "../../shared/auth/mfa";
import { totpCode } from "../../shared/auth/totp";
import type { MembershipRole } from "../../shared/db/schema";
import { snowflake } from "../support/discord";
import { call, errorOf, opsHeaders } from "../support/http";
import { BROWSER, enrolMfa, mfaCall, nextStepCode, startMfaEnrolment } from "../support/mfa";
import { memberOf, sessionFor, signedInUser, type TestMember } from "../support/realtime";
import { TEST_VARS } from "../support/test-vars";

const db = database(env.DB);
const SECURITY_URL = `${TEST_VARS.PUBLIC_BASE_URL}/app/security`;

interface MfaStatusBody {
  state: string;
  verifiedAt: number | null;
  stepUpUntil: number | null;
  backupCodesLeft: number;
  lockedUntil: number | null;
}

const statusOf = async (cookie: string) =>
  (await (await mfaCall(cookie, "GET", "/api/v1/me/mfa")).json()) as MfaStatusBody;

const verify = (cookie: string, code: string) => mfaCall(cookie, "POST", "/api/v1/me/mfa/verify", { code });

async function expectRefused(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status);
  const error = await errorOf(res);
  expect(error.code).toBe(code);
  return error.message;
}

/** The user's rows in `auth_events` for MFA, oldest first. */
async function mfaEvents(userId: string) {
  const { results } = await env.DB.prepare(
    "SELECT event, method, reason, ip, user_agent AS userAgent FROM auth_events WHERE user_id = ? AND event LIKE 'mfa.%' ORDER BY at, rowid",
  )
    .bind(userId)
    .all<{ event: string; method: string | null; reason: string | null; ip: string; userAgent: string }>();
  return results;
}

/** A member of `communityId` with a user row but no session (the target of a change). */
async function plainMember(communityId: string, role: MembershipRole) {
  const user = await upsertUser(db, { discordId: snowflake(), username: `m-${role}` });
  await forCommunity(db, communityId).memberships.upsert(user.id, role);
  return user;
}

const transfer = (owner: TestMember, to: string) =>
  mfaCall(owner.cookie, "PUT", `/api/v1/communities/${owner.communityId}/owner`, { userId: to });

const changeRole = (who: TestMember, userId: string, role: MembershipRole) =>
  mfaCall(who.cookie, "PUT", `/api/v1/communities/${who.communityId}/members/${userId}/role`, { role });

const roleOf = async (communityId: string, userId: string) =>
  (await forCommunity(db, communityId).memberships.get(userId))?.role ?? null;

describe("enrolment", () => {
  it("Scenario: A member enrols with a QR code and confirms with a first code", async () => {
    const me = await signedInUser();
    expect(await statusOf(me.cookie)).toMatchObject({ state: "none", backupCodesLeft: 0 });
    const { secret, otpauthUri, qrSvg } = await startMfaEnrolment(me.cookie);
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/Discord%20Trade%20Executor:/);
    expect(new URL(otpauthUri).searchParams.get("algorithm")).toBe("SHA1");
    expect(qrSvg).toMatch(/^<svg/);
    expect(await statusOf(me.cookie)).toMatchObject({ state: "pending" });

    // The secret is sealed at rest by the credential vault (the platform's data key), bound to its user.
    const row = await env.DB.prepare("SELECT secret_sealed FROM user_mfa WHERE user_id = ?")
      .bind(me.userId)
      .first<{ secret_sealed: string }>();
    const platformKey = await env.DB.prepare(
      "SELECT id FROM data_keys WHERE scope = 'platform' AND state = 'active'",
    ).first<{ id: string }>();
    expect(row?.secret_sealed).toMatch(new RegExp(`^v2\\.${platformKey?.id}\\.`));
    expect(row?.secret_sealed).not.toContain(secret);

    const confirmed = await mfaCall(me.cookie, "POST", "/api/v1/me/mfa/confirm", {
      code: totpCode(secret, Date.now()),
    });
    expect(confirmed.status).toBe(200);
    const { backupCodes } = (await confirmed.json()) as { backupCodes: string[] };
    expect(backupCodes).toHaveLength(BACKUP_CODE_COUNT);
    const status = await statusOf(me.cookie);
    expect(status).toMatchObject({ state: "active", backupCodesLeft: 10 });
    expect(status.stepUpUntil).toBeGreaterThan(Date.now());

    // Backup codes are kept only as salted hashes.
    const { results } = await env.DB.prepare(
      "SELECT lookup, salt, hash, iterations FROM mfa_backup_codes WHERE user_id = ?",
    )
      .bind(me.userId)
      .all<{ lookup: string; salt: string; hash: string; iterations: number }>();
    expect(results).toHaveLength(10);
    for (const code of backupCodes) {
      expect(JSON.stringify(results)).not.toContain(code.slice(5));
    }
    expect(new Set(results.map((r) => r.salt)).size).toBe(10);
    expect(results.every((r) => r.iterations === 100_000)).toBe(true);

    // A second enrolment does not replace an active factor.
    await expectRefused(await mfaCall(me.cookie, "POST", "/api/v1/me/mfa", {}), 409, "MFA_ALREADY_ENROLLED");
    expect(await mfaEvents(me.userId)).toEqual([
      { event: "mfa.enrolled", method: "totp", reason: null, ip: BROWSER.ip, userAgent: BROWSER.userAgent },
    ]);
  });

  it("Scenario: MFA events reach the member's communities' audit chains with address and user agent", async () => {
    const me = await memberOf(null, "trader");
    const { secret } = await enrolMfa(me.cookie);
    await expectRefused(await verify(me.cookie, "000000"), 400, "MFA_CODE_INVALID");
    expect((await verify(me.cookie, nextStepCode(secret))).status).toBe(200);
    const entries = (await forCommunity(db, me.communityId).audit.list({ limit: 50 }))
      .filter((e) => e.event.startsWith("mfa."))
      .sort((a, b) => a.seq - b.seq);
    expect(entries.map((e) => [e.event, e.actorId, e.target])).toEqual([
      ["mfa.enrolled", me.userId, me.userId],
      ["mfa.failed", me.userId, me.userId],
      ["mfa.verified", me.userId, me.userId],
    ]);
    for (const entry of entries) expect(entry.data).toMatchObject({ ip: BROWSER.ip, userAgent: BROWSER.userAgent });
    expect((await forCommunity(db, me.communityId).audit.verify()).ok).toBe(true);
  });

  it("Scenario: A wrong first code does not turn MFA on", async () => {
    const me = await signedInUser();
    const { secret } = await startMfaEnrolment(me.cookie);
    const wrong = totpCode(secret, Date.now() + 5 * 30_000);
    await expectRefused(
      await mfaCall(me.cookie, "POST", "/api/v1/me/mfa/confirm", { code: wrong }),
      400,
      "MFA_CODE_INVALID",
    );
    await expectRefused(
      await mfaCall(me.cookie, "POST", "/api/v1/me/mfa/confirm", { code: "12345" }),
      400,
      "VALIDATION_FAILED",
    );
    expect(await statusOf(me.cookie)).toMatchObject({ state: "pending" });
    // Without an enrolment there is nothing to confirm or verify.
    const other = await signedInUser();
    await expectRefused(
      await mfaCall(other.cookie, "POST", "/api/v1/me/mfa/confirm", { code: "123456" }),
      409,
      "MFA_NOT_ENROLLED",
    );
    await expectRefused(await verify(other.cookie, "123456"), 409, "MFA_NOT_ENROLLED");
  });
});

describe("verification", () => {
  it("Scenario: A wrong code is refused and audited", async () => {
    const me = await signedInUser();
    const { secret } = await enrolMfa(me.cookie);
    const fresh = await sessionFor(me.userId);
    // A code from three steps ahead is outside the ±1 window.
    const far = totpCode(secret, Date.now() + 3 * 30_000);
    const near = [-1, 0, 1].map((step) => totpCode(secret, Date.now() + step * 30_000));
    const wrong = near.includes(far) ? "000000" : far;
    const message = await expectRefused(await verify(fresh.cookie, wrong), 400, "MFA_CODE_INVALID");
    expect(message).toContain("4 attempt(s) left");
    expect((await statusOf(fresh.cookie)).stepUpUntil).toBeNull();
    expect((await mfaEvents(me.userId)).at(-1)).toMatchObject({
      event: "mfa.failed",
      reason: "wrong_code",
      ip: BROWSER.ip,
      userAgent: BROWSER.userAgent,
    });
  });

  it("Scenario: A replayed code is refused", async () => {
    const me = await signedInUser();
    const { secret } = await startMfaEnrolment(me.cookie);
    const code = totpCode(secret, Date.now());
    expect((await mfaCall(me.cookie, "POST", "/api/v1/me/mfa/confirm", { code })).status).toBe(200);
    // The same code again, in its own window, from another session: refused.
    const other = await sessionFor(me.userId);
    await expectRefused(await verify(other.cookie, code), 400, "MFA_CODE_INVALID");
    expect((await mfaEvents(me.userId)).at(-1)).toMatchObject({ event: "mfa.failed", reason: "replayed_code" });
    // The next step's code is new: accepted once, then a replay too.
    const next = nextStepCode(secret);
    const [first, second] = await Promise.all([verify(other.cookie, next), verify(other.cookie, next)]);
    expect([first.status, second.status].sort()).toEqual([200, 400]);
    expect((await statusOf(other.cookie)).stepUpUntil).toBeGreaterThan(Date.now());
  });

  it("Scenario: Five wrong codes lock MFA for 15 minutes", async () => {
    const me = await signedInUser();
    const { secret } = await enrolMfa(me.cookie);
    for (let i = 1; i <= 4; i++) {
      const message = await expectRefused(await verify(me.cookie, "000000"), 400, "MFA_CODE_INVALID");
      expect(message).toContain(`${5 - i} attempt(s) left`);
    }
    const fifth = await verify(me.cookie, "not-a-backup-code");
    await expectRefused(fifth, 429, "MFA_LOCKED");
    const retryAfter = Number(fifth.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(MFA_LOCKOUT_MS / 1000 - 5);
    expect(retryAfter).toBeLessThanOrEqual(MFA_LOCKOUT_MS / 1000);
    // While locked, even the right code is refused, and nothing is counted.
    const locked = await verify(me.cookie, nextStepCode(secret));
    await expectRefused(locked, 429, "MFA_LOCKED");
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await statusOf(me.cookie)).lockedUntil).toBeGreaterThan(Date.now() + MFA_LOCKOUT_MS - 10_000);
    const failures = (await mfaEvents(me.userId)).filter((e) => e.event === "mfa.failed");
    expect(failures.map((e) => e.reason)).toEqual([
      "wrong_code",
      "wrong_code",
      "wrong_code",
      "wrong_code",
      "backup_code_unknown; locked",
    ]);
  });

  it("Scenario: Code checks are limited per address across members", async () => {
    const first = await signedInUser();
    const second = await signedInUser();
    // One address of its own, so the other scenarios' checks from the browser's address do not count here.
    const address = "192.0.2.44";
    const check = (who: { cookie: string }, path = "/api/v1/me/mfa/verify", ip = address) =>
      mfaCall(who.cookie, "POST", path, { code: "123456" }, ip);
    // Not enrolled: each check is answered 409 without hashing anything, yet counts against the address.
    for (let i = 0; i < MFA_CODE_CHECKS_PER_ADDRESS; i++) {
      await expectRefused(await check(i % 2 === 0 ? first : second), 409, "MFA_NOT_ENROLLED");
    }
    const over = await check(second);
    await expectRefused(over, 429, "RATE_LIMITED");
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    await expectRefused(await check(first, "/api/v1/me/mfa/confirm"), 429, "RATE_LIMITED");
    // Another address keeps its own budget.
    await expectRefused(await check(first, "/api/v1/me/mfa/verify", "198.51.100.23"), 409, "MFA_NOT_ENROLLED");
  });

  it("Scenario: A backup code verifies once", async () => {
    const me = await signedInUser();
    const { backupCodes } = await enrolMfa(me.cookie);
    const fresh = await sessionFor(me.userId);
    const code = backupCodes[3] ?? "";
    const res = await verify(fresh.cookie, code.toUpperCase().replaceAll("-", " "));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ method: "backup_code", backupCodesLeft: 9 });
    await expectRefused(await verify(fresh.cookie, code), 400, "MFA_CODE_INVALID");
    const events = await mfaEvents(me.userId);
    expect(events.slice(1).map((e) => [e.event, e.method, e.reason])).toEqual([
      ["mfa.backup_code_used", "backup_code", null],
      ["mfa.verified", "backup_code", null],
      ["mfa.failed", "backup_code", "backup_code_reused"],
    ]);
    // A made-up code in the right shape is unknown.
    await expectRefused(await verify(fresh.cookie, "zzzz-zzzz-zzzz"), 400, "MFA_CODE_INVALID");
  });

  it("Scenario: Disabling MFA needs a fresh verification", async () => {
    const me = await signedInUser();
    const { backupCodes } = await enrolMfa(me.cookie);
    const fresh = await sessionFor(me.userId);
    const message = await expectRefused(
      await mfaCall(fresh.cookie, "DELETE", "/api/v1/me/mfa"),
      403,
      "STEP_UP_REQUIRED",
    );
    expect(message).toContain(SECURITY_URL);
    expect((await verify(fresh.cookie, backupCodes[0] ?? "")).status).toBe(200);
    const res = await mfaCall(fresh.cookie, "DELETE", "/api/v1/me/mfa");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ disabled: true });
    expect(await statusOf(me.cookie)).toMatchObject({ state: "none", stepUpUntil: null });
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM mfa_backup_codes WHERE user_id = ?")
      .bind(me.userId)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
    expect((await mfaEvents(me.userId)).at(-1)).toMatchObject({ event: "mfa.disabled", ip: BROWSER.ip });
  });

  it("Scenario: A cross-site MFA request is refused", async () => {
    const me = await signedInUser();
    const res = await call("/api/v1/me/mfa/verify", {
      method: "POST",
      headers: { cookie: me.cookie, origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ code: "123456" }),
    });
    await expectRefused(res, 403, "CSRF_REJECTED");
    await expectRefused(await call("/api/v1/me/mfa"), 401, "SESSION_REQUIRED");
  });
});

describe("step-up", () => {
  it("Scenario: An owner without MFA is led to enrol before transferring ownership", async () => {
    const owner = await memberOf(null, "owner");
    const heir = await plainMember(owner.communityId, "trader");
    const message = await expectRefused(await transfer(owner, heir.id), 403, "MFA_REQUIRED");
    expect(message).toContain(SECURITY_URL);
    expect(await roleOf(owner.communityId, heir.id)).toBe("trader");
    await enrolMfa(owner.cookie);
    expect((await transfer(owner, heir.id)).status).toBe(200);
    expect(await roleOf(owner.communityId, heir.id)).toBe("owner");
  });

  it("Scenario: A step-up action needs a verification in the last 10 minutes", async () => {
    const owner = await memberOf(null, "owner");
    const heir = await plainMember(owner.communityId, "trader");
    const { secret } = await enrolMfa(owner.cookie);
    // Another session of the same owner has not verified.
    const other = await sessionFor(owner.userId);
    const elsewhere = { ...owner, cookie: other.cookie };
    const message = await expectRefused(await transfer(elsewhere, heir.id), 403, "STEP_UP_REQUIRED");
    expect(message).toContain(SECURITY_URL);
    // A verification older than 10 minutes no longer counts.
    await env.DB.prepare("UPDATE sessions SET mfa_verified_at = ? WHERE id = ?")
      .bind(Date.now() - 10 * 60_000 - 1_000, other.sessionId)
      .run();
    await expectRefused(await transfer(elsewhere, heir.id), 403, "STEP_UP_REQUIRED");
    expect((await verify(other.cookie, nextStepCode(secret))).status).toBe(200);
    expect((await transfer(elsewhere, heir.id)).status).toBe(200);
  });

  it("Scenario: Raising a member to admin needs a step-up", async () => {
    // An admin of an enterprise community must enrol.
    const admin = await memberOf(null, "admin");
    await env.DB.prepare("UPDATE communities SET tier = 'enterprise' WHERE id = ?").bind(admin.communityId).run();
    const target = await plainMember(admin.communityId, "trader");
    await expectRefused(await changeRole(admin, target.id, "admin"), 403, "MFA_REQUIRED");
    // A change that raises no one to admin needs none.
    expect((await changeRole(admin, target.id, "moderator")).status).toBe(200);
    await enrolMfa(admin.cookie);
    expect((await changeRole(admin, target.id, "admin")).status).toBe(200);
    expect(await roleOf(admin.communityId, target.id)).toBe("admin");

    // An admin of another plan need not enrol; once enrolled, a stale session is asked to verify.
    const other = await memberOf(null, "admin");
    const someone = await plainMember(other.communityId, "trader");
    expect((await changeRole(other, someone.id, "admin")).status).toBe(200);
    await enrolMfa(other.cookie);
    const stale = { ...other, cookie: (await sessionFor(other.userId)).cookie };
    const third = await plainMember(other.communityId, "trader");
    await expectRefused(await changeRole(stale, third.id, "admin"), 403, "STEP_UP_REQUIRED");
    // Operators are not asked.
    const byOperator = await call(`/api/v1/communities/${other.communityId}/members/${third.id}/role`, {
      method: "PUT",
      headers: opsHeaders({ "content-type": "application/json" }),
      body: JSON.stringify({ role: "admin" }),
    });
    expect(byOperator.status).toBe(200);
  });
});

describe("the security page", () => {
  it("Scenario: The security page runs its script from this site only", async () => {
    const me = await signedInUser();
    const page = await call("/app/security", { headers: { cookie: me.cookie } });
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    const html = await page.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]?.[1]).toContain('src="/app/security.js"');
    expect(scripts[0]?.[2]).toBe("");
    const script = await call("/app/security.js");
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    const source = await script.text();
    expect(source).toContain("/api/v1/me/mfa/verify");
    expect(source).not.toContain("innerHTML");
    const anonymous = await call("/app/security", { redirect: "manual" });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toBe("/auth/discord/login?next=%2Fapp%2Fsecurity");
  });
});
