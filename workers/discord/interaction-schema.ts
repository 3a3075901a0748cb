import { z } from "zod";

/**
 * The interaction payloads this endpoint accepts (Discord API v10, "Receiving
 * and Responding"). Objects are loose: Discord adds fields over time, and only
 * what the handlers read is checked.
 */

export const InteractionType = {
  PING: 1,
  APPLICATION_COMMAND: 2,
  MESSAGE_COMPONENT: 3,
  APPLICATION_COMMAND_AUTOCOMPLETE: 4,
  MODAL_SUBMIT: 5,
} as const;

const snowflake = z.string().regex(/^\d{17,20}$/, "must be a Discord snowflake (17–20 digits)");

const UserSchema = z.looseObject({
  id: snowflake,
  username: z.string().min(1).max(64),
  global_name: z.string().nullish(),
  bot: z.boolean().optional(),
});

const MemberSchema = z.looseObject({
  user: UserSchema,
  roles: z.array(snowflake),
  /** Total permissions of the member in the channel, as a decimal bit set. */
  permissions: z.string().regex(/^\d+$/, "must be a decimal permission bit set"),
  nick: z.string().nullish(),
});

/** A member inside `resolved`: no user (it sits in `resolved.users`), and permissions only for some commands. */
const ResolvedMemberSchema = z.looseObject({
  roles: z.array(snowflake),
  permissions: z.string().optional(),
  nick: z.string().nullish(),
});

/**
 * A message's author may be a webhook, whose name goes up to 80 characters (users' names stop at 32), so only the
 * fields read are checked and the name's length is not.
 */
const MessageAuthorSchema = z.looseObject({ id: snowflake, username: z.string().min(1) });

const ResolvedMessageSchema = z.looseObject({
  id: snowflake,
  channel_id: snowflake,
  content: z.string().max(4000),
  author: MessageAuthorSchema,
  timestamp: z.string().optional(),
});

const ResolvedSchema = z.looseObject({
  users: z.record(snowflake, UserSchema).optional(),
  members: z.record(snowflake, ResolvedMemberSchema).optional(),
  roles: z.record(snowflake, z.looseObject({ id: snowflake, name: z.string() })).optional(),
  channels: z
    .record(snowflake, z.looseObject({ id: snowflake, name: z.string().nullish(), type: z.number() }))
    .optional(),
  messages: z.record(snowflake, ResolvedMessageSchema).optional(),
});
export type Resolved = z.infer<typeof ResolvedSchema>;

export interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  focused?: boolean;
  options?: CommandOption[];
}

const CommandOptionSchema: z.ZodType<CommandOption> = z.lazy(() =>
  z.looseObject({
    name: z.string().min(1).max(32),
    type: z.number().int().min(1).max(11),
    value: z.union([z.string().max(6000), z.number(), z.boolean()]).optional(),
    focused: z.boolean().optional(),
    options: z.array(CommandOptionSchema).max(25).optional(),
  }),
);

const base = {
  id: snowflake,
  application_id: snowflake,
  token: z.string().min(1).max(1000),
  version: z.number().int().optional(),
  guild_id: snowflake.optional(),
  channel_id: snowflake.optional(),
  channel: z.looseObject({ id: snowflake, type: z.number().optional() }).optional(),
  member: MemberSchema.optional(),
  /** Only outside guilds (DMs); the commands are guild-only, so handlers refuse these. */
  user: UserSchema.optional(),
  app_permissions: z.string().optional(),
  locale: z.string().optional(),
  guild_locale: z.string().optional(),
};

const CommandDataSchema = z.looseObject({
  id: snowflake,
  name: z.string().min(1).max(32),
  type: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  options: z.array(CommandOptionSchema).max(25).optional(),
  resolved: ResolvedSchema.optional(),
  target_id: snowflake.optional(),
  guild_id: snowflake.optional(),
});

/** A text input inside a submitted modal: in an action row (legacy layout) or a label (current layout). */
const SubmittedInputSchema = z.looseObject({ type: z.number(), custom_id: z.string(), value: z.string().max(4000) });
const ModalRowSchema = z.union([
  z.looseObject({ type: z.literal(1), components: z.array(SubmittedInputSchema) }),
  z.looseObject({ type: z.literal(18), component: SubmittedInputSchema }),
]);

const PingSchema = z.looseObject({
  type: z.literal(InteractionType.PING),
  id: snowflake,
  application_id: snowflake,
});

const CommandInteractionSchema = z.looseObject({
  type: z.literal(InteractionType.APPLICATION_COMMAND),
  ...base,
  data: CommandDataSchema,
});

const AutocompleteInteractionSchema = z.looseObject({
  type: z.literal(InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE),
  ...base,
  data: CommandDataSchema,
});

const ComponentInteractionSchema = z.looseObject({
  type: z.literal(InteractionType.MESSAGE_COMPONENT),
  ...base,
  data: z.looseObject({
    custom_id: z.string().min(1).max(100),
    component_type: z.number().int(),
    values: z.array(z.string()).optional(),
  }),
  /** The message the component is on; a draft button reads the text kept in its first embed, [Edit again] its fields. */
  message: z
    .looseObject({
      id: snowflake,
      embeds: z
        .array(
          z.looseObject({
            description: z.string().max(4096).optional(),
            fields: z
              .array(z.looseObject({ name: z.string().max(256), value: z.string().max(1024) }))
              .max(25)
              .optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});

const ModalSubmitInteractionSchema = z.looseObject({
  type: z.literal(InteractionType.MODAL_SUBMIT),
  ...base,
  data: z.looseObject({ custom_id: z.string().min(1).max(100), components: z.array(ModalRowSchema).max(5) }),
});

export const InteractionSchema = z.discriminatedUnion("type", [
  PingSchema,
  CommandInteractionSchema,
  ComponentInteractionSchema,
  AutocompleteInteractionSchema,
  ModalSubmitInteractionSchema,
]);

export type Interaction = z.infer<typeof InteractionSchema>;
export type CommandInteraction = z.infer<typeof CommandInteractionSchema>;
export type AutocompleteInteraction = z.infer<typeof AutocompleteInteractionSchema>;
export type ComponentInteraction = z.infer<typeof ComponentInteractionSchema>;
export type ModalSubmitInteraction = z.infer<typeof ModalSubmitInteractionSchema>;
/** Every interaction that carries a token, a guild and a member (everything but PING). */
export type MemberInteraction =
  | CommandInteraction
  | AutocompleteInteraction
  | ComponentInteraction
  | ModalSubmitInteraction;

/** The values of a submitted modal by text input custom_id. */
export function modalValues(interaction: ModalSubmitInteraction): Record<string, string> {
  const values: Record<string, string> = {};
  for (const row of interaction.data.components) {
    const inputs = row.type === 18 ? [row.component] : row.components;
    for (const input of inputs) values[input.custom_id] = input.value;
  }
  return values;
}
