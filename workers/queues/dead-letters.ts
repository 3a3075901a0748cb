import { deadLetters } from "../../shared/db/schema";
import { OrderSubmissionSchema } from "../../shared/execution/messages";
import type { Logger } from "../../shared/logging";
import { database } from "../db/client";
import { deliveryFailuresOf } from "./delivery-failures";

/**
 * DLQ consumer: keeps every exhausted message in `dead_letters` for an operator
 * to inspect and replay, and raises an error-level alert. Idempotent by
 * (queue, message id), so a redelivered dead letter is stored once.
 */
export async function storeDeadLetters(batch: MessageBatch<unknown>, env: Env, logger: Logger): Promise<void> {
  const db = database(env.DB);
  const sourceQueue = batch.queue.replace(/-dlq$/, "");
  const failures = deliveryFailuresOf(db);
  for (const message of batch.messages) {
    try {
      // What the source consumer recorded: the DLQ restarts `attempts` at 1 and carries no error.
      const failure = await failures.find(sourceQueue, message.body);
      const inserted = await db
        .insert(deadLetters)
        .values({
          id: crypto.randomUUID(),
          queue: sourceQueue,
          messageId: message.id,
          communityId: communityIdOf(message.body),
          body: message.body,
          attempts: failure?.attempts ?? message.attempts,
          lastError: failure?.lastError ?? null,
        })
        .onConflictDoNothing({ target: [deadLetters.queue, deadLetters.messageId] });
      if (inserted.meta.changes === 0) {
        logger.info("queue.dead_letter_redelivered", { sourceQueue, messageId: message.id });
        await afterDeadLetter(sourceQueue, message.body, env);
        message.ack();
        continue;
      }
      if (failure) await failures.clear(sourceQueue, message.body);
      logger.error("queue.dead_lettered", {
        alert: true,
        sourceQueue,
        messageId: message.id,
        communityId: communityIdOf(message.body) ?? undefined,
      });
      await afterDeadLetter(sourceQueue, message.body, env);
      message.ack();
    } catch (error) {
      logger.error("queue.dead_letter_store_failed", { messageId: message.id, error });
      message.retry({ delaySeconds: 30 });
    }
  }
}

/** An order that dead-letters is `failed`, and its member is told (the executor does both, idempotently). */
async function afterDeadLetter(sourceQueue: string, body: unknown, env: Env): Promise<void> {
  if (sourceQueue !== "order-submissions") return;
  const order = OrderSubmissionSchema.safeParse(body);
  if (!order.success) return;
  const executor = env.COMMUNITY_EXECUTOR.get(env.COMMUNITY_EXECUTOR.idFromName(order.data.communityId));
  await executor.orderDeadLettered({
    communityId: order.data.communityId,
    orderId: order.data.orderId,
    lastError: null,
  });
}

function communityIdOf(body: unknown): string | null {
  if (body && typeof body === "object" && "communityId" in body) {
    const value = (body as { communityId: unknown }).communityId;
    return typeof value === "string" ? value : null;
  }
  return null;
}
