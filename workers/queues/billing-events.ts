import { billingContext } from "../../platform/billing/context";
import { database } from "../../platform/db/client";
import { configFor } from "../../shared/config";
import type { Logger } from "../../shared/logging";
import { BillingNotReadyError, processBillingEvent } from "../billing/apply-event";
import { runSubscriptionLifecycle } from "../billing/lifecycle";
import { BillingQueueMessageSchema } from "../billing/messages";
import { deliveryFailuresOf, failureRecorder } from "./delivery-failures";

/**
 * The billing-events consumer: applies recorded webhook events and lifecycle
 * ticks, one message at a time (acked or retried individually). Delivery is
 * at-least-once and unordered; every step is idempotent and ordered by the
 * provider's event time, so redelivery and reordering change nothing.
 */

const BACKOFF_CAP_SECONDS = 300;
const NOT_READY_DELAY_SECONDS = 30;

function billingBackoffSeconds(attempts: number): number {
  return Math.min(BACKOFF_CAP_SECONDS, 5 * 2 ** Math.max(0, attempts - 1));
}

export async function consumeBillingEvents(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx: ExecutionContext,
  logger: Logger,
) {
  const config = configFor(env);
  if (!config.ok) {
    logger.error("billing.config_invalid", { variables: config.problems.map((p) => p.variable) });
    for (const message of batch.messages) message.retry({ delaySeconds: billingBackoffSeconds(message.attempts) });
    return;
  }

  const failures = deliveryFailuresOf(database(env.DB));
  const recordFailure = failureRecorder(failures, batch.queue, logger, "billing.failure_not_recorded");
  for (const message of batch.messages) {
    const log = logger.child({ messageId: message.id, attempts: message.attempts });
    const parsed = BillingQueueMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      log.error("billing.message_invalid", { alert: true, issues: parsed.error.issues.map((i) => i.message) });
      message.ack();
      continue;
    }
    const body = parsed.data;
    const asOf = body.type === "billing.lifecycle" ? (body.asOf ?? 0) : 0;
    const ctx = { ...billingContext(env, config.config, log), now: () => Math.max(Date.now(), asOf) };
    try {
      if (body.type === "billing.event") {
        const outcome = await processBillingEvent(ctx, body.provider, body.eventId);
        log.info("billing.event_consumed", { provider: body.provider, eventId: body.eventId, outcome });
      } else {
        await runSubscriptionLifecycle(ctx, body.subscriptionId);
      }
      if (message.attempts > 1) await failures.clear(batch.queue, message.body);
      message.ack();
    } catch (error) {
      // The DLQ resets attempts to 1: keep the real count and the error for the dead letter.
      await recordFailure(message, error);
      if (error instanceof BillingNotReadyError) {
        log.warn("billing.event_not_ready", { message: error.message });
        message.retry({ delaySeconds: NOT_READY_DELAY_SECONDS });
        continue;
      }
      log.error("billing.message_failed", { error, body });
      message.retry({ delaySeconds: billingBackoffSeconds(message.attempts) });
    }
  }
}
