import type { CommunityContext } from "../context";
import type { InteractionResponse } from "../respond";
import { notAvailableYet } from "./not-available";

/**
 * The web dashboard is planned: its Discord sign-in (`GET /auth/discord/login`) is not built yet, so the command
 * says so instead of handing out a link that would answer 404. When the sign-in lands, this answers with an
 * ephemeral link to `${PUBLIC_BASE_URL}/auth/discord/login?guild=<guild id>`.
 */
export async function handleDashboard(ctx: CommunityContext): Promise<InteractionResponse> {
  return notAvailableYet(ctx, "dashboard", "the web dashboard and its Discord sign-in are planned");
}
