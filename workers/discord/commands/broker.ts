import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import type { InteractionResponse } from "../respond";
import { comingSoonReply } from "./coming-soon";

export type BrokerOptions = OptionsFor<typeof DEFINITIONS.broker>;

/**
 * /broker: broker connections (`connect` an OAuth link, `status`, `disconnect`), coming soon: the definition says
 * what it will do, and /help lists it under "Coming soon".
 */
export async function handleBroker(_ctx: CommunityContext<BrokerOptions>): Promise<InteractionResponse> {
  return comingSoonReply("broker");
}
