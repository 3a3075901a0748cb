import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import type { InteractionResponse } from "../respond";
import { notAvailableYet } from "./not-available";

export type CancelOptions = OptionsFor<typeof DEFINITIONS.cancel>;

/**
 * /cancel: Cancels one of the member's open orders through the executor (deferred, ephemeral).
 * To be filled in by the engine that owns it; the context carries the member,
 * the tenant repository and `ctx.defer` for anything slow.
 */
export async function handleCancel(ctx: CommunityContext<CancelOptions>): Promise<InteractionResponse> {
  return notAvailableYet(ctx, "cancel");
}
