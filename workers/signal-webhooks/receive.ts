import { credentialVault } from "../../platform/crypto/vault";
import { database } from "../../platform/db/client";
import { activeWebhookByKeyHash, type WebhookByKey } from "../../platform/db/cross-community/signal-webhook-keys";
import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { forCommunity } from "../../platform/db/tenant/for-community";
import type { ExecutorSummary } from "../../platform/execution/executor-answer";
import { rateLimiterFor } from "../../platform/objects";
import { intakeSignal } from "../../platform/signals/intake";
import { takeManagement } from "../../platform/signals/management-intake";
import type { AppConfig } from "../../shared/config";
import { constantTimeEqual, sha256Hex } from "../../shared/crypto/constant-time";
import { communityScope } from "../../shared/crypto/data-keys";
import { verifySha256Signature } from "../../shared/crypto/hmac";
import { SealedSecretError } from "../../shared/crypto/sealed-secret";
import {
  AppError,
  InvalidJsonError,
  NotFoundError,
  RateLimitedError,
  ServiceUnavailableError,
  UnprocessableError,
  ValidationError,
} from "../../shared/errors";
import { maxSignalAgeSeconds, staleness } from "../../shared/execution/signal-gate";
import type { Logger } from "../../shared/logging";
import { assertValidPolicy, type RateLimitPolicy } from "../../shared/rate-limit";
import { secretBinding, WEBHOOK_KEY_PATTERN } from "../../shared/signal-webhooks/credentials";
import { readWebhookBody, type WebhookBodyReading } from "../../shared/signals/webhook-body";
import type { WebhookSignalError } from "../../shared/signals/webhook-errors";

/**
 * `POST /webhooks/signals/:providerKey`, after the body limit: the key finds the webhook (404 for an unknown or
 * revoked key alike), the webhook's budget is spent (60 a minute and 500 an hour), a sent `x-signature` is
 * verified, the body is read (TradersPost JSON, `{"signal"}` or `{"text"}`), a `time` beyond the community's
 * maximum signal age is refused, and the signal takes the same path as `/signal` (platform/signals/intake.ts).
 */

export const WEBHOOK_RATE_LIMITS: readonly { name: string; policy: RateLimitPolicy }[] = [
  { name: "minute", policy: { limit: 60, periodMs: 60_000 } },
  { name: "hour", policy: { limit: 500, periodMs: 3_600_000 } },
];
for (const { policy } of WEBHOOK_RATE_LIMITS) assertValidPolicy(policy);

export interface WebhookSignalRequest {
  env: Env;
  config: AppConfig;
  logger: Logger;
  providerKey: string;
  rawBody: string;
  signature: string | undefined;
  /** Told the community once the key has found its webhook (for the access log). */
  onCommunity?: (communityId: string) => void;
}

export interface WebhookSignalReceipt {
  /** The signal posted, or the one whose trades a management body managed (null: a double post still running). */
  signalId: string | null;
  status: ExecutorSummary["status"] | "managed";
  summary: WebhookSignalSummary;
}

export interface WebhookSignalSummary {
  message: string;
  code?: string;
  followers?: number;
  ordersQueued?: number;
  ordersReduced?: number;
  skipped?: Record<string, number>;
  /** Management: entries canceled, stops moved and closes sent. */
  canceledEntries?: number;
  stopsMoved?: number;
  closesQueued?: number;
}

const NOT_FOUND_MESSAGE = "No signal webhook answers at this URL.";

export async function receiveWebhookSignal(request: WebhookSignalRequest): Promise<WebhookSignalReceipt> {
  const receivedAt = Date.now();
  const webhook = await findWebhook(request);
  request.onCommunity?.(webhook.communityId);
  const logger = request.logger.child({ communityId: webhook.communityId, webhookId: webhook.id });
  await spendBudget(request.env, webhook, logger);
  if (request.signature !== undefined) await verifySignature(request, webhook, logger);

  const reading = readWebhookBody(parseJson(request.rawBody), new Date(receivedAt));
  if (!reading.ok) {
    if ("unrecognized" in reading) throw new ValidationError(reading.unrecognized, { code: "UNRECOGNIZED_BODY" });
    throw signalInvalid(reading.errors);
  }
  if (reading.sentAt !== null) {
    const stale = staleness(reading.sentAt, receivedAt, maxSignalAgeSeconds(webhook.communitySettings));
    if (stale) throw new UnprocessableError(stale.reason, { code: "SIGNAL_EXPIRED" });
  }

  const tenant = forCommunity(database(request.env.DB), webhook.communityId);
  if (reading.kind === "management") {
    return receiveManagement(request, webhook, tenant, reading, { receivedAt, logger });
  }
  // A timed body names one alert: sent again, it is the same signal (the executor answers it once). Without a
  // time, each request is its own signal, and the executor's 5-second double-post window catches repeats.
  const sourceId = `webhook:${webhook.id}:${reading.sentAt !== null ? await sha256Hex(request.rawBody) : crypto.randomUUID()}`;
  const outcome = await intakeSignal(
    request.env,
    tenant,
    {
      providerUserId: webhook.providerUserId,
      signal: reading.signal,
      rawText: request.rawBody,
      source: "webhook",
      sourceId,
      sourceTimestamp: reading.sentAt ?? receivedAt,
      channelId: null,
      retriedBy: "sender",
    },
    logger,
  );
  if (outcome.kind !== "submitted") {
    const reason = outcome.kind === "handoff_failed" ? outcome.reason : "it was not handed to the executor";
    throw new ServiceUnavailableError(
      `Signal ${outcome.signal.id} was stored but not executed: ${reason}. Send it again.`,
      "EXECUTOR_UNAVAILABLE",
    );
  }
  logger.info("signal_webhook.received", {
    signalId: outcome.signal.id,
    form: reading.form,
    outcome: outcome.summary.status,
  });
  return { signalId: outcome.signal.id, status: outcome.summary.status, summary: summaryOf(outcome.summary) };
}

async function findWebhook(request: WebhookSignalRequest): Promise<WebhookByKey> {
  if (!WEBHOOK_KEY_PATTERN.test(request.providerKey)) {
    throw new NotFoundError(NOT_FOUND_MESSAGE, "SIGNAL_WEBHOOK_NOT_FOUND");
  }
  const keyHash = await sha256Hex(request.providerKey);
  const webhook = await activeWebhookByKeyHash(database(request.env.DB), keyHash);
  // The lookup is by hash; comparing the hashes again in constant time keeps any index timing out of the answer.
  if (!webhook || !(await constantTimeEqual(webhook.keyHash, keyHash))) {
    throw new NotFoundError(NOT_FOUND_MESSAGE, "SIGNAL_WEBHOOK_NOT_FOUND");
  }
  return webhook;
}

/** Both limits in one call to the webhook's RateLimiter object: a refused request spends neither. */
async function spendBudget(env: Env, webhook: WebhookByKey, logger: Logger): Promise<void> {
  const name = `signal-webhook:${webhook.id}`;
  let result: { allowed: boolean; retryAfterMs: number };
  try {
    result = await rateLimiterFor(env, name).limitAll(
      WEBHOOK_RATE_LIMITS.map(({ name: period, policy }) => ({ key: `${name}:${period}`, policy })),
    );
  } catch (error) {
    logger.error("rate_limiter.unavailable", { limiter: "signal-webhook", error });
    throw new ServiceUnavailableError("Rate limiting is unavailable; try again shortly.", "RATE_LIMITER_UNAVAILABLE", {
      retryAfterSeconds: 1,
    });
  }
  if (!result.allowed) {
    logger.warn("signal_webhook.rate_limited", { retryAfterMs: result.retryAfterMs });
    throw new RateLimitedError(
      result.retryAfterMs,
      "This signal webhook sent more than 60 requests a minute or 500 an hour. Try again later.",
    );
  }
}

async function verifySignature(request: WebhookSignalRequest, webhook: WebhookByKey, logger: Logger): Promise<void> {
  let secret: string;
  try {
    secret = await credentialVault(database(request.env.DB), request.config, logger).open(
      communityScope(webhook.communityId),
      webhook.sealedSecret,
      secretBinding(webhook.communityId, webhook.id),
    );
  } catch (error) {
    if (!(error instanceof SealedSecretError)) throw error;
    logger.error("signal_webhook.secret_unreadable", { alert: true, reason: error.message });
    throw new ServiceUnavailableError(
      "The webhook's signing secret cannot be read (credential vault or master key configuration); the signature was not checked.",
      "SIGNING_SECRET_UNAVAILABLE",
    );
  }
  if (!(await verifySha256Signature(request.signature ?? "", secret, request.rawBody))) {
    logger.warn("signal_webhook.bad_signature");
    throw new AppError(
      401,
      "INVALID_SIGNATURE",
      "x-signature does not match the body: send sha256=<hex HMAC-SHA256 of the raw body, keyed with the webhook's signing secret>.",
    );
  }
}

function parseJson(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch (error) {
    throw new InvalidJsonError(error instanceof Error ? error.message : String(error));
  }
}

function signalInvalid(errors: WebhookSignalError[]): UnprocessableError {
  const [first] = errors;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? "s" : ""})` : "";
  return new UnprocessableError(`The body is not a signal this platform can execute: ${first?.message}${more}`, {
    code: "SIGNAL_INVALID",
    details: errors.map((error) => ({ ...error })),
  });
}

/**
 * A management body (a `{"text"}` such as "move stop to 185 AAPL", TradersPost's cancel and exit): the provider's
 * open trade on the symbol is managed by the community's executor, which answers a repeat first (a timed body's
 * source id, or an untimed body's double-post key within 5 s) and only then looks the trade up. 202 when acted on
 * (or a duplicate); 422 MANAGEMENT_REFUSED with the executor's reason code otherwise.
 */
async function receiveManagement(
  request: WebhookSignalRequest,
  webhook: WebhookByKey,
  tenant: TenantRepository,
  reading: Extract<WebhookBodyReading, { kind: "management" }>,
  context: { receivedAt: number; logger: Logger },
): Promise<WebhookSignalReceipt> {
  const digest = await sha256Hex(request.rawBody);
  const timed = reading.sentAt !== null;
  let taken: Awaited<ReturnType<typeof takeManagement>>;
  try {
    taken = await takeManagement(
      request.env,
      tenant,
      {
        providerUserId: webhook.providerUserId,
        messageId: `webhook:${webhook.id}:${timed ? digest : crypto.randomUUID()}`,
        postedAt: reading.sentAt ?? context.receivedAt,
        repliesTo: null,
        doublePostKey: timed ? null : `${webhook.id}:${digest}`,
        management: reading.management,
      },
      context.logger,
    );
  } catch (error) {
    context.logger.error("signal_webhook.management_failed", { error });
    throw new ServiceUnavailableError(
      "The management could not be finished now (the executor is unreachable); send it again for its outcome.",
      "EXECUTOR_UNAVAILABLE",
    );
  }
  context.logger.info("signal_webhook.management", {
    signalId: taken.signalId,
    outcome: taken.kind === "managed" ? (taken.outcome.duplicate ? "duplicate" : "managed") : taken.code,
  });
  if (taken.kind === "refused") {
    throw new UnprocessableError(`${taken.code}: ${taken.message}`, {
      code: "MANAGEMENT_REFUSED",
      details: [{ code: taken.code, message: taken.message, field: null }],
    });
  }
  const { outcome } = taken;
  return {
    signalId: taken.signalId,
    status: outcome.duplicate ? "duplicate" : "managed",
    summary: {
      message: outcome.message,
      ...(outcome.duplicate ? { code: "DOUBLE_POST" } : {}),
      followers: outcome.followers,
      skipped: outcome.skipped,
      canceledEntries: outcome.canceledEntries,
      stopsMoved: outcome.stopsMoved,
      closesQueued: outcome.closesQueued,
    },
  };
}

function summaryOf(summary: ExecutorSummary): WebhookSignalSummary {
  const { message, code, followers, ordersQueued, ordersReduced, skipped } = summary;
  return { message, code, followers, ordersQueued, ordersReduced, skipped };
}
