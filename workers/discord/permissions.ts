import { type MemberFacts, memberMay, rolesOf } from "../../shared/discord/permissions";
import type { DiscordSettings } from "../../shared/discord/settings";
import type { Action, CommunityRole } from "../../shared/rbac/matrix";
import { highestRole, inWords, ROLE_MATRIX } from "../../shared/rbac/matrix";

/**
 * Who may run what, decided in one place for every interaction: the role matrix
 * (`shared/rbac/matrix.ts`) over the member's roles (`shared/discord/permissions.ts`:
 * the stored role, and Discord's live `member.permissions`, provider roles and named
 * providers). The Gateway's message intake and the API ask the same matrix, and a
 * refusal names the roles the matrix grants, so the words cannot drift from the rule.
 */

export type Authorization = { ok: true } | { ok: false; message: string };

/** How a Discord member knows each role, in the order a sentence lists them. */
const ROLE_IN_WORDS: Record<CommunityRole, string> = {
  owner: "the community's owner",
  admin: "server admins (Manage Server permission)",
  moderator: "moderators",
  provider: "signal providers",
  trader: "traders",
  viewer: "viewers",
};

/** The way out, for actions a member can be given without becoming staff. */
const HOW_TO_GET_IT: Partial<Record<Action, string>> = {
  "signals.post": "An admin can make you one with `/setup provider:@you` or give you a provider role.",
  "trading.own": "An admin can change it.",
};

/** "Only server admins (Manage Server permission) and the community's owner can do this", from the matrix. */
export function whoMayInWords(action: Action): string {
  const granted: readonly CommunityRole[] = ROLE_MATRIX[action];
  if (action === "signals.post") return "Only signal providers can do this";
  const who = [...granted.filter((role) => role !== "owner"), ...granted.filter((role) => role === "owner")].map(
    (role) => ROLE_IN_WORDS[role],
  );
  if (who.length === 0) return "Only the platform's operators can do this";
  return `Only ${inWords(who)} can do this`;
}

export function authorize(action: Action, member: MemberFacts, settings: DiscordSettings): Authorization {
  if (memberMay(member, settings, action)) return { ok: true };
  const role = highestRole(rolesOf(member, settings)) ?? "trader";
  const wayOut = HOW_TO_GET_IT[action];
  if (action === "trading.own")
    return {
      ok: false,
      message: `Your role in this community is ${role}: you can follow along, but not trade. ${wayOut}`,
    };
  return {
    ok: false,
    message: wayOut ? `${whoMayInWords(action)}. ${wayOut}` : `${whoMayInWords(action)}; your role here is ${role}.`,
  };
}
