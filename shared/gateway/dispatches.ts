import type { GatewayDispatchEvents } from "discord-api-types/v10";
import { z } from "zod";

/**
 * The dispatches the Gateway watcher hands on (message intake, edits, the
 * membership lifecycle), checked and reduced to the fields those consumers
 * read. Each carries a `key` that names the event itself, not its delivery:
 * a dispatch that Discord replays after a RESUME has the same key, so a
 * consumer that records keys acts on it once.
 */

export const HANDED_ON_EVENTS = [
  "MESSAGE_CREATE",
  "MESSAGE_UPDATE",
  "GUILD_MEMBER_ADD",
  "GUILD_MEMBER_REMOVE",
  "GUILD_MEMBER_UPDATE",
] as const satisfies readonly `${GatewayDispatchEvents}`[];
export type HandedOnEvent = (typeof HANDED_ON_EVENTS)[number];

const HANDED_ON: ReadonlySet<string> = new Set(HANDED_ON_EVENTS);
export const isHandedOn = (name: string): name is HandedOnEvent => HANDED_ON.has(name);

const snowflake = z.string().regex(/^\d{1,20}$/, "must be a snowflake");
const UserSchema = z.object({ id: snowflake, username: z.string(), bot: z.boolean().optional() });

/** Discord's message object (MESSAGE_CREATE and MESSAGE_UPDATE carry the whole message), the fields we read. */
const MessageSchema = z.object({
  id: snowflake,
  channel_id: snowflake,
  guild_id: snowflake.optional(),
  author: UserSchema,
  member: z.object({ roles: z.array(snowflake) }).optional(),
  content: z.string(),
  timestamp: z.string().min(1),
  edited_timestamp: z.string().nullable(),
  type: z.number().int(),
  webhook_id: snowflake.optional(),
  message_reference: z
    .object({ message_id: snowflake.optional(), channel_id: snowflake.optional(), guild_id: snowflake.optional() })
    .optional(),
});

const MemberRemoveSchema = z.object({ guild_id: snowflake, user: UserSchema });
const MemberUpdateSchema = z.object({ guild_id: snowflake, user: UserSchema, roles: z.array(snowflake) });

export interface GatewayAuthor {
  id: string;
  username: string;
  bot: boolean;
}

export interface GatewayMessage {
  id: string;
  channelId: string;
  guildId: string | null;
  author: GatewayAuthor;
  /** The author's roles in the guild (absent for webhook and ephemeral messages). */
  authorRoles: string[] | null;
  content: string;
  /** ISO 8601, as Discord sends it. The id's snowflake time is the same instant in milliseconds. */
  timestamp: string;
  editedTimestamp: string | null;
  type: number;
  /** The message this one replies to (Discord's `message_reference`). */
  referencedMessageId: string | null;
}

interface DispatchBase {
  /** The event's identity: the same for a replay of the same event. */
  key: string;
  /** Discord's sequence number within the session that delivered it. */
  seq: number;
  shardId: number;
  receivedAt: number;
}

export type GatewayDispatch =
  | (DispatchBase & { type: "MESSAGE_CREATE"; message: GatewayMessage })
  | (DispatchBase & { type: "MESSAGE_UPDATE"; message: GatewayMessage })
  | (DispatchBase & { type: "GUILD_MEMBER_REMOVE"; guildId: string; user: GatewayAuthor })
  | (DispatchBase & { type: "GUILD_MEMBER_UPDATE"; guildId: string; user: GatewayAuthor; roles: string[] })
  | (DispatchBase & { type: "GUILD_MEMBER_ADD"; guildId: string; user: GatewayAuthor; roles: string[] });

export interface DispatchContext {
  seq: number;
  shardId: number;
  receivedAt: number;
  sessionId: string | null;
  /** Our own bot user (from READY): its messages are never handed on, bot flag or not. */
  selfUserId: string | null;
}

export type ReadDispatch =
  | { outcome: "handed_on"; dispatch: GatewayDispatch }
  | { outcome: "ignored"; reason: "own_message" | "bot_author" | "webhook_message" }
  | { outcome: "malformed"; problem: string };

/** Checks one handed-on dispatch's data and decides whether a consumer should see it. */
export function readDispatch(name: HandedOnEvent, data: unknown, context: DispatchContext): ReadDispatch {
  const base = { seq: context.seq, shardId: context.shardId, receivedAt: context.receivedAt };
  switch (name) {
    case "MESSAGE_CREATE":
    case "MESSAGE_UPDATE": {
      const parsed = MessageSchema.safeParse(data);
      if (!parsed.success) return malformed(parsed.error);
      const ignored = ignoredAuthor(parsed.data.author, context.selfUserId, parsed.data.webhook_id);
      if (ignored) return { outcome: "ignored", reason: ignored };
      const message = toMessage(parsed.data);
      // An edit is its own event: the same message edited twice is two updates, a replay of one edit is not.
      const key =
        name === "MESSAGE_CREATE"
          ? `message:${message.id}`
          : `message_update:${message.id}:${message.editedTimestamp ?? "unedited"}`;
      return { outcome: "handed_on", dispatch: { ...base, type: name, key, message } };
    }
    case "GUILD_MEMBER_REMOVE": {
      const parsed = MemberRemoveSchema.safeParse(data);
      if (!parsed.success) return malformed(parsed.error);
      if (parsed.data.user.bot) return { outcome: "ignored", reason: "bot_author" };
      const { guild_id: guildId, user } = parsed.data;
      return {
        outcome: "handed_on",
        dispatch: { ...base, type: name, key: eventKey(name, guildId, user.id, context), guildId, user: author(user) },
      };
    }
    case "GUILD_MEMBER_ADD":
    case "GUILD_MEMBER_UPDATE": {
      // GUILD_MEMBER_ADD is a guild member object with the extra guild_id: the same fields are read.
      const parsed = MemberUpdateSchema.safeParse(data);
      if (!parsed.success) return malformed(parsed.error);
      if (parsed.data.user.bot) return { outcome: "ignored", reason: "bot_author" };
      const { guild_id: guildId, user, roles } = parsed.data;
      return {
        outcome: "handed_on",
        dispatch: {
          ...base,
          type: name,
          key: eventKey(name, guildId, user.id, context),
          guildId,
          user: author(user),
          roles,
        },
      };
    }
  }
}

/**
 * Member events carry no id of their own; within a session the sequence
 * number names the event, and a resumed session replays it with the same one.
 */
function eventKey(name: HandedOnEvent, guildId: string, userId: string, context: DispatchContext): string {
  return `${name.toLowerCase()}:${guildId}:${userId}:${context.sessionId ?? "no-session"}:${context.seq}`;
}

function ignoredAuthor(
  user: z.infer<typeof UserSchema>,
  selfUserId: string | null,
  webhookId: string | undefined,
): "own_message" | "bot_author" | "webhook_message" | null {
  if (selfUserId !== null && user.id === selfUserId) return "own_message";
  if (user.bot) return "bot_author";
  // Anyone holding a channel webhook's URL can post under any name: such a message proves no provider.
  if (webhookId !== undefined) return "webhook_message";
  return null;
}

const author = (user: z.infer<typeof UserSchema>): GatewayAuthor => ({
  id: user.id,
  username: user.username,
  bot: user.bot ?? false,
});

function toMessage(data: z.infer<typeof MessageSchema>): GatewayMessage {
  return {
    id: data.id,
    channelId: data.channel_id,
    guildId: data.guild_id ?? null,
    author: author(data.author),
    authorRoles: data.member?.roles ?? null,
    content: data.content,
    timestamp: data.timestamp,
    editedTimestamp: data.edited_timestamp,
    type: data.type,
    referencedMessageId: data.message_reference?.message_id ?? null,
  };
}

function malformed(error: z.ZodError): ReadDispatch {
  const issue = error.issues[0];
  return { outcome: "malformed", problem: issue ? `${issue.path.join(".") || "(data)"}: ${issue.message}` : "invalid" };
}
