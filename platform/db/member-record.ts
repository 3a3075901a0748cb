import type { MembershipRole } from "../../shared/db/schema";
import type { Database } from "./client";
import type { TenantRepository } from "./tenant/for-community";
import type { MemberIdentity } from "./tenant/providers";
import { type User, upsertUser } from "./users";

/**
 * A Discord member's user row (created, or its username refreshed) and, in a
 * registered community, a membership (trader when they have none): every
 * member trades on paper from their first command or signal.
 */
export async function ensureMemberRecord(
  db: Database,
  tenant: TenantRepository | null,
  discordUser: { id: string; username: string },
  identity: MemberIdentity | null,
): Promise<{ user: Pick<User, "id" | "discordId" | "username">; role: MembershipRole | null }> {
  const user =
    identity && identity.username === discordUser.username
      ? { id: identity.userId, discordId: identity.discordId, username: identity.username }
      : await upsertUser(db, { discordId: discordUser.id, username: discordUser.username });
  let role = identity?.role ?? null;
  if (tenant && role === null) role = (await tenant.memberships.upsert(user.id, "trader")).role;
  return { user, role };
}
