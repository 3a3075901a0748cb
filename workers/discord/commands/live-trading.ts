import { loadEntitlements } from "../../../platform/billing/load-entitlements";
import { canTradeLive } from "../../../shared/billing/entitlements";
import type { CommunityContext } from "../context";
import { isAvailable } from "./coming-soon";

export type LiveTradingDecision = { allowed: true } | { allowed: false; reason: string };

/**
 * Whether a member may switch to live trading: an active connection to a real (non-paper) broker, and a trader plan
 * that includes live trading. While `/broker` is coming soon, a member without a connection is told that live trading
 * is coming soon: no plan is offered that could not be used.
 */
export async function liveTradingDecision(ctx: CommunityContext<unknown>): Promise<LiveTradingDecision> {
  const userId = ctx.member.user.id;
  const connected = await ctx.tenant.riskProfiles.hasLiveBrokerConnection(userId);
  if (!connected && !isAvailable("broker")) {
    return {
      allowed: false,
      reason:
        "live trading comes with broker connections, which are coming soon. Paper trading copies the same signals with the same risk limits.",
    };
  }
  const plan = canTradeLive(
    await loadEntitlements(ctx.db, { communityId: ctx.community.id, userId }, { config: ctx.config }),
  );
  if (!plan.allowed) return { allowed: false, reason: plan.reason };
  if (!connected) {
    return {
      allowed: false,
      reason: "live trading needs an active connection to a real broker; connect one with `/broker connect`.",
    };
  }
  return { allowed: true };
}
