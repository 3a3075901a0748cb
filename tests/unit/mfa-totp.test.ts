import { describe, expect, it } from "vitest";
import {
  BACKUP_CODE_COUNT,
  BACKUP_CODE_ITERATIONS,
  backupCodeMatches,
  hashBackupCode,
  lookupOf,
  newBackupCodes,
  normalizeBackupCode,
} from "../../shared/auth/backup-codes";
import { mfaRequired, STEP_UP_WINDOW_MS, stepUpVerdict } from "../../shared/auth/mfa";
import { matchTotpStep, newTotpSecret, otpauthQrSvg, otpauthUri, totpCode, totpStep } from "../../shared/auth/totp";

/** RFC 6238 Appendix B's SHA-1 seed, the ASCII "12345678901234567890", in base32. */
const RFC_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/** RFC 6238 Appendix B, the SHA-1 rows: time (s) and the 8-digit TOTP. */
const RFC_SHA1_VECTORS = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
] as const;

describe("TOTP (RFC 6238)", () => {
  it("Scenario: TOTP codes match RFC 6238's test vectors", () => {
    for (const [seconds, code] of RFC_SHA1_VECTORS) {
      expect(totpCode(RFC_SEED, seconds * 1000, 8)).toBe(code);
      // Six digits are the same HOTP value modulo 10^6: the last six.
      expect(totpCode(RFC_SEED, seconds * 1000)).toBe(code.slice(2));
      expect(matchTotpStep(code.slice(2), RFC_SEED, seconds * 1000)).toBe(Math.floor(seconds / 30));
    }
  });

  it("accepts a code one step either side of now, and no further", () => {
    const now = 1_800_000_015_000;
    const step = totpStep(now);
    for (const offset of [-1, 0, 1]) {
      expect(matchTotpStep(totpCode(RFC_SEED, now + offset * 30_000), RFC_SEED, now)).toBe(step + offset);
    }
    for (const offset of [-3, -2, 2, 3]) {
      const code = totpCode(RFC_SEED, now + offset * 30_000);
      const inWindow = [-1, 0, 1].some((near) => totpCode(RFC_SEED, now + near * 30_000) === code);
      if (!inWindow) expect(matchTotpStep(code, RFC_SEED, now)).toBeNull();
    }
    expect(matchTotpStep("12345", RFC_SEED, now)).toBeNull();
    expect(matchTotpStep("12345a", RFC_SEED, now)).toBeNull();
  });

  it("enrols with SHA-1, 30 s and 6 digits in the otpauth URI and its SVG QR code", () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(otpauthUri(secret, "@ana"));
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(Object.fromEntries(uri.searchParams)).toMatchObject({
      secret,
      algorithm: "SHA1",
      digits: "6",
      period: "30",
      issuer: "Discord Trade Executor",
    });
    const svg = otpauthQrSvg(uri.toString());
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).not.toContain("<script");
  });
});

describe("backup codes", () => {
  it("makes ten distinct codes, each stored as a salted PBKDF2 hash", async () => {
    const { codes, records } = await newBackupCodes();
    expect(codes).toHaveLength(BACKUP_CODE_COUNT);
    expect(new Set(codes.map((code) => lookupOf(code))).size).toBe(BACKUP_CODE_COUNT);
    for (const [i, code] of codes.entries()) {
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
      const record = records[i];
      if (!record) throw new Error("missing record");
      expect(record.iterations).toBe(BACKUP_CODE_ITERATIONS);
      expect(record.hash).not.toContain(code.slice(5));
      expect(await backupCodeMatches(code, record)).toBe(true);
    }
    expect(new Set(records.map((r) => r.salt)).size).toBe(BACKUP_CODE_COUNT);
  });

  it("reads a code typed loosely, and refuses a wrong one", async () => {
    const record = await hashBackupCode("7k2m-q9xd-4hpt");
    expect(normalizeBackupCode(" 7K2M Q9XD 4HPT ")).toBe("7k2m-q9xd-4hpt");
    expect(normalizeBackupCode("1ilo-0000-0000")).toBe("1110-0000-0000");
    expect(await backupCodeMatches("7K2MQ9XD4HPT", record)).toBe(true);
    expect(await backupCodeMatches("7k2m-q9xd-4hpv", record)).toBe(false);
    expect(normalizeBackupCode("7k2m-q9xd")).toBeNull();
    expect(normalizeBackupCode("7k2m-q9xd-4hp!")).toBeNull();
  });
});

describe("who must enrol, and the step-up verdict", () => {
  it("requires owners, enterprise admins and live-broker members", () => {
    expect(mfaRequired({ role: "owner", tier: "free", liveBroker: false })).toBe(true);
    expect(mfaRequired({ role: "admin", tier: "enterprise", liveBroker: false })).toBe(true);
    expect(mfaRequired({ role: "admin", tier: "professional", liveBroker: false })).toBe(false);
    expect(mfaRequired({ role: "trader", tier: "free", liveBroker: true })).toBe(true);
    expect(mfaRequired({ role: "trader", tier: "enterprise", liveBroker: false })).toBe(false);
  });

  it("asks for a verification in the last 10 minutes", () => {
    const now = 1_800_000_000_000;
    const verdict = (enrolled: boolean, required: boolean, verifiedAt: number | null) =>
      stepUpVerdict({ enrolled, required, verifiedAt, now });
    expect(verdict(false, true, null)).toEqual({ ok: false, code: "MFA_REQUIRED" });
    expect(verdict(false, false, null)).toEqual({ ok: true, why: "not_enrolled_optional" });
    expect(verdict(true, false, null)).toEqual({ ok: false, code: "STEP_UP_REQUIRED" });
    expect(verdict(true, true, now - STEP_UP_WINDOW_MS)).toEqual({ ok: true, why: "verified" });
    expect(verdict(true, true, now - STEP_UP_WINDOW_MS - 1)).toEqual({ ok: false, code: "STEP_UP_REQUIRED" });
  });
});
