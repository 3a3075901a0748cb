import type { GuildContext } from "../context";
import { ALL_DEFINITIONS } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";

const ROLE_NOTE = { member: "", provider: " (providers)", admin: " (admins)" } as const;

/** Generated from the definitions, so it lists exactly what is registered. */
function helpText(): string {
  const lines = ALL_DEFINITIONS.map((definition) =>
    definition.kind === "chat"
      ? `• \`/${definition.name}\` — ${definition.description}${ROLE_NOTE[definition.requiredRole]}`
      : `• **${definition.name}** (message menu › Apps) — turn a message into a signal${ROLE_NOTE[definition.requiredRole]}`,
  );
  return [
    "**Discord Trade Executor**",
    ...lines,
    "Start with `/setup` (admins), then providers post with `/signal`.",
  ].join("\n");
}

export async function handleHelp(_ctx: GuildContext): Promise<InteractionResponse> {
  return ephemeral(helpText());
}
