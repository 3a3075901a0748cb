import type { StepUpReason } from "../../shared/rbac/role-change";
import type { AppContext } from "../http/context";

/**
 * The one place a high-risk change asks for a step-up: a second factor verified
 * in the last 10 minutes (transferring ownership, raising a member to admin; the
 * rules that say which change needs one are `shared/rbac/role-change.ts`). Every
 * such change calls this before it is written.
 *
 * MFA is not built yet, so nothing is verified here: the change goes through and
 * the log says a step-up was due. When MFA lands, this throws for a member
 * without a fresh verification (operators, who hold OPS_TOKEN, are not asked).
 */
export async function requireStepUp(c: AppContext, reason: StepUpReason | null): Promise<void> {
  if (reason === null) return;
  c.get("logger").info("step_up.due", { reason, enforced: false });
}
