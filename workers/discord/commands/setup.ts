import { loadEntitlements } from "../../../platform/billing/load-entitlements";
import { communityDirectory } from "../../../platform/db/cross-community/community-directory";
import { forCommunity, type TenantRepository } from "../../../platform/db/tenant/for-community";
import { upsertUser } from "../../../platform/db/users";
import { canAddProvider } from "../../../shared/billing/entitlements";
import { memberMay } from "../../../shared/discord/permissions";
import type { DiscordSettings } from "../../../shared/discord/settings";
import { type GuildContext, resolvedOf } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";

export type SetupOptions = OptionsFor<typeof DEFINITIONS.setup>;

/**
 * /setup (admins and moderators: `providers.manage`): registers the server,
 * adds or removes provider roles and signal channels, names providers and takes
 * providers back, and sets or removes the access role that paid access is sold
 * through. Idempotent: running it again with the same options changes nothing.
 * The first admin to run it becomes the owner (a stored role; an unregistered
 * server has no moderators, so only a Discord admin registers it).
 */
export async function handleSetup(ctx: GuildContext<SetupOptions>): Promise<InteractionResponse> {
  const { db, member, options } = ctx;
  const actorId = member.user.id;
  const accessRole = accessRoleOf(ctx);
  if (accessRole && "refusal" in accessRole) return ephemeral(accessRole.refusal);
  // Paid access is the community's business, not a moderator's: the access role is for `community.configure`.
  if ((accessRole || options.remove_access_role) && !memberMay(member, ctx.settings, "community.configure")) {
    return ephemeral("Only the server's owner and admins can set or remove the access role; nothing was changed.");
  }
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
  // A community deleted within the last 30 days (not yet purged) comes back as it was, as after a re-invite.
  const restored = community.deletedAt !== null && (await tenant.community.restore({ actorId }));

  if (!becameOwner && community.ownerUserId === null) becameOwner = await tenant.providers.claimOwnership(actorId);
  if (becameOwner || community.ownerUserId === actorId) await tenant.memberships.upsert(actorId, "owner", { actorId });

  const { changed, settings } = await tenant.providers.changeDiscordSettings(
    {
      add: {
        providerRoleIds: options.provider_role ? [options.provider_role] : [],
        signalChannelIds: options.signal_channel ? [options.signal_channel] : [],
      },
      remove: {
        providerRoleIds: options.remove_provider_role ? [options.remove_provider_role] : [],
        signalChannelIds: options.remove_signal_channel ? [options.remove_signal_channel] : [],
      },
      unparsedMessages: options.unparsed_messages,
      accessRole: accessRole ? accessRole.role : options.remove_access_role ? null : undefined,
    },
    actorId,
  );

  const removed = options.remove_provider ? await removeProvider(tenant, options.remove_provider, actorId) : false;

  let namedProvider: string | null = null;
  let named = false;
  if (options.provider) {
    const discordUser = resolvedOf(ctx.interaction).users?.[options.provider];
    if (discordUser?.bot) return ephemeral("A bot cannot be a signal provider.");
    const known = await tenant.providers.memberByDiscordId(options.provider);
    if (!known?.namedProvider) {
      const plan = canAddProvider(
        await loadEntitlements(db, { communityId: community.id }, { config: ctx.config, communityLink: true }),
        await tenant.providers.namedCount(),
      );
      if (!plan.allowed)
        return ephemeral(`The rest of the setup is saved, but <@${options.provider}> was not named: ${plan.reason}`);
    }
    const provider = await upsertUser(db, { discordId: options.provider, username: discordUser?.username ?? null });
    named = await tenant.providers.name(provider.id, actorId);
    if (!(await tenant.memberships.get(provider.id)))
      await tenant.memberships.upsert(provider.id, "trader", { actorId });
    namedProvider = options.provider;
  }

  const headline = restored
    ? "♻️ This server's community was deleted and is restored as it was. Trading stays halted until an owner or admin resumes it with `/killswitch action:resume`; signal webhooks were revoked: create new ones."
    : becameOwner
      ? "✅ This server is registered, and you are its owner."
      : changed || named || removed
        ? "✅ Setup updated."
        : "Setup is unchanged: everything you gave was already configured.";
  const lines = [headline, ...describeSetup(settings, namedProvider)];
  if (removed && options.remove_provider) lines.splice(1, 0, `Removed provider: <@${options.remove_provider}>`);
  return ephemeral(lines.join("\n"));
}

/**
 * Takes a member's provider rights back: un-names them, returns a stored
 * provider role to trader and revokes their signal webhook, each audited. A
 * higher stored role (moderator, admin, owner) stays: changing it is a role
 * change, for owners and admins. A provider role they hold in Discord is the
 * server's to take away.
 */
async function removeProvider(tenant: TenantRepository, discordId: string, actorId: string): Promise<boolean> {
  const known = await tenant.providers.memberByDiscordId(discordId);
  if (!known) return false;
  const unnamed = await tenant.providers.unname(known.userId, actorId);
  const demoted = known.role === "provider";
  if (demoted) await tenant.memberships.upsert(known.userId, "trader", { actorId });
  const webhook = await tenant.signalWebhooks.activeFor(known.userId);
  const revoked = webhook ? await tenant.signalWebhooks.revoke(webhook.id, actorId, "provider removed") : false;
  return unnamed || demoted || revoked;
}

/**
 * The access role asked for, checked: a role of this server that Discord resolved (a role id it did not resolve is
 * not one of the server's), and not @everyone (whose id is the guild's), which would gate nothing.
 */
function accessRoleOf(
  ctx: GuildContext<SetupOptions>,
): { role: { id: string; name: string } } | { refusal: string } | null {
  const id = ctx.options.access_role;
  if (!id) return null;
  if (ctx.options.remove_access_role) {
    return { refusal: "Give either `access_role:` or `remove_access_role:true`, not both; nothing was changed." };
  }
  if (id === ctx.guildId) {
    return { refusal: "@everyone cannot be the access role: every member holds it. Nothing was changed." };
  }
  const role = resolvedOf(ctx.interaction).roles?.[id];
  if (!role) return { refusal: `<@&${id}> is not a role of this server; nothing was changed.` };
  return { role: { id, name: role.name } };
}

function describeSetup(settings: DiscordSettings, namedProvider: string | null): string[] {
  const list = (ids: string[], render: (id: string) => string, none: string) =>
    ids.length > 0 ? ids.map(render).join(", ") : none;
  return [
    `Provider roles: ${list(settings.providerRoleIds, (id) => `<@&${id}>`, "none (name providers with `provider:`)")}`,
    `Signal channels: ${list(settings.signalChannelIds, (id) => `<#${id}>`, "none (`/signal` works in any channel; no channel's messages are read)")}`,
    settings.unparsedMessages === "reply"
      ? "A provider's message in a signal channel that is not a signal: answered with ⚠️ and the reason"
      : "A provider's message in a signal channel that is not a signal: ignored (`unparsed_messages:reply` answers it)",
    settings.accessRoleId
      ? `Access role: <@&${settings.accessRoleId}> (only its holders may follow and have trades copied)`
      : "Access role: none (every member may follow; `access_role:` sells access through a role)",
    ...(namedProvider ? [`Named provider: <@${namedProvider}>`] : []),
    "Providers post in a signal channel, or with `/signal`; members copy them with `/follow`.",
  ];
}
