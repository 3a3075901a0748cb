import { ALL_DEFINITIONS, type CommandDefinition } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";

type ComingSoon = NonNullable<CommandDefinition["comingSoon"]>;

/** The commands whose feature is not built yet, in definition order: /help lists them under "Coming soon". */
export const COMING_SOON = ALL_DEFINITIONS.filter(
  (definition): definition is CommandDefinition & { comingSoon: ComingSoon } => definition.comingSoon !== undefined,
);

/** Whether a command's feature exists yet: nothing may point members to one that does not. */
export const isAvailable = (name: string) => !COMING_SOON.some((definition) => definition.name === name);

/** What a coming-soon command answers: what it will do, and what works meanwhile. Not an error, so no request id. */
export function comingSoonReply(name: string): InteractionResponse {
  const soon = COMING_SOON.find((definition) => definition.name === name)?.comingSoon;
  if (!soon) throw new Error(`/${name} is not a coming-soon command.`);
  return ephemeral(`🛠️ \`/${name}\` is coming soon: ${soon.what}. Meanwhile ${soon.meanwhile}.`);
}
