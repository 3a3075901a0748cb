import { noticeKindOf } from "../../shared/notifications/kinds";
import {
  type DiscordMessage,
  type Notification,
  type NotificationAttachment,
  NotificationSchema,
} from "../../shared/notifications/message";
import { database } from "../db/client";
import { userById } from "../db/users";

/**
 * The producer side of NOTIFY_QUEUE: everything said on Discord after the
 * first response goes through the `notifications` consumer, which retries,
 * honours rate limits and dead-letters. Each message carries an idempotency
 * key; the consumer sends a key at most once. Interaction edits and follow-ups
 * derive theirs from the interaction, direct messages from their recipient and
 * event.
 */

export interface InteractionTarget {
  /** The interaction's own id: idempotency keys derive from it. */
  id: string;
  applicationId: string;
  token: string;
}

async function enqueue(env: Env, notification: Notification): Promise<void> {
  await env.NOTIFY_QUEUE.send(NotificationSchema.parse(notification), { contentType: "json" });
}

/** The key an edit of the deferred reply is sent under (`purpose` tells edits apart; the result's is "result"). */
export function editKey(interaction: Pick<InteractionTarget, "id">, purpose = "result"): string {
  return `interaction:${interaction.id}:edit:${purpose}`;
}

/** Edits the deferred reply (PATCH /webhooks/{app}/{token}/messages/@original). */
export function editOriginal(
  env: Env,
  interaction: InteractionTarget,
  message: DiscordMessage,
  options: { communityId?: string | null; purpose?: string } = {},
): Promise<void> {
  return enqueue(env, {
    kind: "interaction.edit",
    key: editKey(interaction, options.purpose),
    communityId: options.communityId ?? null,
    applicationId: interaction.applicationId,
    token: interaction.token,
    message,
  });
}

/**
 * An extra message in the interaction's thread (POST /webhooks/{app}/{token}); `purpose` tells follow-ups apart.
 * `afterKey`: a notification that must be sent first (`editKey(...)` for a follow-up that must not become the
 * deferred reply itself). `attachment`: a file sent with it (`packJsonAttachment` in shared/notifications/attachment.ts).
 */
export function followUp(
  env: Env,
  interaction: InteractionTarget,
  message: DiscordMessage,
  options: { communityId?: string | null; purpose: string; afterKey?: string; attachment?: NotificationAttachment },
): Promise<void> {
  return enqueue(env, {
    kind: "interaction.followup",
    key: `interaction:${interaction.id}:followup:${options.purpose}`,
    communityId: options.communityId ?? null,
    applicationId: interaction.applicationId,
    token: interaction.token,
    message,
    ...(options.afterKey ? { after: options.afterKey } : {}),
    ...(options.attachment ? { attachment: options.attachment } : {}),
  });
}

/** A direct message: what to say, and the event that makes it idempotent. */
export interface DirectMessage {
  /** Our user id (users.id); the Discord id is looked up. */
  userId: string;
  communityId: string | null;
  /**
   * What happened, unique per event: `order:<id>:fill:<filled>`, `billing:<provider>:refund:<id>`. The message's
   * idempotency key is `dm:<community or ->:<userId>:<event>`, so a retried caller never DMs the same person about
   * one event of one community twice.
   */
  event: string;
  /** Text is cut to Discord's 2,000 characters and mentions nobody. */
  message: string | DiscordMessage;
  /** Whether the caller already published it on the member's realtime `notifications` channel (notifyMember). */
  published?: boolean;
}

/** The key a direct message is sent under (at most once, by the notifications consumer). */
export function directMessageKey(dm: Pick<DirectMessage, "communityId" | "userId" | "event">): string {
  return `dm:${dm.communityId ?? "-"}:${dm.userId}:${dm.event}`.slice(0, 200);
}

/** A user's Discord id by our user id (null: no such user). */
export type DiscordIdLookup = (userId: string) => Promise<string | null>;

/** The Discord id from `users`, read each time. */
export function discordIdsFromUsers(env: Pick<Env, "DB">): DiscordIdLookup {
  return async (userId) => (await userById(database(env.DB), userId))?.discordId ?? null;
}

/**
 * A lookup that keeps what it found (up to `max` users, the least recently asked dropped first): a user row is made
 * from its Discord id and never changes it, so an object that DMs the same members again and again (the executor)
 * reads each id once. A user not found is asked again next time.
 */
export function rememberingDiscordIds(lookup: DiscordIdLookup, max = 1_000): DiscordIdLookup {
  const known = new Map<string, string>();
  return async (userId) => {
    const kept = known.get(userId);
    if (kept !== undefined) {
      known.delete(userId);
      known.set(userId, kept);
      return kept;
    }
    const found = await lookup(userId);
    if (found === null) return null;
    known.set(userId, found);
    if (known.size > max) known.delete(known.keys().next().value as string);
    return found;
  };
}

/**
 * The one direct-message sender: every DM the platform sends (fills, rejections, confirmations, billing notices)
 * goes through here. False when the user has no Discord account on record, so nothing was queued. `discordIdOf`
 * finds the member's Discord id (by default read from `users` each time). Each DM is also a
 * notice in the member's inbox (`member_notices`): the notifications consumer stores it with its kind
 * (`noticeKindOf(event)`), so the caller's path pays no extra D1 write, and sends the DM only when the member's
 * preference for that kind allows it.
 */
export async function directMessage(
  env: Env,
  dm: DirectMessage,
  discordIdOf: DiscordIdLookup = discordIdsFromUsers(env),
): Promise<boolean> {
  const discordUserId = await discordIdOf(dm.userId);
  if (discordUserId === null) return false;
  await enqueue(env, {
    kind: "dm",
    key: directMessageKey(dm),
    communityId: dm.communityId,
    discordUserId,
    message:
      typeof dm.message === "string"
        ? { content: dm.message.slice(0, 2000), allowed_mentions: { parse: [] } }
        : dm.message,
    notice: { userId: dm.userId, kind: noticeKindOf(dm.event), published: dm.published ?? false },
  });
  return true;
}

/** A channel message: where our reactions and replies go. */
export interface ChannelMessageTarget {
  channelId: string;
  messageId: string;
}

/**
 * Adds (or with `remove`, takes back) the bot's own reaction on a channel
 * message. `purpose` names the event, so a retried caller reacts once.
 */
export function react(
  env: Env,
  target: ChannelMessageTarget,
  emoji: string,
  options: { communityId: string | null; purpose: string; remove?: boolean },
): Promise<void> {
  return enqueue(env, {
    kind: "reaction",
    key: `message:${target.messageId}:reaction:${options.purpose}`,
    communityId: options.communityId,
    channelId: target.channelId,
    messageId: target.messageId,
    emoji,
    remove: options.remove ?? false,
  });
}

/** Replies to a channel message (the reply points at it). `purpose` names the event, so a retried caller replies once. */
export function replyTo(
  env: Env,
  target: ChannelMessageTarget,
  message: DiscordMessage,
  options: { communityId: string | null; purpose: string },
): Promise<void> {
  return enqueue(env, {
    kind: "channel.reply",
    key: `message:${target.messageId}:reply:${options.purpose}`,
    communityId: options.communityId,
    channelId: target.channelId,
    replyTo: target.messageId,
    message,
  });
}
