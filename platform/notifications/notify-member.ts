import type { DiscordMessage, Notification } from "../../shared/notifications/message";
import { database } from "../db/client";
import { userById } from "../db/users";

/**
 * Tells a member something about their trading by Discord DM, through
 * NOTIFY_QUEUE (retried, rate-limited and dead-lettered by its consumer).
 * `key` makes it idempotent: the same event never sends two DMs.
 */
export async function notifyMember(
  env: Env,
  communityId: string,
  userId: string,
  key: string,
  text: string | DiscordMessage,
): Promise<void> {
  const user = await userById(database(env.DB), userId);
  if (!user) return;
  const notification: Notification = {
    kind: "dm",
    key: `${communityId}:${key}`,
    communityId,
    discordUserId: user.discordId,
    message: typeof text === "string" ? { content: text.slice(0, 2000) } : text,
  };
  await env.NOTIFY_QUEUE.send(notification, { contentType: "json" });
}
