import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";
import { discordStepUpRefusal } from "../step-up";
import { comingSoonReply } from "./coming-soon";

export type BrokerOptions = OptionsFor<typeof DEFINITIONS.broker>;

/**
 * /broker: broker connections (`connect` an OAuth link, `status`, `disconnect`), coming soon: the definition says
 * what it will do, and /help lists it under "Coming soon". Connecting a broker is a step-up, checked first so the
 * connect flow, once built, starts only after it.
 */
export async function handleBroker(ctx: CommunityContext<BrokerOptions>): Promise<InteractionResponse> {
  if (ctx.options.subcommand === "connect") {
    const refusal = await discordStepUpRefusal(ctx, "broker.connect");
    if (refusal) return ephemeral(refusal);
  }
  return comingSoonReply("broker");
}
