const VERSION = "0.1.0";
const PROJECT_URL = "https://github.com/discord-trade-executor";

/** Discord requires `DiscordBot ($url, $versionNumber)` on every bot request (its "API Reference: User Agent"). */
export function discordUserAgent(publicBaseUrl: string | undefined): string {
  return `DiscordBot (${publicBaseUrl ?? PROJECT_URL}, ${VERSION})`;
}
