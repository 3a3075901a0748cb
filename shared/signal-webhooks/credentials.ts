import { randomToken } from "../crypto/encoding";

/**
 * A signal webhook's two credentials. The key goes in the URL (`/webhooks/signals/<key>`): 256 random bits,
 * base64url, 43 characters; it alone authenticates a request, because TradingView cannot sign. The secret (another
 * 256 bits) is for senders that can sign: `x-signature: sha256=<hex HMAC-SHA256 of the raw body>`, keyed with the
 * secret's UTF-8 bytes as shown to the provider.
 */

export const WEBHOOK_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface WebhookCredentials {
  key: string;
  secret: string;
}

export function newWebhookCredentials(): WebhookCredentials {
  return { key: randomToken(32), secret: randomToken(32) };
}

/** What a sealed signing secret is bound to (its additional authenticated data): its community and webhook. */
export function secretBinding(communityId: string, webhookId: string): string {
  return `signal-webhook:${communityId}:${webhookId}`;
}

export function webhookUrl(baseUrl: string, key: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/webhooks/signals/${key}`;
}
