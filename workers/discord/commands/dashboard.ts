import { oneTimeLinkStore } from "../../../platform/db/one-time-links";
import { ButtonStyle } from "../../../shared/discord/components";
import type { CommunityContext } from "../context";
import { ephemeral, type InteractionResponse } from "../respond";

/** A `/dashboard` link signs in within 5 minutes, once. */
export const DASHBOARD_LINK_TTL_MS = 5 * 60_000;

/**
 * /dashboard (ephemeral): a single-use sign-in link for the member who ran it, valid 5 minutes. Discord has already
 * proved who they are and that they are in this server, so the link skips the OAuth round trip. It opens a page
 * with one button; only that button's POST signs in, so a link preview cannot use the link up.
 */
export async function handleDashboard(ctx: CommunityContext): Promise<InteractionResponse> {
  const base = ctx.config.PUBLIC_BASE_URL?.replace(/\/+$/, "");
  if (!base || !ctx.config.SESSION_SECRET) {
    ctx.logger.warn("dashboard.link_unavailable", { reason: "PUBLIC_BASE_URL or SESSION_SECRET missing" });
    return ephemeral("The web dashboard is not configured on this deployment (PUBLIC_BASE_URL, SESSION_SECRET).");
  }
  const token = await oneTimeLinkStore(ctx.db).create({
    purpose: "sign_in",
    userId: ctx.member.user.id,
    communityId: ctx.community.id,
    ttlMs: DASHBOARD_LINK_TTL_MS,
  });
  ctx.logger.info("dashboard.link_issued", { userId: ctx.member.user.id });
  return ephemeral("Your dashboard sign-in link: it works once, within 5 minutes, and only for you. Do not share it.", [
    {
      type: 1,
      components: [{ type: 2, style: ButtonStyle.LINK, label: "Open dashboard", url: `${base}/auth/link?t=${token}` }],
    },
  ]);
}
