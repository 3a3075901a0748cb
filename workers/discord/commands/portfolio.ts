import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import type { InteractionResponse } from "../respond";
import { notAvailableYet } from "./not-available";

export type PortfolioOptions = OptionsFor<typeof DEFINITIONS.portfolio>;

/**
 * /portfolio: The member's positions and P&L, from the execution engine (ephemeral: personal data).
 * To be filled in by the engine that owns it; the context carries the member,
 * the tenant repository and `ctx.defer` for anything slow.
 */
export async function handlePortfolio(ctx: CommunityContext<PortfolioOptions>): Promise<InteractionResponse> {
  return notAvailableYet(ctx, "portfolio");
}
