import { database } from "../../platform/db/client";
import { forCommunity, type TenantRepository } from "../../platform/db/tenant/for-community";
import { NotFoundError } from "../../shared/errors";
import type { AppContext } from "./context";

/**
 * The tenant repository for a route's :communityId, after checking the community exists and is not deleted (404
 * otherwise).
 */
export async function communityFromRoute(c: AppContext, communityId: string): Promise<TenantRepository> {
  c.set("communityId", communityId);
  const tenant = forCommunity(database(c.env.DB), communityId);
  const community = await tenant.community.get();
  if (!community || community.deletedAt !== null) {
    throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
  }
  return tenant;
}

/**
 * Audit actor for calls authenticated with OPS_TOKEN, which carries no user
 * identity: `ops:` and the fingerprint of the token used, never the token.
 */
export function operatorActor(c: AppContext): string {
  const operator = c.get("operator");
  if (!operator) throw new Error("operatorActor() needs a route behind requireOpsToken.");
  return `ops:${operator.fingerprint}`;
}
