import { executorFor } from "../../../platform/objects";
import { accountMark } from "../../../shared/discord/badge";
import { formatMoney, formatPrice, formatQuantity, priceCurrency } from "../../../shared/discord/format";
import { positionName } from "../../../shared/execution/order-label";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { embedFieldValue, ephemeral, type InteractionResponse } from "../respond";

export type PortfolioOptions = OptionsFor<typeof DEFINITIONS.portfolio>;

const EMBED_COLOR = 0x5865f2;

/** "+$12.50", "-$3.00", "$0.00". */
function pnl(value: number, currency: string): string {
  return value > 0 ? `+${formatMoney(value, currency)}` : formatMoney(value, currency);
}

/** The account's equity, cash and day P&L from the executor, or null when it cannot be asked just now. */
async function accountFigures(ctx: CommunityContext<PortfolioOptions>) {
  try {
    return await executorFor(ctx.env, ctx.community.id).memberAccount({
      communityId: ctx.community.id,
      userId: ctx.member.user.id,
    });
  } catch (error) {
    ctx.logger.warn("portfolio.account_unread", { error: String(error) });
    return null;
  }
}

/**
 * /portfolio: an embed with the account's equity, cash and day P&L, then the member's recorded positions (stocks,
 * crypto and option contracts by name) with average price, paper or live, and P&L (ephemeral: personal data).
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
  const value = embedFieldValue(lines);
  const figures = await accountFigures(ctx);
  const account = figures
    ? [
        { name: "Equity", value: formatMoney(figures.equity, figures.currency), inline: true },
        { name: "Cash", value: formatMoney(figures.cash, figures.currency), inline: true },
        {
          name: "Day P&L",
          value: figures.dayPnl === null ? "not known yet" : pnl(figures.dayPnl, figures.currency),
          inline: true,
        },
      ]
    : [{ name: "Account", value: "Equity and cash could not be read just now; try again shortly." }];
  return ephemeral(
    "",
    [],
    [{ title: "Your portfolio", color: EMBED_COLOR, fields: [...account, { name: "Positions", value }] }],
  );
}
