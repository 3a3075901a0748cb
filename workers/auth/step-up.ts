import { database } from "../../platform/db/client";
import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { stepUpFor } from "../../platform/members/step-up";
import { type StepUpReason, StepUpRefusedError } from "../../shared/auth/mfa";
import { principalOf } from "../http/community-access";
import type { AppContext } from "../http/context";
import { securityUrl } from "./mfa";

/**
 * The one place a high-risk action asks for a step-up: a second factor verified in the last 10 minutes
 * (transferring ownership, raising a member to admin, switching to live trading; which role change needs one is
 * `shared/rbac/role-change.ts`, the rules are `shared/auth/mfa.ts`). A member who must have a factor (an owner, an
 * admin of an enterprise community, anyone with a live broker connection) and has none is refused MFA_REQUIRED; an
 * enrolled member without a fresh verification STEP_UP_REQUIRED; both lead to `/app/security`. Discord commands ask
 * `stepUpFor` (platform/members/step-up.ts) directly and answer the refusal as an ephemeral message.
 */

/**
 * For API routes: throws the 403 refusal unless the caller may take the step-up action now. Operators (OPS_TOKEN)
 * are not asked.
 */
export async function requireStepUp(
  c: AppContext,
  tenant: TenantRepository,
  reason: StepUpReason | null,
): Promise<void> {
  if (reason === null) return;
  const principal = principalOf(c);
  if (principal.kind === "operator") return;
  const verdict = await stepUpFor(database(c.env.DB), tenant, {
    userId: principal.userId,
    role: principal.role,
    verifiedAt: c.get("session")?.mfaVerifiedAt ?? null,
  });
  c.get("logger").info("step_up.checked", { reason, ...verdict });
  if (!verdict.ok) throw new StepUpRefusedError(verdict.code, reason, securityUrl(c));
}
