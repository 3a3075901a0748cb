import type { EventSink, ExecutionEvent } from "../../shared/execution/events";
import type { Logger } from "../../shared/logging";
import { MAX_PUBLISH_BATCH } from "../../shared/realtime/publish";
import { within } from "../../shared/timeout";
import { realtimeHubFor } from "../objects";

export interface HubEventSinkOptions {
  env: Pick<Env, "REALTIME_HUB">;
  logger: Logger;
  /** Keeps a flush alive after the caller's response (a Worker's ctx.waitUntil; a Durable Object's own). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** A call to the hub that takes longer is abandoned (and logged). */
  timeoutMs?: number;
  /** Events beyond this many waiting for a hub are dropped (and counted in the log): a stuck hub costs no memory. */
  maxPending?: number;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The execution engine's EventSink, backed by each community's RealtimeHub.
 * `publish` only queues the event and returns at once: events queued in the
 * same turn (a fan-out's orders, an order and its position) go to the hub as
 * one `publishBatch` call, after the turn. Calls to a hub are chained, so the
 * hub sees events in the order they were published. A slow or failing hub is
 * abandoned after `timeoutMs` and logged; nothing waits on it and nothing
 * throws back into the money path.
 */
export function hubEventSink(options: HubEventSinkOptions): EventSink {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxPending = options.maxPending ?? 5_000;
  const hubs = new Map<string, ReturnType<typeof realtimeHubFor>>();
  let pending: ExecutionEvent[] = [];
  /** Events queued or on their way to a hub, not yet answered. */
  let waiting = 0;
  let dropped = 0;
  let scheduled = false;
  let chain: Promise<void> = RESOLVED;

  const hubOf = (communityId: string) => {
    let hub = hubs.get(communityId);
    if (!hub) {
      hub = realtimeHubFor(options.env, communityId);
      hubs.set(communityId, hub);
    }
    return hub;
  };

  const send = async (communityId: string, events: ExecutionEvent[]) => {
    try {
      await within(hubOf(communityId).publishBatch(events), timeoutMs);
    } catch (error) {
      options.logger.warn("realtime.publish_failed", {
        communityId,
        events: events.length,
        types: [...new Set(events.map((e) => e.type))],
        error,
      });
    } finally {
      waiting -= events.length;
    }
  };

  const flush = () => {
    scheduled = false;
    const taken = pending;
    pending = [];
    if (dropped > 0) {
      options.logger.warn("realtime.events_dropped", { dropped, reason: "too many events waiting for the hub" });
      dropped = 0;
    }
    const byCommunity = new Map<string, ExecutionEvent[]>();
    for (const event of taken) {
      const list = byCommunity.get(event.communityId) ?? [];
      list.push(event);
      byCommunity.set(event.communityId, list);
    }
    for (const [communityId, events] of byCommunity) {
      for (let i = 0; i < events.length; i += MAX_PUBLISH_BATCH) {
        const chunk = events.slice(i, i + MAX_PUBLISH_BATCH);
        chain = chain.then(() => send(communityId, chunk));
      }
    }
    options.waitUntil?.(chain);
  };

  const enqueue = (events: readonly ExecutionEvent[]) => {
    for (const event of events) {
      if (waiting >= maxPending) {
        dropped += 1;
        continue;
      }
      pending.push(event);
      waiting += 1;
    }
    if (!scheduled && pending.length > 0) {
      scheduled = true;
      setTimeout(flush, 0);
    }
    return RESOLVED;
  };

  return {
    publish: (event) => enqueue([event]),
    publishMany: (events) => enqueue(events),
  };
}
