import { database } from "../../platform/db/client";
import { executorFor } from "../../platform/objects";
import { OrderSubmissionSchema } from "../../shared/execution/messages";
import type { Logger } from "../../shared/logging";
import { backoffDelayMs } from "../../shared/orders/backoff";
import { deliveryFailuresOf, failureRecorder } from "./delivery-failures";

/**
 * The `order-submissions` consumer: a thin, per-message hand-off to the
 * community's executor, which sends the order (only if still `queued`, so a
 * redelivery is a no-op) and says whether to ack or retry. A malformed
 * message is retried until it dead-letters, so an operator sees it. Each
 * failed attempt is recorded (the dead-letter queue resets `attempts` to 1 and
 * drops the error), so a dead letter shows the real count and the last reason.
 */
export async function consumeOrderSubmissions(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx: ExecutionContext,
  logger: Logger,
): Promise<void> {
  const failures = deliveryFailuresOf(database(env.DB));
  const recordFailure = failureRecorder(failures, batch.queue, logger, "order.failure_not_recorded");
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = OrderSubmissionSchema.safeParse(message.body);
      if (!parsed.success) {
        logger.error("order.message_invalid", { messageId: message.id, issues: parsed.error.issues.length });
        await recordFailure(message, new Error(`invalid order message: ${parsed.error.issues.length} issue(s)`));
        message.retry({ delaySeconds: 60 });
        return;
      }
      const { communityId, orderId } = parsed.data;
      try {
        const executor = executorFor(env, communityId);
        const result = await executor.submitOrder({ communityId, orderId, attempt: message.attempts });
        if (result.outcome === "retry") {
          logger.warn("order.retry_scheduled", { communityId, orderId, attempt: message.attempts, ...result });
          await recordFailure(message, new Error(result.reason));
          message.retry({ delaySeconds: result.delaySeconds });
        } else {
          if (message.attempts > 1) await failures.clear(batch.queue, message.body).catch(() => undefined);
          message.ack();
        }
      } catch (error) {
        const delaySeconds = Math.ceil(backoffDelayMs(message.attempts, {}) / 1000);
        logger.error("order.submit_failed", { communityId, orderId, attempt: message.attempts, delaySeconds, error });
        await recordFailure(message, error);
        message.retry({ delaySeconds });
      }
    }),
  );
}
