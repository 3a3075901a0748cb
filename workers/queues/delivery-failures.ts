import { and, eq, lt } from "drizzle-orm";
import type { Database } from "../../platform/db/client";
import { deliveryFailures } from "../../shared/db/schema";
import type { Logger } from "../../shared/logging";

/**
 * The real attempt count and last error of a message that keeps failing. Cloudflare moves an exhausted message
 * to its dead-letter queue with `attempts` reset to 1 and no error, so a consumer records each failure here and
 * the DLQ consumer reads it back when it stores the dead letter. Keyed by queue and a SHA-256 digest of the body
 * (the same message reaches the DLQ with the same body).
 */

const MAX_ERROR_LENGTH = 500;
const encoder = new TextEncoder();

export interface DeliveryFailure {
  attempts: number;
  lastError: string;
}

export function deliveryFailuresOf(db: Database) {
  const key = async (queue: string, body: unknown) =>
    and(eq(deliveryFailures.queue, queue), eq(deliveryFailures.bodyDigest, await bodyDigest(body)));

  return {
    async record(queue: string, body: unknown, attempts: number, error: unknown): Promise<void> {
      const now = Date.now();
      const lastError = describeError(error);
      await db
        .insert(deliveryFailures)
        .values({ queue, bodyDigest: await bodyDigest(body), attempts, lastError, updatedAt: now })
        .onConflictDoUpdate({
          target: [deliveryFailures.queue, deliveryFailures.bodyDigest],
          set: { attempts, lastError, updatedAt: now },
        });
    },

    async find(queue: string, body: unknown): Promise<DeliveryFailure | null> {
      const row = await db
        .select({ attempts: deliveryFailures.attempts, lastError: deliveryFailures.lastError })
        .from(deliveryFailures)
        .where(await key(queue, body))
        .get();
      return row ?? null;
    },

    async clear(queue: string, body: unknown): Promise<void> {
      await db.delete(deliveryFailures).where(await key(queue, body));
    },

    /** Rows nothing claimed (a message that was deleted rather than dead-lettered). */
    async purgeOlderThan(time: number): Promise<void> {
      await db.delete(deliveryFailures).where(lt(deliveryFailures.updatedAt, time));
    },
  };
}

/**
 * A consumer's "this attempt failed" for one queue: records the message's attempt and error for its dead letter;
 * a failure to record is logged as `event` and never thrown (the message's own retry matters more).
 */
export function failureRecorder(
  failures: ReturnType<typeof deliveryFailuresOf>,
  queue: string,
  logger: Logger,
  event: string,
): (message: Message<unknown>, error: unknown) => Promise<void> {
  return (message, error) =>
    failures
      .record(queue, message.body, message.attempts, error)
      .catch((recordError: unknown) => logger.warn(event, { messageId: message.id, error: recordError }));
}

/** `Name: message`, with the cause's message when there is one, kept short. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, MAX_ERROR_LENGTH);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.name}: ${error.cause.message})` : "";
  return `${error.name}: ${error.message}${cause}`.slice(0, MAX_ERROR_LENGTH);
}

async function bodyDigest(body: unknown): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(JSON.stringify(body) ?? "undefined"));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
