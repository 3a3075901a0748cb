import { rootLogger } from "../../shared/logging";
import { storeDeadLetters } from "./dead-letters";

export const QUEUES = {
  orderSubmissions: "order-submissions",
  notifications: "notifications",
  billingEvents: "billing-events",
} as const;

export const DEAD_LETTER_QUEUES = ["order-submissions-dlq", "notifications-dlq", "billing-events-dlq"] as const;

/** Consumers owned by later issues; until they land, messages are kept (retried, then dead-lettered), never dropped. */
const NOT_YET_IMPLEMENTED: ReadonlySet<string> = new Set(Object.values(QUEUES));
const RETRY_DELAY_SECONDS = 60;

export async function dispatchQueue(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
  const logger = rootLogger.child({ queue: batch.queue, batchSize: batch.messages.length });

  if ((DEAD_LETTER_QUEUES as readonly string[]).includes(batch.queue)) {
    await storeDeadLetters(batch, env, logger);
    return;
  }
  if (NOT_YET_IMPLEMENTED.has(batch.queue)) {
    logger.error("queue.consumer_not_implemented", { messageIds: batch.messages.map((m) => m.id) });
    batch.retryAll({ delaySeconds: RETRY_DELAY_SECONDS });
    return;
  }
  logger.error("queue.unknown", {});
  batch.retryAll({ delaySeconds: RETRY_DELAY_SECONDS });
}
