import { memberLeftGuild } from "../../platform/members/departure";
import { memberRolesChanged } from "../../platform/members/role-changes";
import type { NotifyDeps } from "../../platform/notifications/notify-member";
import { takeChannelMessage, takeChannelMessageEdit } from "../../platform/signals/channel-messages";
import type { GatewayDispatch } from "../../shared/gateway/dispatches";
import type { Logger } from "../../shared/logging";
import type { GuildRoleStore } from "./guild-role-store";

/**
 * The one place the Gateway watcher hands a dispatch on: called once for each
 * new MESSAGE_CREATE, MESSAGE_UPDATE, GUILD_MEMBER_ADD, GUILD_MEMBER_REMOVE and
 * GUILD_MEMBER_UPDATE, after the inbox has dropped replays and recorded it.
 * A throw leaves the dispatch pending and it is handed on again later (up to
 * MAX_HAND_OFF_ATTEMPTS), so each consumer is idempotent by `dispatch.key`
 * (the message id for messages).
 *
 * Messages go to the message intake (`platform/signals/channel-messages.ts`),
 * with the author's guild permissions from the roles the watcher keeps;
 * departures to `platform/members/departure.ts`; joins and role changes to
 * `platform/members/role-changes.ts` (the roles the access role is checked
 * against, and what losing a role stops).
 */
export type DispatchHandler = (dispatch: GatewayDispatch) => Promise<void>;

export function dispatchHandler(deps: NotifyDeps, logger: Logger, guildRoles: GuildRoleStore): DispatchHandler {
  return async (dispatch) => {
    const log = logger.child({ event: dispatch.type, key: dispatch.key, seq: dispatch.seq, ...where(dispatch) });
    switch (dispatch.type) {
      case "MESSAGE_CREATE":
      case "MESSAGE_UPDATE": {
        const { message } = dispatch;
        const rights = {
          permissions:
            message.guildId === null
              ? null
              : guildRoles.permissionsOf(message.guildId, message.author.id, message.authorRoles ?? []),
        };
        const take = dispatch.type === "MESSAGE_CREATE" ? takeChannelMessage : takeChannelMessageEdit;
        const result = await take(deps, message, rights, log);
        log.info("gateway.message_taken", { ...result });
        return;
      }
      case "GUILD_MEMBER_REMOVE": {
        const result = await memberLeftGuild(
          deps,
          { guildId: dispatch.guildId, discordUserId: dispatch.user.id, key: dispatch.key },
          log,
        );
        log.info("gateway.member_removed", { ...result });
        return;
      }
      case "GUILD_MEMBER_ADD":
      case "GUILD_MEMBER_UPDATE": {
        const result = await memberRolesChanged(
          deps,
          {
            guildId: dispatch.guildId,
            discordUserId: dispatch.user.id,
            roles: dispatch.roles,
            permissions: guildRoles.permissionsOf(dispatch.guildId, dispatch.user.id, dispatch.roles),
            key: dispatch.key,
          },
          log,
        );
        log.info("gateway.member_roles", { ...result });
        return;
      }
    }
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
    case "GUILD_MEMBER_ADD":
    case "GUILD_MEMBER_REMOVE":
    case "GUILD_MEMBER_UPDATE":
      return { guildId: dispatch.guildId, userId: dispatch.user.id };
  }
}
