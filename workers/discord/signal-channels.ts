import type { DiscordSettings } from "../../shared/discord/settings";

/**
 * The signal-channel rule, the same for `/signal`, "Execute as signal" and a signal sent from a draft: where the
 * server configured signal channels, signals are taken only there. The refusal in words, or null when allowed.
 */
export function outsideSignalChannels(settings: DiscordSettings, channelId: string | null): string | null {
  const channels = settings.signalChannelIds;
  if (channels.length === 0 || (channelId !== null && channels.includes(channelId))) return null;
  const list = channels.map((id) => `<#${id}>`).join(", ");
  return `Signals are only taken from this server's signal channels (${list}); nothing was done.`;
}
