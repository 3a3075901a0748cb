import type { CommunityTier } from "../db/schema";
import { AppError } from "../errors";
import type { CommunityRole } from "../rbac/matrix";

/**
 * The MFA rules, pure so the API and Discord decide them the same way: who must enrol, what a step-up needs, the
 * lockout, and the refusals (each leading to the security page, `/app/security`).
 */

/** A high-risk action needs a verification this recent (the step-up). */
export const STEP_UP_WINDOW_MS = 10 * 60_000;
/** Failed codes in a row that lock the factor... */
export const MFA_MAX_FAILURES = 5;
/** ...for this long. */
export const MFA_LOCKOUT_MS = 15 * 60_000;
/** Code checks (confirm and verify) one address may make in MFA_LOCKOUT_MS, over all members. */
export const MFA_CODE_CHECKS_PER_ADDRESS = 100;
/** Where a member enrols, verifies and manages their second factor. */
export const SECURITY_PAGE_PATH = "/app/security";

/**
 * Why an action needs a step-up (a second factor verified in the last 10 minutes). The role rules name the first
 * two (shared/rbac/role-change.ts); switching to live trading is `/paper mode:live`; turning the factor off is one
 * too. `billing.portal` guards the community billing portal, where a plan is lowered or canceled (the product has
 * no plan change of its own: a checkout is refused while a subscription runs).
 */
export const STEP_UP_REASONS = [
  "ownership.transfer",
  "role.raise_to_admin",
  "trading.go_live",
  "mfa.disable",
  "community.delete",
  "billing.portal",
  "broker.connect",
  "broker.disconnect",
] as const;
export type StepUpReason = (typeof STEP_UP_REASONS)[number];

const REASON_TEXT: Record<StepUpReason, string> = {
  "ownership.transfer": "Transferring ownership",
  "role.raise_to_admin": "Raising a member to admin",
  "trading.go_live": "Switching to live trading",
  "mfa.disable": "Turning two-factor authentication off",
  "community.delete": "Deleting the community",
  "billing.portal": "Opening the community's billing portal (where the plan is lowered or canceled)",
  "broker.connect": "Connecting a broker",
  "broker.disconnect": "Removing a broker connection",
};

/** What decides whether a member must have a second factor in a community. */
export interface MfaDuty {
  role: CommunityRole | null;
  tier: CommunityTier;
  /** They have (or are connecting) a live broker connection here. */
  liveBroker: boolean;
}

/** Owners, admins of enterprise communities, and anyone with a live broker connection must enrol. */
export function mfaRequired(duty: MfaDuty): boolean {
  return duty.role === "owner" || (duty.role === "admin" && duty.tier === "enterprise") || duty.liveBroker;
}

export type StepUpVerdict =
  | { ok: true; why: "verified" | "not_enrolled_optional" }
  | { ok: false; code: "MFA_REQUIRED" | "STEP_UP_REQUIRED" };

/**
 * Whether a member may take a step-up action now: enrolled with a verification in the last 10 minutes, or not
 * enrolled and not required to be (a member who never enrolled and need not is not stopped; once enrolled, every
 * step-up asks for the factor). A required member without a factor is refused MFA_REQUIRED.
 */
export function stepUpVerdict(input: {
  enrolled: boolean;
  required: boolean;
  verifiedAt: number | null;
  now: number;
}): StepUpVerdict {
  if (!input.enrolled)
    return input.required ? { ok: false, code: "MFA_REQUIRED" } : { ok: true, why: "not_enrolled_optional" };
  const fresh =
    input.verifiedAt !== null && input.now - input.verifiedAt <= STEP_UP_WINDOW_MS && input.verifiedAt <= input.now;
  return fresh ? { ok: true, why: "verified" } : { ok: false, code: "STEP_UP_REQUIRED" };
}

/** The words of a step-up refusal, with where to go (`securityUrl`: the security page's address). */
export function stepUpRefusalText(
  code: "MFA_REQUIRED" | "STEP_UP_REQUIRED",
  reason: StepUpReason,
  securityUrl: string,
): string {
  const what = REASON_TEXT[reason];
  return code === "MFA_REQUIRED"
    ? `${what} needs two-factor authentication, and your role here requires it: set up an authenticator app at ${securityUrl}, then try again.`
    : `${what} needs a fresh two-factor check: verify a code from your authenticator app at ${securityUrl} (it counts for 10 minutes), then try again.`;
}

export class StepUpRefusedError extends AppError {
  constructor(code: "MFA_REQUIRED" | "STEP_UP_REQUIRED", reason: StepUpReason, securityUrl: string) {
    super(403, code, stepUpRefusalText(code, reason, securityUrl), { details: [{ reason, securityUrl }] });
  }
}

export class MfaLockedError extends AppError {
  constructor(lockedUntil: number, now: number) {
    const retryAfterSeconds = Math.max(1, Math.ceil((lockedUntil - now) / 1000));
    super(
      429,
      "MFA_LOCKED",
      `Too many wrong codes: two-factor verification is locked for ${Math.ceil(retryAfterSeconds / 60)} more minute(s).`,
      { headers: { "retry-after": String(retryAfterSeconds) } },
    );
  }
}

export class MfaCodeInvalidError extends AppError {
  constructor(attemptsLeft: number) {
    super(
      400,
      "MFA_CODE_INVALID",
      `That code is not valid (wrong, expired or already used). ${attemptsLeft} attempt(s) left before a 15-minute lock.`,
    );
  }
}
