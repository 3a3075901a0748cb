import { z } from "zod";
import { NOTICE_KINDS } from "./kinds";

/**
 * Messages on NOTIFY_QUEUE: everything the platform says on Discord goes
 * through the `notifications` consumer, which retries, honours Discord's rate
 * limits and dead-letters after the last try. `key` is the idempotency key:
 * the consumer sends each key at most once.
 */

const DiscordMessageSchema = z.object({
  content: z.string().max(2000).optional(),
  embeds: z.array(z.record(z.string(), z.unknown())).max(10).optional(),
  components: z.array(z.record(z.string(), z.unknown())).max(5).optional(),
  /** 64 = ephemeral (only for interaction follow-ups). */
  flags: z.number().int().nonnegative().optional(),
  allowed_mentions: z.record(z.string(), z.unknown()).optional(),
});
export type DiscordMessage = z.infer<typeof DiscordMessageSchema>;

/**
 * A file on an interaction follow-up (Discord: `multipart/form-data`, the message in `payload_json`, the file in
 * `files[0]`). A queue message holds at most 128 KB, far below Discord's 10 MiB attachment limit, so the file travels
 * gzipped and base64-encoded within this budget (`shared/notifications/attachment.ts`); the consumer sends it inflated.
 */
export const MAX_ATTACHMENT_BASE64_CHARS = 96 * 1024;

const AttachmentSchema = z.object({
  filename: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/),
  contentType: z.literal("application/json"),
  gzipBase64: z.string().min(1).max(MAX_ATTACHMENT_BASE64_CHARS),
});
export type NotificationAttachment = z.infer<typeof AttachmentSchema>;

const base = {
  key: z.string().min(1).max(200),
  communityId: z.string().min(1).nullable(),
};

const snowflake = z.string().regex(/^\d{5,25}$/);

const interactionTarget = {
  applicationId: z.string().regex(/^\d{5,25}$/),
  token: z.string().min(1).max(1000),
};

export const NotificationSchema = z.discriminatedUnion("kind", [
  /** Edit the deferred reply: PATCH /webhooks/{app}/{token}/messages/@original. */
  z.object({ kind: z.literal("interaction.edit"), ...base, ...interactionTarget, message: DiscordMessageSchema }),
  /**
   * An extra follow-up: POST /webhooks/{app}/{token}. `after` names a key that must be sent first: a public
   * follow-up to an ephemeral deferral waits for the edit, since Discord makes the first follow-up of a deferred
   * reply that reply (and its ephemeral flag).
   */
  z.object({
    kind: z.literal("interaction.followup"),
    ...base,
    ...interactionTarget,
    message: DiscordMessageSchema,
    after: z.string().min(1).max(200).optional(),
    attachment: AttachmentSchema.optional(),
  }),
  /**
   * A direct message to a Discord user (by Discord user id). `notice`: the member's inbox entry the consumer
   * stores for it (whose it is, its kind, and whether its sender already put it on the realtime channel); absent
   * only in messages queued before the inbox existed.
   */
  z.object({
    kind: z.literal("dm"),
    ...base,
    discordUserId: snowflake,
    message: DiscordMessageSchema,
    notice: z
      .object({ userId: z.string().min(1).max(128), kind: z.enum(NOTICE_KINDS), published: z.boolean() })
      .optional(),
  }),
  /** Our own reaction on a channel message (PUT, or DELETE when `remove`, .../reactions/{emoji}/@me). */
  z.object({
    kind: z.literal("reaction"),
    ...base,
    channelId: snowflake,
    messageId: snowflake,
    emoji: z.string().min(1).max(32),
    remove: z.boolean().default(false),
  }),
  /** A reply to a channel message: POST /channels/{channel}/messages with a message reference. */
  z.object({
    kind: z.literal("channel.reply"),
    ...base,
    channelId: snowflake,
    replyTo: snowflake,
    message: DiscordMessageSchema,
  }),
]);
export type Notification = z.infer<typeof NotificationSchema>;
