import { accountMark } from "../../../shared/discord/badge";
import { formatMoney, formatPrice, formatQuantity, priceCurrency } from "../../../shared/discord/format";
import { positionName } from "../../../shared/execution/order-label";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";

export type PortfolioOptions = OptionsFor<typeof DEFINITIONS.portfolio>;

/** "+$12.50", "-$3.00", "$0.00". */
function pnl(value: number, currency: string): string {
  return value > 0 ? `+${formatMoney(value, currency)}` : formatMoney(value, currency);
}

/**
 * /portfolio: the member's recorded positions (stocks, crypto and option contracts by name) with average price,
 * paper or live, and P&L (ephemeral: personal data).
 */
export async function handlePortfolio(ctx: CommunityContext<PortfolioOptions>): Promise<InteractionResponse> {
  const positions = (await ctx.tenant.execution.positionsOf(ctx.member.user.id)).filter(
    (p) => Math.abs(p.quantity) > 1e-9,
  );
  if (positions.length === 0) return ephemeral("You hold no positions in this community.");
  const lines = positions.map((p) => {
    const currency = priceCurrency(p);
    const side = p.quantity < 0 ? "short" : "long";
    const mode = accountMark(p.accountRef === "paper" ? "paper" : "live");
    const unrealized = p.unrealizedPnl === null ? "" : `, unrealized ${pnl(p.unrealizedPnl, currency)}`;
    return `• ${positionName(p.symbol)} (${mode}): ${side} ${formatQuantity(Math.abs(p.quantity))} @ ${formatPrice(p.averagePrice, currency)}${unrealized}, realized ${pnl(p.realizedPnl, currency)}`;
  });
  return ephemeral(`**Your positions**\n${lines.join("\n")}`);
}
