import { memberMay } from "../../../shared/discord/permissions";
import { type Action, isStaffOnly } from "../../../shared/rbac/matrix";
import type { GuildContext } from "../context";
import { ALL_DEFINITIONS, type CommandDefinition } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";
import { COMING_SOON } from "./coming-soon";

type Section = "member" | "provider" | "staff";

const SECTIONS: readonly { section: Section; heading: string }[] = [
  { section: "member", heading: "**For every member**" },
  { section: "provider", heading: "**For signal providers**" },
  { section: "staff", heading: "**For server admins**" },
];

const sectionOf = (action: Action): Section =>
  action === "signals.post" ? "provider" : isStaffOnly(action) ? "staff" : "member";

function line(definition: CommandDefinition): string {
  return definition.kind === "chat"
    ? `• \`/${definition.name}\` — ${definition.description}`
    : `• **${definition.name}** (right-click a message › Apps) — post that message as a signal`;
}

/**
 * Generated from the command registry and the role matrix: the commands the member may run, by section (a provider
 * also sees the provider commands, staff what their role allows), then what is coming soon. Nothing coming soon is
 * listed as usable.
 */
export function helpText(may: (action: Action) => boolean, registered: boolean): string {
  const sections = SECTIONS.flatMap(({ section, heading }) => {
    const commands = ALL_DEFINITIONS.filter(
      (d) => sectionOf(d.requires) === section && d.comingSoon === undefined && may(d.requires),
    );
    return commands.length > 0 ? [heading, ...commands.map(line)] : [];
  });
  const soon = COMING_SOON.map((definition) => `• \`/${definition.name}\` — ${definition.comingSoon.what}`);
  const start = !registered
    ? may("providers.manage")
      ? "This server is not set up yet: start with `/setup`."
      : "This server is not set up yet: a server admin starts with `/setup`."
    : may("signals.post")
      ? "Post a signal with `/signal`, or run **Execute as signal** on one of your messages."
      : "Start by following a provider with `/follow`: their signals are copied into your paper account.";
  return [
    "**Discord Trade Executor**",
    ...sections,
    ...(soon.length > 0 ? ["**Coming soon**", ...soon] : []),
    start,
  ].join("\n");
}

export async function handleHelp(ctx: GuildContext): Promise<InteractionResponse> {
  return ephemeral(helpText((action) => memberMay(ctx.member, ctx.settings, action), ctx.community !== null));
}
