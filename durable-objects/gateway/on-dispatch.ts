import type { GatewayDispatch } from "../../shared/gateway/dispatches";
import type { Logger } from "../../shared/logging";

/**
 * The one place the Gateway watcher hands a dispatch on: called once for each
 * new MESSAGE_CREATE, MESSAGE_UPDATE, GUILD_MEMBER_REMOVE and
 * GUILD_MEMBER_UPDATE, after the inbox has dropped replays and recorded it.
 * A throw leaves the dispatch pending and it is handed on again later (up to
 * MAX_HAND_OFF_ATTEMPTS), so whatever is plugged in here must be idempotent by
 * `dispatch.key` (the message id for messages).
 *
 * Today the dispatch is only recorded (the inbox's counts and recent list on
 * GET /api/v1/ops/gateway) and logged without its text; message intake into
 * the executor, edits and the membership lifecycle plug in here.
 */
export type DispatchHandler = (dispatch: GatewayDispatch) => Promise<void>;

export function dispatchHandler(logger: Logger): DispatchHandler {
  return async (dispatch) => {
    logger.info("gateway.dispatch", { event: dispatch.type, key: dispatch.key, seq: dispatch.seq, ...where(dispatch) });
  };
}

function where(dispatch: GatewayDispatch) {
  switch (dispatch.type) {
    case "MESSAGE_CREATE":
    case "MESSAGE_UPDATE":
      return {
        guildId: dispatch.message.guildId,
        channelId: dispatch.message.channelId,
        authorId: dispatch.message.author.id,
      };
    case "GUILD_MEMBER_REMOVE":
    case "GUILD_MEMBER_UPDATE":
      return { guildId: dispatch.guildId, userId: dispatch.user.id };
  }
}
