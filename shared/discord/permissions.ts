import type { MembershipRole } from "../db/schema";
import { PERMISSION } from "./permission-bits";

/**
 * Who is an admin and who is a signal provider, decided the same way for an
 * interaction, a channel message read from the Gateway and any other door.
 *
 * Admin rights follow Discord: a member is an admin exactly while their
 * guild permissions include ADMINISTRATOR or MANAGE_GUILD (a guild's owner
 * has them all). An interaction carries those permissions; a Gateway message
 * carries only the author's roles, so the Gateway computes them from the
 * guild's roles (`basePermissions`). The stored membership role records
 * ownership (`owner`) and explicit grants (`provider`); it never makes anyone
 * an admin.
 *
 * Providers: admins, members holding a configured provider role, members an
 * admin named with `/setup provider:`, and members granted the provider role.
 */

/** Every permission bit set: what a guild's owner holds. */
const ALL_PERMISSIONS = (1n << 64n) - 1n;

export interface MemberFacts {
  /** Discord role ids the member holds in the guild. */
  discordRoles: readonly string[];
  /** Discord permission bit set (decimal string, as Discord sends it). */
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

export function isProvider(member: MemberFacts, settings: { providerRoleIds: readonly string[] }): boolean {
  if (isAdmin(member) || member.role === "provider" || member.namedProvider) return true;
  return member.discordRoles.some((role) => settings.providerRoleIds.includes(role));
}

/** A guild's owner and its roles' permission bit sets (decimal strings), by role id. */
export interface GuildRoles {
  ownerId: string | null;
  /** Includes `@everyone`, whose role id is the guild id. */
  permissions: Readonly<Record<string, string>>;
}

/**
 * A member's guild-level permissions, as Discord's "Permissions" page computes
 * them before channel overwrites: the owner has all; otherwise `@everyone`'s
 * bits OR each of the member's roles' bits, and ADMINISTRATOR means all.
 * (ADMINISTRATOR and MANAGE_GUILD are guild-wide: no channel overwrite takes
 * them away, so the base permissions decide admin rights.)
 */
export function basePermissions(
  guild: GuildRoles,
  guildId: string,
  userId: string,
  memberRoleIds: readonly string[],
): string {
  if (guild.ownerId === userId) return ALL_PERMISSIONS.toString();
  let bits = 0n;
  for (const roleId of [guildId, ...memberRoleIds]) {
    const role = guild.permissions[roleId];
    if (role !== undefined && /^\d{1,40}$/.test(role)) bits |= BigInt(role);
  }
  if ((bits & PERMISSION.ADMINISTRATOR) !== 0n) return ALL_PERMISSIONS.toString();
  return bits.toString();
}
