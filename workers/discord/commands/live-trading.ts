import { loadEntitlements } from "../../../platform/billing/entitlements";
import { canTradeLive } from "../../../shared/billing/entitlements";
import type { CommunityContext } from "../context";

export type LiveTradingDecision = { allowed: true } | { allowed: false; reason: string };

/**
 * Whether a member may switch to live trading: an active connection to a real
 * (non-paper) broker, and a trader plan that includes live trading.
 */
export async function liveTradingDecision(ctx: CommunityContext<unknown>): Promise<LiveTradingDecision> {
  const userId = ctx.member.user.id;
  const plan = canTradeLive(
    await loadEntitlements(ctx.db, { communityId: ctx.community.id, userId }, { config: ctx.config }),
  );
  if (!plan.allowed) return { allowed: false, reason: plan.reason };
  if (!(await ctx.tenant.riskProfiles.hasLiveBrokerConnection(userId))) {
    return {
      allowed: false,
      reason: "live trading needs an active connection to a real broker; connect one with `/broker connect`.",
    };
  }
  return { allowed: true };
}
