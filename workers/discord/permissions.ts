import type { DiscordSettings } from "../../platform/db/tenant/providers";
import type { MembershipRole } from "../../shared/db/schema";
import type { RequiredRole } from "./definitions";
import { PERMISSION } from "./registration";

/**
 * Who may do what, decided in one place for every interaction.
 *
 * Admin rights follow Discord: a member is an admin exactly while the live
 * `member.permissions` of the interaction (Discord computes them for each
 * interaction; a guild's owner always has them all) include ADMINISTRATOR or
 * MANAGE_GUILD. The stored membership role records ownership (`owner`) and
 * explicit grants (`provider`); it never makes anyone an admin, so a right
 * taken away in Discord is gone at the member's next interaction. A stored
 * `admin` is a snapshot older /setup runs wrote and grants nothing.
 *
 * Providers: admins, members holding a configured provider role, members an
 * admin named with `/setup provider:`, and members granted the provider role.
 */

export interface MemberFacts {
  /** Discord role ids the member holds in the guild. */
  discordRoles: readonly string[];
  /** Discord permission bit set (decimal string, from the interaction's member). */
  permissions: string;
  role: MembershipRole | null;
  namedProvider: boolean;
}

/** Discord sends a permission bit set as a non-negative decimal string; anything else grants nothing. */
function hasDiscordAdminPermission(permissions: string): boolean {
  if (!/^\d{1,40}$/.test(permissions)) return false;
  return (BigInt(permissions) & (PERMISSION.ADMINISTRATOR | PERMISSION.MANAGE_GUILD)) !== 0n;
}

export function isAdmin(member: Pick<MemberFacts, "permissions">): boolean {
  return hasDiscordAdminPermission(member.permissions);
}

export function isProvider(member: MemberFacts, settings: DiscordSettings): boolean {
  if (isAdmin(member) || member.role === "provider" || member.namedProvider) return true;
  return member.discordRoles.some((role) => settings.providerRoleIds.includes(role));
}

/** Stored roles that an admin's "remove provider" takes back (ownership stays; it is a record, not a right). */
export const REVOCABLE_ROLES: readonly MembershipRole[] = ["provider", "admin"];

export type Authorization = { ok: true } | { ok: false; message: string };

export function authorize(required: RequiredRole, member: MemberFacts, settings: DiscordSettings): Authorization {
  switch (required) {
    case "member":
      return { ok: true };
    case "provider":
      return isProvider(member, settings)
        ? { ok: true }
        : {
            ok: false,
            message:
              "Only signal providers can do this. An admin can make you one with `/setup provider:@you` or give you a provider role.",
          };
    case "admin":
      return isAdmin(member)
        ? { ok: true }
        : { ok: false, message: "Only server admins (Manage Server permission) can do this." };
  }
}
