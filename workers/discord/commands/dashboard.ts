import { linkButtonRow } from "../../../shared/discord/components";
import type { CommunityContext } from "../context";
import { ephemeral, type InteractionResponse } from "../respond";

/** A sign-in link to the web dashboard for this server; ephemeral, like every link. */
export async function handleDashboard(ctx: CommunityContext): Promise<InteractionResponse> {
  const base = ctx.config.PUBLIC_BASE_URL?.replace(/\/+$/, "");
  if (!base) {
    return ephemeral(`The dashboard is not configured (PUBLIC_BASE_URL). (request id \`${ctx.requestId}\`)`);
  }
  const url = `${base}/auth/discord/login?guild=${encodeURIComponent(ctx.guildId)}`;
  return ephemeral(`Open your dashboard: ${url}`, [linkButtonRow("Open dashboard", url)]);
}
