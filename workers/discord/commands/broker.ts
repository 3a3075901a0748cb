import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import type { InteractionResponse } from "../respond";
import { notAvailableYet } from "./not-available";

export type BrokerOptions = OptionsFor<typeof DEFINITIONS.broker>;

/**
 * /broker: Broker connections: `connect` (an OAuth link), `status`, `disconnect` (ephemeral).
 * To be filled in by the engine that owns it; the context carries the member,
 * the tenant repository and `ctx.defer` for anything slow.
 */
export async function handleBroker(ctx: CommunityContext<BrokerOptions>): Promise<InteractionResponse> {
  return notAvailableYet(ctx, "broker");
}
