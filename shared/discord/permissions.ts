import type { MembershipRole } from "../db/schema";
import { type Action, type CommunityRole, can } from "../rbac/matrix";
import { PERMISSION } from "./permission-bits";

/**
 * A Discord member's roles in the community, decided the same way for an
 * interaction, a channel message read from the Gateway and any other door; what
 * each role may do is the role matrix (`shared/rbac/matrix.ts`).
 *
 * A member holds their stored membership role (trader when they have none yet:
 * every member trades on paper from their first command) and, live from Discord:
 * admin while their guild permissions include ADMINISTRATOR or MANAGE_GUILD (a
 * guild's owner has them all), owner when they are the guild's owner (known where
 * the guild's owner is: the Gateway; an interaction does not carry it), and
 * provider while they hold a configured provider role or an admin named them with
 * `/setup provider:`. An interaction carries the live permissions; a Gateway
 * message carries only the author's roles, so the Gateway computes them from the
 * guild's roles (`basePermissions`).
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
  /** Whether the member owns the guild, where that is known (undefined: not known). */
  guildOwner?: boolean;
}

/** Discord sends a permission bit set as a non-negative decimal string; anything else grants nothing. */
function hasDiscordAdminPermission(permissions: string): boolean {
  if (!/^\d{1,40}$/.test(permissions)) return false;
  return (BigInt(permissions) & (PERMISSION.ADMINISTRATOR | PERMISSION.MANAGE_GUILD)) !== 0n;
}

/** The member's roles in the community: the stored one and those Discord gives live. */
export function rolesOf(member: MemberFacts, settings: { providerRoleIds: readonly string[] }): CommunityRole[] {
  const roles = new Set<CommunityRole>([member.role ?? "trader"]);
  if (member.guildOwner) roles.add("owner");
  if (hasDiscordAdminPermission(member.permissions)) roles.add("admin");
  if (member.namedProvider || member.discordRoles.some((role) => settings.providerRoleIds.includes(role))) {
    roles.add("provider");
  }
  return [...roles];
}

/** Whether the member may do `action` (the role matrix over `rolesOf`). */
export function memberMay(
  member: MemberFacts,
  settings: { providerRoleIds: readonly string[] },
  action: Action,
): boolean {
  return can(rolesOf(member, settings), action);
}

/** A signal provider: anyone who may post signals. */
export function isProvider(member: MemberFacts, settings: { providerRoleIds: readonly string[] }): boolean {
  return memberMay(member, settings, "signals.post");
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
