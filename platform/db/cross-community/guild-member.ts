import { and, eq, inArray } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { communities, memberships, signalProviders, users } from "../../../shared/db/schema";
import type { Database } from "../client";
import { type MemberIdentity, memberIdentityColumns } from "../tenant/providers";

/**
 * The community of a guild, and a member's identity in it, in one D1 round
 * trip: every interaction starts with this lookup, so it is on the
 * acknowledgement's critical path. Keyed by guild id like the community
 * directory; the membership and named-provider rows are those of that
 * guild's community only. `alongside` is one more statement for the same
 * batch (the interaction's receipt), so it costs no round trip of its own;
 * its result comes back as `alongside`.
 */
export async function guildMember(
  db: Database,
  guildId: string,
  discordId: string,
  alongside?: BatchItem<"sqlite">,
): Promise<{
  community: typeof communities.$inferSelect | null;
  identity: MemberIdentity | null;
  alongside: unknown;
}> {
  const communityOfGuild = db.select({ id: communities.id }).from(communities).where(eq(communities.guildId, guildId));
  const communityQuery = db.select().from(communities).where(eq(communities.guildId, guildId)).limit(1);
  const identityQuery = db
    .select(memberIdentityColumns)
    .from(users)
    .leftJoin(memberships, and(inArray(memberships.communityId, communityOfGuild), eq(memberships.userId, users.id)))
    .leftJoin(
      signalProviders,
      and(inArray(signalProviders.communityId, communityOfGuild), eq(signalProviders.userId, users.id)),
    )
    .where(eq(users.discordId, discordId))
    .limit(1);
  const [communityRows, identityRows, alongsideResult] = alongside
    ? await db.batch([communityQuery, identityQuery, alongside])
    : [...(await db.batch([communityQuery, identityQuery])), undefined];
  // A deleted community is not registered for Discord: only `/setup` finds it again (and restores it).
  const found = communityRows[0] ?? null;
  const community = found?.deletedAt === null ? found : null;
  const row = community ? identityRows[0] : undefined;
  return {
    community,
    identity: row ? { ...row, namedProvider: Boolean(row.namedProvider) } : null,
    alongside: alongsideResult,
  };
}
