import { mfaRequired, type StepUpVerdict, stepUpVerdict } from "../../shared/auth/mfa";
import type { CommunityRole } from "../../shared/rbac/matrix";
import type { Database } from "../db/client";
import { mfaStore } from "../db/mfa";
import type { TenantRepository } from "../db/tenant/for-community";

/**
 * Whether a member may take a step-up action in a community now (the rules: `shared/auth/mfa.ts`). Whether they
 * must have a factor depends on their role, the community's plan and their live broker connection here.
 * `verifiedAt` is the verification that counts: the browser session's for the API (`workers/auth/step-up.ts`); for
 * Discord, which has no session, leave it out: the member's last verification anywhere counts.
 */
export async function stepUpFor(
  db: Database,
  tenant: TenantRepository,
  input: { userId: string; role: CommunityRole | null; verifiedAt?: number | null },
): Promise<StepUpVerdict> {
  const [factor, community, liveBroker] = await Promise.all([
    mfaStore(db).get(input.userId),
    tenant.community.get(),
    tenant.riskProfiles.hasLiveBrokerConnection(input.userId),
  ]);
  return stepUpVerdict({
    enrolled: factor?.state === "active",
    required: mfaRequired({ role: input.role, tier: community?.tier ?? "free", liveBroker }),
    verifiedAt: input.verifiedAt === undefined ? (factor?.verifiedAt ?? null) : input.verifiedAt,
    now: Date.now(),
  });
}
