import { isAdmin, isProvider } from "../../../shared/discord/permissions";
import type { GuildContext } from "../context";
import { ALL_DEFINITIONS, type CommandDefinition, type RequiredRole } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";
import { COMING_SOON } from "./coming-soon";

const SECTIONS: readonly { role: RequiredRole; heading: string }[] = [
  { role: "member", heading: "**For every member**" },
  { role: "provider", heading: "**For signal providers**" },
  { role: "admin", heading: "**For server admins**" },
];

function line(definition: CommandDefinition): string {
  return definition.kind === "chat"
    ? `• \`/${definition.name}\` — ${definition.description}`
    : `• **${definition.name}** (right-click a message › Apps) — post that message as a signal`;
}

/**
 * Generated from the command registry and the member's role: the sections the member can use (a provider also sees
 * the provider commands, an admin everything), then what is coming soon. Nothing coming soon is listed as usable.
 */
export function helpText(roles: { provider: boolean; admin: boolean }, registered: boolean): string {
  const canUse = { member: true, provider: roles.provider, admin: roles.admin } as const;
  const sections = SECTIONS.filter((section) => canUse[section.role]).flatMap((section) => {
    const commands = ALL_DEFINITIONS.filter((d) => d.requiredRole === section.role && d.comingSoon === undefined);
    return commands.length > 0 ? [section.heading, ...commands.map(line)] : [];
  });
  const soon = COMING_SOON.map((definition) => `• \`/${definition.name}\` — ${definition.comingSoon.what}`);
  const start = !registered
    ? roles.admin
      ? "This server is not set up yet: start with `/setup`."
      : "This server is not set up yet: a server admin starts with `/setup`."
    : roles.provider
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
  const admin = isAdmin(ctx.member);
  return ephemeral(helpText({ admin, provider: isProvider(ctx.member, ctx.settings) }, ctx.community !== null));
}
