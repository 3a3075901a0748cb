import { canAddProvider } from "../../../shared/billing/entitlements";
import { loadEntitlements } from "../../billing/entitlements";
import { communityDirectory, upsertUser } from "../../db/directory";
import { forCommunity } from "../../db/tenant";
import type { DiscordSettings } from "../../db/tenant/providers";
import { type GuildContext, resolvedOf } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";

export type SetupOptions = OptionsFor<typeof DEFINITIONS.setup>;

/**
 * /setup (admins): registers the server, adds provider roles, signal channels
 * and named providers. Idempotent: running it again with the same options
 * changes nothing. The first admin to run it becomes the owner.
 */
export async function handleSetup(ctx: GuildContext<SetupOptions>): Promise<InteractionResponse> {
  const { db, member } = ctx;
  const actorId = member.user.id;
  let community = ctx.community;
  let becameOwner = false;
  if (!community) {
    const registered = await communityDirectory(db).create({
      guildId: ctx.guildId,
      name: `Discord server ${ctx.guildId}`,
      ownerUserId: actorId,
    });
    community = registered.community;
    becameOwner = registered.created;
  }
  const tenant = forCommunity(db, community.id);

  if (!becameOwner && community.ownerUserId === null) becameOwner = await tenant.providers.claimOwnership(actorId);
  const currentRole = (await tenant.memberships.get(actorId))?.role ?? null;
  if (becameOwner || community.ownerUserId === actorId) {
    await tenant.memberships.upsert(actorId, "owner", { actorId });
  } else if (currentRole !== "admin" && currentRole !== "owner") {
    await tenant.memberships.upsert(actorId, "admin", { actorId });
  }

  const { changed, settings } = await tenant.providers.addDiscordSettings(
    {
      providerRoleIds: ctx.options.provider_role ? [ctx.options.provider_role] : [],
      signalChannelIds: ctx.options.signal_channel ? [ctx.options.signal_channel] : [],
    },
    actorId,
  );

  let namedProvider: string | null = null;
  let named = false;
  if (ctx.options.provider) {
    const discordUser = resolvedOf(ctx.interaction).users?.[ctx.options.provider];
    if (discordUser?.bot) return ephemeral("A bot cannot be a signal provider.");
    const known = await tenant.providers.memberByDiscordId(ctx.options.provider);
    if (!known?.namedProvider) {
      const plan = canAddProvider(
        await loadEntitlements(db, { communityId: community.id }, { config: ctx.config, communityLink: true }),
        await tenant.providers.namedCount(),
      );
      if (!plan.allowed)
        return ephemeral(
          `The rest of the setup is saved, but <@${ctx.options.provider}> was not named: ${plan.reason}`,
        );
    }
    const provider = await upsertUser(db, { discordId: ctx.options.provider, username: discordUser?.username ?? null });
    named = await tenant.providers.name(provider.id, actorId);
    if (!(await tenant.memberships.get(provider.id)))
      await tenant.memberships.upsert(provider.id, "trader", { actorId });
    namedProvider = ctx.options.provider;
  }

  const headline = becameOwner
    ? "✅ This server is registered, and you are its owner."
    : changed || named
      ? "✅ Setup updated."
      : "Setup is unchanged: everything you gave was already configured.";
  return ephemeral([headline, ...describeSetup(settings, namedProvider)].join("\n"));
}

function describeSetup(settings: DiscordSettings, namedProvider: string | null): string[] {
  const list = (ids: string[], render: (id: string) => string, none: string) =>
    ids.length > 0 ? ids.map(render).join(", ") : none;
  return [
    `Provider roles: ${list(settings.providerRoleIds, (id) => `<@&${id}>`, "none (name providers with `provider:`)")}`,
    `Signal channels: ${list(settings.signalChannelIds, (id) => `<#${id}>`, "any channel")}`,
    ...(namedProvider ? [`Named provider: <@${namedProvider}>`] : []),
    "Providers post with `/signal`; members copy them with `/follow`.",
  ];
}
