import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import worker from "../../workers/app";

/**
 * Delivers one batch to the entry module's queue consumer as the Queues runtime would (`worker.queue()` called
 * directly). Answers the consumer's verdict per message, the message ids, and the delay each retried message asked
 * for (the queue result does not carry it).
 */
export async function runBatch(
  queue: string,
  bodies: readonly unknown[],
  options: { attempts?: number; ids?: readonly string[] } = {},
) {
  const ids = bodies.map((_, i) => options.ids?.[i] ?? crypto.randomUUID());
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: ids[i] ?? "", timestamp: new Date(), attempts: options.attempts ?? 1, body })),
  );
  const retries = batch.messages.map((message) => vi.spyOn(message, "retry"));
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  const delays = retries.map((spy) => (spy.mock.calls[0]?.[0] as { delaySeconds?: number } | undefined)?.delaySeconds);
  return { result, ids, delays };
}
