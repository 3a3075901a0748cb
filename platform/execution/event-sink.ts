import type { EventSink, ExecutionEvent } from "../../shared/execution/events";
import type { Logger } from "../../shared/logging";

/**
 * Where execution events go. The RealtimeHub does not serve sockets yet, so
 * this sink is explicitly a no-op that logs each event (one JSON line, so
 * `wrangler tail` shows the stream); the hub's issue replaces it.
 */
export function eventSinkFor(_env: Env, logger: Logger): EventSink {
  return {
    async publish(event: ExecutionEvent) {
      logger.info("event.published", {
        sink: "log-only",
        type: event.type,
        communityId: event.communityId,
        audience: typeof event.audience === "string" ? event.audience : "owner",
      });
    },
  };
}
