import { database } from "../../platform/db/client";
import { memberNoticeStore } from "../../platform/db/member-notices";
import { executorFor } from "../../platform/objects";
import { deadLetters } from "../../shared/db/schema";
import { OrderSubmissionSchema } from "../../shared/execution/messages";
import { type Logger, REDACTED, redact } from "../../shared/logging";
import { NotificationSchema } from "../../shared/notifications/message";
import { deliveryFailuresOf } from "./delivery-failures";

/**
 * DLQ consumer: keeps every exhausted message in `dead_letters` for an operator
 * to inspect and replay, and raises an error-level alert. Idempotent by
 * (queue, message id), so a redelivered dead letter is stored once. Secrets
 * are redacted before the body is stored (redactSecrets): a Discord
 * interaction token is a credential for 15 minutes, and a dead letter outlives
 * that by far.
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
          body: redactSecrets(message.body),
          attempts: failure?.attempts ?? message.attempts,
          lastError: failure ? String(redactSecrets(failure.lastError)) : null,
        })
        .onConflictDoNothing({ target: [deadLetters.queue, deadLetters.messageId] });
      if (inserted.meta.changes === 0) {
        logger.info("queue.dead_letter_redelivered", { sourceQueue, messageId: message.id });
        await afterDeadLetter(sourceQueue, message.body, env, null);
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
      await afterDeadLetter(sourceQueue, message.body, env, failure ? String(failure.lastError) : null);
      message.ack();
    } catch (error) {
      logger.error("queue.dead_letter_store_failed", { messageId: message.id, error });
      message.retry({ delaySeconds: 30 });
    }
  }
}

/**
 * An order that dead-letters is `failed`, and its member is told (the executor does both, idempotently). A DM that
 * dead-letters stays in its member's inbox, marked failed.
 */
async function afterDeadLetter(sourceQueue: string, body: unknown, env: Env, lastError: string | null): Promise<void> {
  if (sourceQueue === "notifications") {
    const notification = NotificationSchema.safeParse(body);
    if (notification.success && notification.data.kind === "dm" && notification.data.notice) {
      await memberNoticeStore(database(env.DB)).markDeadLettered(notification.data.key, lastError);
    }
    return;
  }
  if (sourceQueue !== "order-submissions") return;
  const order = OrderSubmissionSchema.safeParse(body);
  if (!order.success) return;
  const executor = executorFor(env, order.data.communityId);
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

/** Query parameters and path parts that carry credentials inside text (signed links, webhook URLs). */
const SECRET_QUERY_PARAM = /([?&](?:t|token|access_token|code|state|sig|signature|secret|key)=)[^&#\s"'<>)\]]+/gi;
const WEBHOOK_TOKEN_IN_PATH = /(\/webhooks\/\d+\/)[^/?#\s"'<>)\]]+/g;

/**
 * A deep copy of a queue body without secrets: the value of every key that
 * names one (token, secret, authorization, signature, code, ... as the logger
 * redacts them) and credentials inside text (a signed link's `?t=`, the token
 * in a Discord webhook URL) become "[redacted]". Ids and idempotency keys stay,
 * so a dead letter can still be understood and, where it needs no secret,
 * replayed.
 */
export function redactSecrets(value: unknown): unknown {
  return redact(value, 0, scrubCredentials);
}

function scrubCredentials(text: string): string {
  return text.replace(SECRET_QUERY_PARAM, `$1${REDACTED}`).replace(WEBHOOK_TOKEN_IN_PATH, `$1${REDACTED}`);
}

/**
 * Why a stored dead letter cannot be replayed, or null when it can. A
 * follow-up to an interaction needs the interaction's token, which is not
 * stored; it expires 15 minutes after the interaction anyway, long before a
 * message exhausts its retries, so Discord would refuse the replay.
 */
export function notReplayableReason(queue: string, body: unknown): string | null {
  if (queue !== "notifications" || !body || typeof body !== "object") return null;
  const { kind, token } = body as { kind?: unknown; token?: unknown };
  if ((kind === "interaction.edit" || kind === "interaction.followup") && token === REDACTED) {
    return "This follow-up needs its Discord interaction token, which is never stored; interaction tokens expire 15 minutes after the interaction, so it cannot be delivered any more.";
  }
  return null;
}
