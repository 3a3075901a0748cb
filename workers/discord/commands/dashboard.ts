import type { CommunityContext } from "../context";
import type { InteractionResponse } from "../respond";
import { comingSoonReply } from "./coming-soon";

/**
 * The web dashboard is coming soon: its Discord sign-in (`GET /auth/discord/login`) is not built yet, so the command
 * says so instead of handing out a link that would answer 404. When the sign-in lands, this answers with an
 * ephemeral link to `${PUBLIC_BASE_URL}/auth/discord/login?guild=<guild id>` and drops `comingSoon`.
 */
export async function handleDashboard(_ctx: CommunityContext): Promise<InteractionResponse> {
  return comingSoonReply("dashboard");
}
