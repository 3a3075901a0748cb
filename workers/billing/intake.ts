import type { BillingContext } from "../../platform/billing/context";
import type { WebhookRequest } from "../../shared/billing/provider";
import type { BillingProviderName } from "../../shared/db/schema";
import { eventMessage } from "./messages";
import { billingProvider } from "./providers";

export interface WebhookReceipt {
  received: true;
  eventId: string;
  /** A replay of an event already recorded: nothing new happens. */
  duplicate: boolean;
  /** The event reached BILLING_QUEUE now (false: nothing to apply, or the cron's outbox drain will send it). */
  queued: boolean;
}

/**
 * A billing webhook, end to end up to the queue: verify the raw body with the
 * provider's secret (401 otherwise, 400 for malformed JSON after a valid
 * signature), record the event once per (provider, event id) with its
 * normalized payload (the outbox row), then enqueue it. Once the row is in D1
 * the event cannot be lost: if the enqueue fails, the lifecycle cron sends it.
 */
export async function receiveWebhook(
  ctx: BillingContext,
  provider: BillingProviderName,
  request: WebhookRequest,
): Promise<WebhookReceipt> {
  const event = await billingProvider(ctx.config, provider, "webhook").verifyWebhook(request);
  const log = ctx.logger.child({ provider, eventId: event.eventId, eventType: event.type, kind: event.kind });
  const recorded = await ctx.dir.webhooks.record(event, ctx.now());
  if (recorded.duplicate) log.info("billing.webhook_replayed", { pending: recorded.pending });
  if (!recorded.pending)
    return { received: true, eventId: event.eventId, duplicate: recorded.duplicate, queued: false };

  try {
    await ctx.env.BILLING_QUEUE.send(eventMessage(provider, event.eventId));
  } catch (error) {
    log.error("billing.enqueue_failed", { error, alert: true });
    return { received: true, eventId: event.eventId, duplicate: recorded.duplicate, queued: false };
  }
  try {
    await ctx.dir.webhooks.markEnqueued(provider, event.eventId, ctx.now());
  } catch (error) {
    // The cron re-sends it; the consumer skips what it already processed.
    log.warn("billing.mark_enqueued_failed", { error });
  }
  return { received: true, eventId: event.eventId, duplicate: recorded.duplicate, queued: true };
}
