import type { MembershipRole } from "../../shared/db/schema";
import type { DiscordSettings } from "../db/tenant/providers";
import type { RequiredRole } from "./definitions";
import { PERMISSION } from "./registration";

/**
 * Role checks for every command, in one place. Admins: Discord's
 * ADMINISTRATOR or MANAGE_GUILD permission bootstraps admin rights, as does a
 * membership role of admin or owner. Providers: a configured provider role, a
 * member an admin named with /setup provider:, or a membership role of
 * provider, admin or owner.
 */

export interface MemberFacts {
  /** Discord role ids the member holds in the guild. */
  discordRoles: readonly string[];
  /** Discord permission bit set (decimal string, from the interaction's member). */
  permissions: string;
  role: MembershipRole | null;
  namedProvider: boolean;
}

export function hasDiscordAdminPermission(permissions: string): boolean {
  let bits: bigint;
  try {
    bits = BigInt(permissions);
  } catch {
    return false;
  }
  return (bits & (PERMISSION.ADMINISTRATOR | PERMISSION.MANAGE_GUILD)) !== 0n;
}

export function isAdmin(member: MemberFacts): boolean {
  return member.role === "owner" || member.role === "admin" || hasDiscordAdminPermission(member.permissions);
}

export function isProvider(member: MemberFacts, settings: DiscordSettings): boolean {
  if (member.role === "provider" || member.role === "admin" || member.role === "owner") return true;
  if (member.namedProvider) return true;
  return member.discordRoles.some((role) => settings.providerRoleIds.includes(role));
}

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
