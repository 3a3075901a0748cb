import { z } from "zod";

/**
 * A community's Discord settings, kept in `communities.settings` and written
 * by /setup: the provider roles, the signal channels, what the Gateway
 * does with a provider's message in a signal channel that does not read as a
 * signal, and the access role members need to copy trades (with its name, for
 * messages outside the server). Read leniently: a malformed stored value falls
 * back to its default.
 */

export const UNPARSED_MESSAGE_HANDLING = ["ignore", "reply"] as const;
export type UnparsedMessageHandling = (typeof UNPARSED_MESSAGE_HANDLING)[number];

const snowflake = z.string().regex(/^\d{17,20}$/);
const snowflakes = z.array(snowflake).catch([]);
const DiscordSettingsSchema = z.object({
  providerRoleIds: snowflakes.default([]),
  signalChannelIds: snowflakes.default([]),
  unparsedMessages: z.enum(UNPARSED_MESSAGE_HANDLING).catch("ignore"),
  accessRoleId: snowflake.nullable().catch(null),
  accessRoleName: z.string().max(100).nullable().catch(null),
});
export type DiscordSettings = z.infer<typeof DiscordSettingsSchema>;

export function discordSettingsOf(settings: Record<string, unknown> | null | undefined): DiscordSettings {
  return DiscordSettingsSchema.parse({
    providerRoleIds: settings?.providerRoleIds ?? [],
    signalChannelIds: settings?.signalChannelIds ?? [],
    unparsedMessages: settings?.unparsedMessages ?? "ignore",
    accessRoleId: settings?.accessRoleId ?? null,
    accessRoleName: settings?.accessRoleName ?? null,
  });
}
