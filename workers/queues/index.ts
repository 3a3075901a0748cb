import { type Logger, rootLogger } from "../../shared/logging";
import { consumeBillingEvents } from "./billing-events";
import { storeDeadLetters } from "./dead-letters";
import { consumeNotifications } from "./notifications";
import { consumeOrderSubmissions } from "./order-submissions";

export const QUEUES = {
  orderSubmissions: "order-submissions",
  notifications: "notifications",
  billingEvents: "billing-events",
} as const;

const DEAD_LETTER_QUEUES = ["order-submissions-dlq", "notifications-dlq", "billing-events-dlq"] as const;

type QueueConsumer = (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext, logger: Logger) => Promise<void>;

/** One consumer per queue. A queue without one keeps its messages (retried, then dead-lettered), never drops them. */
const CONSUMERS: Partial<Record<string, QueueConsumer>> = {
  [QUEUES.orderSubmissions]: consumeOrderSubmissions,
  [QUEUES.notifications]: consumeNotifications,
  [QUEUES.billingEvents]: consumeBillingEvents,
};
const RETRY_DELAY_SECONDS = 60;

export async function dispatchQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const logger = rootLogger.child({ queue: batch.queue, batchSize: batch.messages.length });

  if ((DEAD_LETTER_QUEUES as readonly string[]).includes(batch.queue)) {
    await storeDeadLetters(batch, env, logger);
    return;
  }
  const consumer = CONSUMERS[batch.queue];
  if (consumer) {
    await consumer(batch, env, ctx, logger);
    return;
  }
  if ((Object.values(QUEUES) as string[]).includes(batch.queue)) {
    logger.error("queue.consumer_not_implemented", { messageIds: batch.messages.map((m) => m.id) });
    batch.retryAll({ delaySeconds: RETRY_DELAY_SECONDS });
    return;
  }
  logger.error("queue.unknown", {});
  batch.retryAll({ delaySeconds: RETRY_DELAY_SECONDS });
}
