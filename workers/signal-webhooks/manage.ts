import type { CredentialVault } from "../../platform/crypto/vault";
import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { MemberIdentity } from "../../platform/db/tenant/providers";
import type {
  SignalWebhookRow,
  SignalWebhookView,
  WebhookCredentialRecord,
} from "../../platform/db/tenant/signal-webhooks";
import type { AppConfig } from "../../shared/config";
import { secretFingerprint, sha256Hex } from "../../shared/crypto/constant-time";
import { communityScope } from "../../shared/crypto/data-keys";
import { masterKeyring } from "../../shared/crypto/sealed-secret";
import { ServiceUnavailableError, UnprocessableError } from "../../shared/errors";
import { can } from "../../shared/rbac/matrix";
import {
  newWebhookCredentials,
  secretBinding,
  type WebhookCredentials,
  webhookUrl,
} from "../../shared/signal-webhooks/credentials";

/**
 * Creating, rotating and revoking signal webhooks, the same for `/webhook` in Discord and the JSON API. The URL's
 * key and the signing secret are shown once, in the answer; D1 keeps the key's hash and the secret sealed
 * by the credential vault under the community's data key.
 */

export interface IssuedWebhook {
  id: string;
  providerUserId: string;
  url: string;
  secret: string;
}

export interface ManageContext {
  tenant: TenantRepository;
  config: AppConfig;
  /** Seals the signing secret under the community's data key. */
  vault: CredentialVault;
  /** Where the Worker is reached from outside (PUBLIC_BASE_URL, else the request's origin). */
  baseUrl: string;
}

export type CreateOutcome = { created: true; webhook: IssuedWebhook } | { created: false; existing: SignalWebhookRow };

export async function createSignalWebhook(
  ctx: ManageContext,
  providerUserId: string,
  actorId: string | null,
): Promise<CreateOutcome> {
  const existing = await ctx.tenant.signalWebhooks.activeFor(providerUserId);
  if (existing) return { created: false, existing };
  const id = crypto.randomUUID();
  const { credentials, record } = await issue(ctx, id);
  const stored = await ctx.tenant.signalWebhooks.create({ id, providerUserId, ...record }, actorId);
  if (!stored.created) return { created: false, existing: stored.webhook };
  return { created: true, webhook: issued(ctx, id, providerUserId, credentials) };
}

/** A new URL and secret for an active webhook (the old ones stop working at once); null when it is not active. */
export async function rotateSignalWebhook(
  ctx: ManageContext,
  webhook: SignalWebhookRow,
  actorId: string | null,
): Promise<IssuedWebhook | null> {
  const { credentials, record } = await issue(ctx, webhook.id);
  if (!(await ctx.tenant.signalWebhooks.rotate(webhook.id, record, actorId))) return null;
  return issued(ctx, webhook.id, webhook.providerUserId, credentials);
}

function issued(
  ctx: ManageContext,
  id: string,
  providerUserId: string,
  credentials: WebhookCredentials,
): IssuedWebhook {
  return { id, providerUserId, url: webhookUrl(ctx.baseUrl, credentials.key), secret: credentials.secret };
}

async function issue(ctx: ManageContext, webhookId: string) {
  if (!masterKeyring(ctx.config).current) {
    throw new ServiceUnavailableError(
      "Signal webhooks need MASTER_KEY and MASTER_KEY_ID to seal their signing secrets.",
      "FEATURE_NOT_CONFIGURED",
    );
  }
  const credentials = newWebhookCredentials();
  const record: WebhookCredentialRecord = {
    keyHash: await sha256Hex(credentials.key),
    keyFingerprint: await secretFingerprint(credentials.key),
    sealedSecret: await ctx.vault.seal(
      communityScope(ctx.tenant.communityId),
      credentials.secret,
      secretBinding(ctx.tenant.communityId, webhookId),
    ),
  };
  return { credentials, record };
}

/**
 * The member a webhook may be created for by Discord id, as the platform records providers: named with
 * `/setup provider:` or holding the stored provider role. (Members who are providers through a Discord role are
 * known only inside an interaction: they create their own with `/webhook create`.)
 */
export async function providerForWebhook(tenant: TenantRepository, discordId: string): Promise<MemberIdentity> {
  const member = await tenant.providers.memberByDiscordId(discordId);
  if (member && (member.namedProvider || (member.role !== null && can(member.role, "signals.post")))) return member;
  throw new UnprocessableError(
    `Discord user ${discordId} is not a signal provider of this community: an admin names them with /setup provider: first.`,
    { code: "NOT_A_PROVIDER" },
  );
}

/** Revokes a webhook (idempotent: an already revoked one is answered as it is); null when it is not this community's. */
export async function revokeSignalWebhook(
  tenant: TenantRepository,
  webhookId: string,
  actorId: string | null,
  reason: string,
): Promise<SignalWebhookView | null> {
  if (!(await tenant.signalWebhooks.get(webhookId))) return null;
  await tenant.signalWebhooks.revoke(webhookId, actorId, reason);
  return tenant.signalWebhooks.view(webhookId);
}
