import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";

export type UnfollowOptions = OptionsFor<typeof DEFINITIONS.unfollow>;

/** `123…`, `<@123…>` or `<@!123…>`: autocomplete fills in the id, a member may paste a mention. */
function discordIdFrom(text: string): string | null {
  const match = /^\s*(?:<@!?(\d{17,20})>|(\d{17,20}))\s*$/.exec(text);
  return match?.[1] ?? match?.[2] ?? null;
}

/** /unfollow provider:<provider> (autocompleted with providers). */
export async function handleUnfollow(ctx: CommunityContext<UnfollowOptions>): Promise<InteractionResponse> {
  const discordId = discordIdFrom(ctx.options.provider);
  if (!discordId) return ephemeral("Pick a provider from the list (or paste their @mention).");
  const provider = await ctx.tenant.providers.memberByDiscordId(discordId);
  const removed = provider ? await ctx.tenant.follows.remove(ctx.member.user.id, provider.userId) : false;
  return ephemeral(
    removed ? `You no longer follow <@${discordId}>.` : `You were not following <@${discordId}>; nothing changed.`,
  );
}
