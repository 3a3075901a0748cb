import { stepUpFor } from "../../platform/members/step-up";
import { SECURITY_PAGE_PATH, type StepUpReason, stepUpRefusalText } from "../../shared/auth/mfa";
import type { CommunityContext } from "./context";

/**
 * The Discord side of the one step-up check (`workers/auth/step-up.ts` is the API's): null when the member may take
 * the step-up action now, else the refusal's words leading to the security page. Discord has no session, so the
 * member's last verification anywhere counts.
 */
export async function discordStepUpRefusal(
  ctx: CommunityContext<unknown>,
  reason: StepUpReason,
): Promise<string | null> {
  const verdict = await stepUpFor(ctx.db, ctx.tenant, { userId: ctx.member.user.id, role: ctx.member.role });
  if (verdict.ok) return null;
  ctx.logger.info("step_up.refused", { reason, code: verdict.code });
  const base = ctx.config.PUBLIC_BASE_URL?.replace(/\/+$/, "") ?? "";
  return stepUpRefusalText(verdict.code, reason, `${base}${SECURITY_PAGE_PATH}`);
}
