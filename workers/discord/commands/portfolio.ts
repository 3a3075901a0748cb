import { positionName } from "../../../shared/execution/order-label";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";

export type PortfolioOptions = OptionsFor<typeof DEFINITIONS.portfolio>;

const money = (n: number) => n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** /portfolio: the member's recorded positions with average price and P&L (ephemeral: personal data). */
export async function handlePortfolio(ctx: CommunityContext<PortfolioOptions>): Promise<InteractionResponse> {
  const positions = (await ctx.tenant.execution.positionsOf(ctx.member.user.id)).filter(
    (p) => Math.abs(p.quantity) > 1e-9,
  );
  if (positions.length === 0) return ephemeral("You hold no positions in this community.");
  const lines = positions.map((p) => {
    const side = p.quantity < 0 ? "short" : "long";
    const unrealized = p.unrealizedPnl === null ? "" : `, unrealized ${money(p.unrealizedPnl)}`;
    return `• ${positionName(p.symbol)} (${p.accountRef}): ${side} ${Math.abs(p.quantity)} @ ${money(p.averagePrice)}${unrealized}, realized ${money(p.realizedPnl)}`;
  });
  return ephemeral(`**Your positions**\n${lines.join("\n")}`);
}
