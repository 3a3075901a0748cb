import { executorFor } from "../../platform/objects";
import { OrderSubmissionSchema } from "../../shared/execution/messages";
import type { Logger } from "../../shared/logging";
import { backoffDelayMs } from "../../shared/orders/backoff";

/**
 * The `order-submissions` consumer: a thin, per-message hand-off to the
 * community's executor, which sends the order (only if still `queued`, so a
 * redelivery is a no-op) and says whether to ack or retry. A malformed
 * message is retried until it dead-letters, so an operator sees it.
 */
export async function consumeOrderSubmissions(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx: ExecutionContext,
  logger: Logger,
): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = OrderSubmissionSchema.safeParse(message.body);
      if (!parsed.success) {
        logger.error("order.message_invalid", { messageId: message.id, issues: parsed.error.issues.length });
        message.retry({ delaySeconds: 60 });
        return;
      }
      const { communityId, orderId } = parsed.data;
      try {
        const executor = executorFor(env, communityId);
        const result = await executor.submitOrder({ communityId, orderId, attempt: message.attempts });
        if (result.outcome === "retry") {
          logger.warn("order.retry_scheduled", { communityId, orderId, attempt: message.attempts, ...result });
          message.retry({ delaySeconds: result.delaySeconds });
        } else {
          message.ack();
        }
      } catch (error) {
        const delaySeconds = Math.ceil(backoffDelayMs(message.attempts, {}) / 1000);
        logger.error("order.submit_failed", { communityId, orderId, attempt: message.attempts, delaySeconds, error });
        message.retry({ delaySeconds });
      }
    }),
  );
}
