import type { MembershipRole } from "../../shared/db/schema";
import { isAdmin, isProvider, type MemberFacts } from "../../shared/discord/permissions";
import type { DiscordSettings } from "../../shared/discord/settings";
import type { RequiredRole } from "./definitions";

/**
 * Who may do what, decided in one place for every interaction. Admin and
 * provider rights are the shared rules of `shared/discord/permissions.ts`
 * (the Gateway's message intake uses the same ones); for an interaction,
 * Discord computes the member's live `member.permissions` itself.
 */

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
