import { type DiscordMessage, type Notification, NotificationSchema } from "../../shared/notifications/message";

/**
 * The producer side of NOTIFY_QUEUE: everything said on Discord after the
 * first response goes through the `notifications` consumer, which retries,
 * honours rate limits and dead-letters. Each message carries an idempotency
 * key; the consumer sends a key at most once.
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

/** Edits the deferred reply (PATCH /webhooks/{app}/{token}/messages/@original). */
export function editOriginal(
  env: Env,
  interaction: InteractionTarget,
  message: DiscordMessage,
  options: { communityId?: string | null; purpose?: string } = {},
): Promise<void> {
  return enqueue(env, {
    kind: "interaction.edit",
    key: `interaction:${interaction.id}:edit:${options.purpose ?? "result"}`,
    communityId: options.communityId ?? null,
    applicationId: interaction.applicationId,
    token: interaction.token,
    message,
  });
}

/** An extra message in the interaction's thread (POST /webhooks/{app}/{token}); `purpose` tells follow-ups apart. */
export function followUp(
  env: Env,
  interaction: InteractionTarget,
  message: DiscordMessage,
  options: { communityId?: string | null; purpose: string },
): Promise<void> {
  return enqueue(env, {
    kind: "interaction.followup",
    key: `interaction:${interaction.id}:followup:${options.purpose}`,
    communityId: options.communityId ?? null,
    applicationId: interaction.applicationId,
    token: interaction.token,
    message,
  });
}

/**
 * A direct message to a Discord user, e.g. a fill or a billing notice. The
 * caller's idempotency key must name the event (`fill:<executionId>`), so a
 * retried caller does not DM twice.
 */
export function directMessage(
  env: Env,
  discordUserId: string,
  message: DiscordMessage,
  idempotencyKey: string,
  options: { communityId?: string | null } = {},
): Promise<void> {
  return enqueue(env, {
    kind: "dm",
    key: `dm:${idempotencyKey}`,
    communityId: options.communityId ?? null,
    discordUserId,
    message,
  });
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
