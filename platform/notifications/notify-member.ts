import type { EventSink } from "../../shared/execution/events";
import type { DiscordMessage, Notification } from "../../shared/notifications/message";
import { database } from "../db/client";
import { userById } from "../db/users";

/** What telling a member needs: the bindings, and the sink that reaches their realtime channel. */
export interface NotifyDeps {
  env: Env;
  events: EventSink;
}

/**
 * Tells a member something about their trading: by Discord DM, through
 * NOTIFY_QUEUE (retried, rate-limited and dead-lettered by its consumer), and
 * as a `notification` event on their realtime `notifications` channel.
 * `key` makes it idempotent: the same event never sends two DMs.
 */
export async function notifyMember(
  deps: NotifyDeps,
  communityId: string,
  userId: string,
  key: string,
  text: string | DiscordMessage,
): Promise<void> {
  const user = await userById(database(deps.env.DB), userId);
  if (!user) return;
  const message = typeof text === "string" ? { content: text.slice(0, 2000) } : text;
  const notification: Notification = {
    kind: "dm",
    key: `${communityId}:${key}`,
    communityId,
    discordUserId: user.discordId,
    message,
  };
  await deps.env.NOTIFY_QUEUE.send(notification, { contentType: "json" });
  await deps.events.publish({
    type: "notification",
    communityId,
    audience: { userId },
    data: { key, content: message.content ?? null },
    at: Date.now(),
  });
}
