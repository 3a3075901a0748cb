import type { BaseContext } from "../context";
import { ephemeral, type InteractionResponse } from "../respond";

/** The honest answer of a command whose engine is not built yet (with why, when there is more to say): no invented data. */
export function notAvailableYet(
  ctx: Pick<BaseContext, "requestId">,
  command: string,
  why?: string,
): InteractionResponse {
  return ephemeral(`\`/${command}\` is not available yet${why ? `: ${why}` : ""}. (request id \`${ctx.requestId}\`)`);
}
