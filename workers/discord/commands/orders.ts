import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import type { InteractionResponse } from "../respond";
import { notAvailableYet } from "./not-available";

export type OrdersOptions = OptionsFor<typeof DEFINITIONS.orders>;

/**
 * /orders: The member's recent orders, optionally by status (ephemeral).
 * To be filled in by the engine that owns it; the context carries the member,
 * the tenant repository and `ctx.defer` for anything slow.
 */
export async function handleOrders(ctx: CommunityContext<OrdersOptions>): Promise<InteractionResponse> {
  return notAvailableYet(ctx, "orders");
}
