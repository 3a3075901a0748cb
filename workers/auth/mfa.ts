import { credentialVault } from "../../platform/crypto/vault";
import { database } from "../../platform/db/client";
import { mfaStore, type UserMfaRow } from "../../platform/db/mfa";
import { userById } from "../../platform/db/users";
import { backupCodeMatches, lookupOf, newBackupCodes, normalizeBackupCode } from "../../shared/auth/backup-codes";
import {
  MfaCodeInvalidError,
  MfaLockedError,
  SECURITY_PAGE_PATH,
  STEP_UP_WINDOW_MS,
  StepUpRefusedError,
} from "../../shared/auth/mfa";
import {
  matchTotpStep,
  newTotpSecret,
  otpauthQrSvg,
  otpauthUri,
  TOTP_CODE,
  totpSecretBinding,
} from "../../shared/auth/totp";
import { PLATFORM_SCOPE } from "../../shared/crypto/data-keys";
import { masterKeyring, SealedSecretError } from "../../shared/crypto/sealed-secret";
import { ConflictError, InternalError, ServiceUnavailableError } from "../../shared/errors";
import type { AppContext } from "../http/context";
import { publicOrigin } from "../http/public-origin";
import type { AuthenticatedSession } from "./session";
import { type AuthMethod, recordMfaEvent } from "./sign-in-record";

/**
 * A member's second factor (TOTP, RFC 6238), for the `/api/v1/me/mfa` routes: enrolment (a sealed secret, its
 * `otpauth://` URI and QR code), confirmation with a first code (then ten backup codes, shown once), verification
 * (a TOTP code or a backup code: the step-up), and disabling. A TOTP code's time step is claimed once (replays are
 * refused); five failures in a row lock the factor for 15 minutes. Every change and failure is audited with the
 * client's address and user agent.
 *
 * The TOTP secret is sealed by the credential vault (`platform/crypto/vault.ts`) under the platform's data key
 * (a person's authenticator belongs to no community), bound to the user's row.
 */

export interface MfaStatus {
  state: "none" | "pending" | "active";
  enabledAt: number | null;
  /** When this session last verified (null: not since sign-in or the last change). */
  verifiedAt: number | null;
  /** Until when a step-up action is allowed without verifying again (null: it is not). */
  stepUpUntil: number | null;
  backupCodesLeft: number;
  lockedUntil: number | null;
}

function signedIn(c: AppContext): AuthenticatedSession {
  const session = c.get("session");
  if (!session) throw new Error("MFA routes run behind requireSession.");
  return session;
}

export async function mfaStatus(c: AppContext): Promise<MfaStatus> {
  const session = signedIn(c);
  const store = mfaStore(database(c.env.DB));
  const row = await store.get(session.userId);
  const now = Date.now();
  const active = row?.state === "active";
  const verifiedAt = active ? session.mfaVerifiedAt : null;
  const stepUpUntil =
    verifiedAt !== null && verifiedAt + STEP_UP_WINDOW_MS > now ? verifiedAt + STEP_UP_WINDOW_MS : null;
  return {
    state: row?.state ?? "none",
    enabledAt: row?.enabledAt ?? null,
    verifiedAt,
    stepUpUntil,
    backupCodesLeft: active ? await store.backupCodesLeft(session.userId) : 0,
    lockedUntil: row?.lockedUntil != null && row.lockedUntil > now ? row.lockedUntil : null,
  };
}

/** Starts (or restarts) an enrolment: a new secret, sealed at rest; its URI and QR code for the authenticator app. */
export async function startEnrolment(c: AppContext): Promise<{ otpauthUri: string; qrSvg: string; secret: string }> {
  const session = signedIn(c);
  const db = database(c.env.DB);
  if (!masterKeyring(c.get("config")).current) {
    throw new ServiceUnavailableError(
      "Two-factor authentication is not configured (MASTER_KEY).",
      "FEATURE_NOT_CONFIGURED",
    );
  }
  const user = await userById(db, session.userId);
  if (!user) throw new Error(`The session's user ${session.userId} has no row.`);
  const secret = newTotpSecret();
  const sealed = await credentialVault(db, c.get("config"), c.get("logger")).seal(
    PLATFORM_SCOPE,
    secret,
    totpSecretBinding(session.userId),
  );
  const row = await mfaStore(db).startEnrolment(session.userId, sealed);
  if (!row) {
    throw new ConflictError(
      "Two-factor authentication is already on: disable it first to enrol a new authenticator.",
      "MFA_ALREADY_ENROLLED",
    );
  }
  const uri = otpauthUri(secret, user.username ? `@${user.username}` : user.discordId);
  c.get("logger").info("mfa.enrolment_started", { userId: session.userId });
  return { otpauthUri: uri, qrSvg: otpauthQrSvg(uri), secret };
}

/** Confirms a pending enrolment with its first code: the factor is on, and the ten backup codes are returned once. */
export async function confirmEnrolment(c: AppContext, code: string): Promise<{ backupCodes: string[] }> {
  const session = signedIn(c);
  const store = mfaStore(database(c.env.DB));
  const row = await store.get(session.userId);
  if (row?.state === "active") {
    throw new ConflictError("Two-factor authentication is already on.", "MFA_ALREADY_ENROLLED");
  }
  if (!row) throw notEnrolled("Start the enrolment first (POST /api/v1/me/mfa).");
  const now = Date.now();
  assertNotLocked(row, now);
  const problem = await claimTotp(c, row, code, now);
  if (problem) await refuse(c, row, problem, "totp", now);
  const { codes, records } = await newBackupCodes();
  if (!(await store.activate(session.userId, records, now))) {
    throw new ConflictError("This enrolment was already confirmed.", "MFA_ALREADY_ENROLLED");
  }
  await store.recordVerified(session.userId, session.sessionId, now);
  await recordMfaEvent(c, { userId: session.userId, event: "mfa.enrolled", method: "totp" });
  return { backupCodes: codes };
}

/** Verifies the factor with a TOTP code or a backup code: the step-up, for this session, for 10 minutes. */
export async function verifyFactor(
  c: AppContext,
  code: string,
): Promise<{ method: "totp" | "backup_code"; verifiedAt: number; stepUpUntil: number; backupCodesLeft: number }> {
  const session = signedIn(c);
  const store = mfaStore(database(c.env.DB));
  const row = await store.get(session.userId);
  if (row?.state !== "active") throw notEnrolled("Two-factor authentication is not on: enrol first.");
  const now = Date.now();
  assertNotLocked(row, now);
  const method = TOTP_CODE.test(code.trim()) ? "totp" : "backup_code";
  const problem = method === "totp" ? await claimTotp(c, row, code.trim(), now) : await useBackupCode(c, row, code);
  if (problem) await refuse(c, row, problem, method, now);
  await store.recordVerified(session.userId, session.sessionId, now);
  if (method === "backup_code") {
    await recordMfaEvent(c, { userId: session.userId, event: "mfa.backup_code_used", method });
  }
  await recordMfaEvent(c, { userId: session.userId, event: "mfa.verified", method });
  return {
    method,
    verifiedAt: now,
    stepUpUntil: now + STEP_UP_WINDOW_MS,
    backupCodesLeft: await store.backupCodesLeft(session.userId),
  };
}

/**
 * Turns the factor off. An active one needs this session's verification in the last 10 minutes (it is a step-up:
 * otherwise a stolen session could remove it); a pending enrolment is simply dropped.
 */
export async function disableFactor(c: AppContext): Promise<{ disabled: boolean }> {
  const session = signedIn(c);
  const store = mfaStore(database(c.env.DB));
  const row = await store.get(session.userId);
  if (!row) return { disabled: false };
  if (row.state === "active") {
    const verifiedAt = session.mfaVerifiedAt;
    const now = Date.now();
    if (verifiedAt === null || now - verifiedAt > STEP_UP_WINDOW_MS) {
      throw new StepUpRefusedError("STEP_UP_REQUIRED", "mfa.disable", securityUrl(c));
    }
  }
  await store.disable(session.userId);
  if (row.state === "active") await recordMfaEvent(c, { userId: session.userId, event: "mfa.disabled", method: null });
  return { disabled: row.state === "active" };
}

/** The security page's full address, for refusals that lead there. */
export function securityUrl(c: AppContext): string {
  return `${publicOrigin(c)}${SECURITY_PAGE_PATH}`;
}

type Problem = "wrong_code" | "replayed_code" | "backup_code_unknown" | "backup_code_reused";

/** Null when the TOTP code is right for this factor now and its step was not used before (it is claimed). */
async function claimTotp(c: AppContext, row: UserMfaRow, code: string, now: number): Promise<Problem | null> {
  const step = matchTotpStep(code, await openFactorSecret(c, row), now);
  if (step === null) return "wrong_code";
  return (await mfaStore(database(c.env.DB)).claimStep(row.userId, step, now)) ? null : "replayed_code";
}

/** Null when the backup code is one of the member's and unused (it is used now). */
async function useBackupCode(c: AppContext, row: UserMfaRow, input: string): Promise<Problem | null> {
  const store = mfaStore(database(c.env.DB));
  const code = normalizeBackupCode(input);
  const lookup = code ? lookupOf(code) : null;
  const record = code && lookup ? await store.backupCode(row.userId, lookup) : null;
  if (!code || !record || !(await backupCodeMatches(code, record))) return "backup_code_unknown";
  if (record.usedAt !== null || !(await store.useBackupCode(record.id))) return "backup_code_reused";
  return null;
}

async function openFactorSecret(c: AppContext, row: UserMfaRow): Promise<string> {
  try {
    return await credentialVault(database(c.env.DB), c.get("config"), c.get("logger")).open(
      PLATFORM_SCOPE,
      row.secretSealed,
      totpSecretBinding(row.userId),
    );
  } catch (error) {
    if (error instanceof SealedSecretError) {
      c.get("logger").error("mfa.secret_unreadable", { userId: row.userId, error: error.message });
    }
    throw new InternalError(error);
  }
}

function assertNotLocked(row: UserMfaRow, now: number): void {
  if (row.lockedUntil !== null && row.lockedUntil > now) throw new MfaLockedError(row.lockedUntil, now);
}

/** A failed code: counted (the fifth locks), audited as `mfa.failed`, refused. */
async function refuse(
  c: AppContext,
  row: UserMfaRow,
  problem: Problem,
  method: AuthMethod,
  now: number,
): Promise<never> {
  const { lockedUntil, attemptsLeft } = await mfaStore(database(c.env.DB)).recordFailure(row.userId, now);
  await recordMfaEvent(c, {
    userId: row.userId,
    event: "mfa.failed",
    method,
    reason: lockedUntil === null ? problem : `${problem}; locked`,
  });
  if (lockedUntil !== null) throw new MfaLockedError(lockedUntil, now);
  throw new MfaCodeInvalidError(attemptsLeft);
}

const notEnrolled = (message: string) => new ConflictError(message, "MFA_NOT_ENROLLED");
