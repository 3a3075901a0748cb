import { env } from "cloudflare:workers";
import type { OrderSubmission } from "../../shared/execution/messages";

/**
 * Replaces the ORDER_QUEUE producer (one object, shared by the test and every executor in this test runtime):
 * messages are recorded instead of consumed, so orders stay `queued` until the test delivers them, and a
 * community's `failing[communityId]`-th sendBatch call (1-based) throws, as a queue outage part way would.
 * Call `restore()` before the test ends.
 */
export function interceptOrderQueue(failing: Record<string, number> = {}) {
  const queue = env.ORDER_QUEUE as Queue & { sendBatch: Queue["sendBatch"] };
  const sent: OrderSubmission[] = [];
  const calls = new Map<string, number>();
  queue.sendBatch = async (messages) => {
    const bodies = [...messages].map((message) => message.body as OrderSubmission);
    const communityId = bodies[0]?.communityId ?? "";
    const call = (calls.get(communityId) ?? 0) + 1;
    calls.set(communityId, call);
    if (failing[communityId] === call) throw new Error("queue unavailable");
    sent.push(...bodies);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: new Date() } } };
  };
  return {
    sentFor: (community: { communityId: string }) => sent.filter((m) => m.communityId === community.communityId),
    restore: () => {
      delete (queue as { sendBatch?: unknown }).sendBatch;
    },
  };
}
