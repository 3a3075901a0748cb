import { CONFIRM_WINDOW_SECONDS } from "../../../shared/execution/follow-mode";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";
import { discordStepUpRefusal } from "../step-up";
import { liveTradingDecision } from "./live-trading";

export type PaperOptions = OptionsFor<typeof DEFINITIONS.paper>;

/**
 * /paper mode:paper|live — every member starts on paper. Live needs an active
 * connection to a real broker and a trader plan that includes live trading, and
 * it is a step-up: a member with a live broker connection must have two-factor
 * authentication, verified at /app/security in the last 10 minutes.
 */
export async function handlePaper(ctx: CommunityContext<PaperOptions>): Promise<InteractionResponse> {
  const userId = ctx.member.user.id;
  if (ctx.options.mode === "paper") {
    const changed = await ctx.tenant.riskProfiles.setTradingMode(userId, "paper", userId);
    return ephemeral(changed ? "📝 You are now paper trading." : "You are already paper trading; nothing changed.");
  }
  const current = (await ctx.tenant.riskProfiles.get(userId))?.tradingMode ?? "paper";
  if (current === "live") return ephemeral("You are already trading live; nothing changed.");
  const decision = await liveTradingDecision(ctx);
  if (!decision.allowed) return ephemeral(`You stay on paper: ${decision.reason}`);
  const refusal = await discordStepUpRefusal(ctx, "trading.go_live");
  if (refusal) return ephemeral(`You stay on paper: ${refusal}`);
  await ctx.tenant.riskProfiles.setTradingMode(userId, "live", userId);
  const autoTrading = (await ctx.tenant.follows.followedBy(userId))
    .filter((follow) => follow.enabled && follow.mode === "auto")
    .map((follow) => `<@${follow.discordId}>`);
  return ephemeral(
    `💵 You are now trading live: your followed signals go to your connected broker. Auto-trading is off for live money: you confirm each order within ${CONFIRM_WINDOW_SECONDS} s, unless you turn it on for a provider with \`/follow provider:<provider> mode:auto\`.${autoTrading.length > 0 ? ` Already on auto-trading (your choice): ${autoTrading.join(", ")}.` : ""}`,
  );
}
