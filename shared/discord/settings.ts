import { z } from "zod";

/**
 * A community's Discord settings, kept in `communities.settings` and written
 * by /setup: the provider roles, the signal channels, and what the Gateway
 * does with a provider's message in a signal channel that does not read as a
 * signal. Read leniently: a malformed stored value falls back to its default.
 */

export const UNPARSED_MESSAGE_HANDLING = ["ignore", "reply"] as const;
export type UnparsedMessageHandling = (typeof UNPARSED_MESSAGE_HANDLING)[number];

const snowflakes = z.array(z.string().regex(/^\d{17,20}$/)).catch([]);
const DiscordSettingsSchema = z.object({
  providerRoleIds: snowflakes.default([]),
  signalChannelIds: snowflakes.default([]),
  unparsedMessages: z.enum(UNPARSED_MESSAGE_HANDLING).catch("ignore"),
});
export type DiscordSettings = z.infer<typeof DiscordSettingsSchema>;

export function discordSettingsOf(settings: Record<string, unknown> | null | undefined): DiscordSettings {
  return DiscordSettingsSchema.parse({
    providerRoleIds: settings?.providerRoleIds ?? [],
    signalChannelIds: settings?.signalChannelIds ?? [],
    unparsedMessages: settings?.unparsedMessages ?? "ignore",
  });
}
