import { credentialVault } from "../../../platform/crypto/vault";
import type { SignalWebhookRow } from "../../../platform/db/tenant/signal-webhooks";
import { upsertUser } from "../../../platform/db/users";
import { isProvider, memberMay } from "../../../shared/discord/permissions";
import {
  createSignalWebhook,
  type IssuedWebhook,
  type ManageContext,
  revokeSignalWebhook,
  rotateSignalWebhook,
} from "../../signal-webhooks/manage";
import { type CommunityContext, resolvedMemberFacts, resolvedOf } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";

export type WebhookOptions = OptionsFor<typeof DEFINITIONS.webhook>;

interface Provider {
  userId: string;
  discordId: string;
  self: boolean;
}

/**
 * /webhook create|rotate|revoke (providers; admins with `provider:` for another provider). Every answer is
 * ephemeral and given at once, so the URL and the secret appear only to the member who asked, and are stored
 * nowhere but in that reply (D1 keeps the key's hash and the secret sealed).
 */
export async function handleWebhook(ctx: CommunityContext<WebhookOptions>): Promise<InteractionResponse> {
  const provider = await providerOf(ctx);
  if ("refusal" in provider) return ephemeral(provider.refusal);
  const baseUrl = ctx.config.PUBLIC_BASE_URL;
  if (!baseUrl) return ephemeral("Signal webhooks need PUBLIC_BASE_URL to be configured; nothing was changed.");
  const manage: ManageContext = {
    tenant: ctx.tenant,
    config: ctx.config,
    vault: credentialVault(ctx.db, ctx.config, ctx.logger),
    baseUrl,
  };
  const owner = provider.self ? "you" : `<@${provider.discordId}>`;
  const whose = provider.self ? "your" : `<@${provider.discordId}>'s`;
  const actorId = ctx.member.user.id;
  const current = await ctx.tenant.signalWebhooks.activeFor(provider.userId);

  switch (ctx.options.subcommand) {
    case "create": {
      const outcome = await createSignalWebhook(manage, provider.userId, actorId);
      if (!outcome.created) return ephemeral(alreadyExists(whose, outcome.existing));
      ctx.logger.info("signal_webhook.created", { webhookId: outcome.webhook.id, providerUserId: provider.userId });
      return ephemeral(issuedText(`🔗 Signal webhook created for ${owner}`, outcome.webhook));
    }
    case "rotate": {
      const rotated = current ? await rotateSignalWebhook(manage, current, actorId) : null;
      if (!rotated) return ephemeral(noWebhook(owner));
      ctx.logger.info("signal_webhook.rotated", { webhookId: rotated.id, providerUserId: provider.userId });
      return ephemeral(
        issuedText(`🔄 New URL and secret for ${whose} signal webhook; the old ones no longer work`, rotated),
      );
    }
    case "revoke": {
      if (!current) return ephemeral(noWebhook(owner));
      await revokeSignalWebhook(
        ctx.tenant,
        current.id,
        actorId,
        provider.self ? "revoked by the provider" : "revoked by an admin",
      );
      ctx.logger.info("signal_webhook.revoked", { webhookId: current.id, providerUserId: provider.userId });
      return ephemeral(
        `🛑 ${capitalize(whose)} signal webhook (\`${current.id}\`) is revoked: its URL answers 404 from now on. \`/webhook create\` makes a new one.`,
      );
    }
  }
}

/** Yourself, or (those who manage providers) the provider named in `provider:`. */
async function providerOf(ctx: CommunityContext<WebhookOptions>): Promise<Provider | { refusal: string }> {
  const named = ctx.options.provider;
  if (named === undefined || named === ctx.member.discordId) {
    return { userId: ctx.member.user.id, discordId: ctx.member.discordId, self: true };
  }
  if (!memberMay(ctx.member, ctx.settings, "providers.manage")) {
    return {
      refusal:
        "Only server admins and moderators can manage another provider's webhook; leave out `provider:` for your own.",
    };
  }
  const user = resolvedOf(ctx.interaction).users?.[named];
  if (user?.bot) return { refusal: "A bot cannot have a signal webhook." };
  const known = await ctx.tenant.providers.memberByDiscordId(named);
  if (!isProvider(resolvedMemberFacts(ctx.interaction, named, known), ctx.settings)) {
    return {
      refusal: `<@${named}> is not a signal provider here: name them with \`/setup provider:\` or give them a provider role first.`,
    };
  }
  const userId = known?.userId ?? (await upsertUser(ctx.db, { discordId: named, username: user?.username ?? null })).id;
  return { userId, discordId: named, self: false };
}

function issuedText(heading: string, webhook: IssuedWebhook): string {
  return [
    `${heading} (id \`${webhook.id}\`). Copy both now: they are shown only this once.`,
    `**URL** (the key in it is the password: keep it private): ${webhook.url}`,
    `**Signing secret**: ||\`${webhook.secret}\`||`,
    'POST TradersPost JSON (`{"ticker":"AAPL","action":"buy","quantity":10}`, TradingView alert templates work as they are), `{"signal":{...}}` or `{"text":"BUY AAPL 10 @ 190 SL 185"}`.',
    'Senders that can sign add `x-signature: sha256=<hex HMAC-SHA256 of the body, keyed with the secret>`; a wrong signature is refused. Add `"time"` (`{{timenow}}` in TradingView) so late or repeated alerts never execute twice.',
  ].join("\n");
}

function alreadyExists(whose: string, existing: SignalWebhookRow): string {
  return `${capitalize(whose)} signal webhook already exists (\`${existing.id}\`, created <t:${Math.floor(existing.createdAt / 1000)}:R>). Its URL is shown only once: \`/webhook rotate\` issues a new URL and secret, \`/webhook revoke\` turns it off.`;
}

function noWebhook(owner: string): string {
  return `There is no active signal webhook for ${owner}; \`/webhook create\` makes one.`;
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
