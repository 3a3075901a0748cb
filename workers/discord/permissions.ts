import { type MemberFacts, memberMay, rolesOf } from "../../shared/discord/permissions";
import type { DiscordSettings } from "../../shared/discord/settings";
import type { Action } from "../../shared/rbac/matrix";
import { highestRole } from "../../shared/rbac/matrix";

/**
 * Who may run what, decided in one place for every interaction: the role matrix
 * (`shared/rbac/matrix.ts`) over the member's roles (`shared/discord/permissions.ts`:
 * the stored role, and Discord's live `member.permissions`, provider roles and named
 * providers). The Gateway's message intake and the API ask the same matrix.
 */

export type Authorization = { ok: true } | { ok: false; message: string };

/** What a refused member reads, per action (in words a Discord member knows). */
const REFUSALS: Partial<Record<Action, string>> = {
  "signals.post":
    "Only signal providers can do this. An admin can make you one with `/setup provider:@you` or give you a provider role.",
  "trading.own": "Your role in this community is viewer: you can follow along, but not trade. An admin can change it.",
  "killswitch.set": "Only server admins (Manage Server permission) and the community's owner can do this.",
  "providers.manage":
    "Only server admins (Manage Server permission), moderators and the community's owner can do this.",
};

export function authorize(action: Action, member: MemberFacts, settings: DiscordSettings): Authorization {
  if (memberMay(member, settings, action)) return { ok: true };
  const role = highestRole(rolesOf(member, settings)) ?? "trader";
  return {
    ok: false,
    message:
      REFUSALS[action] ?? `Only server admins (Manage Server permission) can do this; your role here is ${role}.`,
  };
}
