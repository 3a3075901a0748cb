import { database } from "../../platform/db/client";
import { listedMembership } from "../../platform/db/cross-community/member-communities";
import type { MembershipRole } from "../../shared/db/schema";
import { NotFoundError } from "../../shared/errors";
import type { AuthenticatedSession } from "./session";

/**
 * A signed-in user's role in a community, for routes under `/api/v1/communities/:communityId/...`: only a community
 * listed for them counts (a member of it, and in its Discord guild as the `guilds` scope said at sign-in). Anyone
 * else gets the same 404 as for a community that does not exist, so communities cannot be probed.
 */
export async function sessionRoleIn(
  env: Env,
  session: Pick<AuthenticatedSession, "userId">,
  communityId: string,
): Promise<MembershipRole> {
  const membership = await listedMembership(database(env.DB), { userId: session.userId, communityId });
  if (!membership) throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
  return membership.role;
}
