import { and, asc, eq, isNull } from "drizzle-orm";
import { communities, type MembershipRole, memberships, userGuilds } from "../../../shared/db/schema";
import type { Database } from "../client";

/** The communities a user belongs to (sign-out tells each one's RealtimeHub; billing finds a trader's communities). */
export async function communitiesOfMember(db: Database, userId: string): Promise<string[]> {
  const rows = await db
    .select({ communityId: memberships.communityId })
    .from(memberships)
    .where(eq(memberships.userId, userId))
    .all();
  return rows.map((row) => row.communityId);
}

export interface ListedCommunity {
  id: string;
  name: string;
  guildId: string;
  role: MembershipRole;
}

/**
 * The communities listed for a signed-in user: those whose guild Discord says the user is in (`user_guilds`,
 * refreshed at sign-in) and of which the user is a member. Either alone is not enough; a deleted community is never
 * listed.
 */
export async function listedCommunities(db: Database, userId: string): Promise<ListedCommunity[]> {
  return db
    .select({ id: communities.id, name: communities.name, guildId: communities.guildId, role: memberships.role })
    .from(memberships)
    .innerJoin(communities, eq(communities.id, memberships.communityId))
    .innerJoin(userGuilds, and(eq(userGuilds.userId, memberships.userId), eq(userGuilds.guildId, communities.guildId)))
    .where(and(eq(memberships.userId, userId), isNull(communities.deletedAt)))
    .orderBy(asc(communities.name), asc(communities.id))
    .all();
}

/** The user's role in one community, when that community is listed for them (see `listedCommunities`); else null. */
export async function listedMembership(
  db: Database,
  input: { userId: string; communityId: string },
): Promise<{ role: MembershipRole } | null> {
  const row = await db
    .select({ role: memberships.role })
    .from(memberships)
    .innerJoin(communities, eq(communities.id, memberships.communityId))
    .innerJoin(userGuilds, and(eq(userGuilds.userId, memberships.userId), eq(userGuilds.guildId, communities.guildId)))
    .where(
      and(
        eq(memberships.userId, input.userId),
        eq(memberships.communityId, input.communityId),
        isNull(communities.deletedAt),
      ),
    )
    .get();
  return row ?? null;
}
