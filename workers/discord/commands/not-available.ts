import type { BaseContext } from "../context";
import { ephemeral, type InteractionResponse } from "../respond";

/** The honest answer of a command whose engine is not built yet: no invented data. */
export function notAvailableYet(ctx: Pick<BaseContext, "requestId">, command: string): InteractionResponse {
  return ephemeral(`\`/${command}\` is not available yet. (request id \`${ctx.requestId}\`)`);
}
