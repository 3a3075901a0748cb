import { createMiddleware } from "hono/factory";
import { database } from "../../platform/db/client";
import { listedMembership } from "../../platform/db/cross-community/member-communities";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { ForbiddenError, NotFoundError } from "../../shared/errors";
import { type Action, type CommunityRole, can, whoMay } from "../../shared/rbac/matrix";
import { requireSessionOrOpsTokenWith } from "../auth/principal";
import type { AppContext, AppEnv } from "./context";
import { OPS_TOKEN_SCHEME } from "./middleware/ops-auth";
import { errorResponse } from "./schemas";

/**
 * Who may call a `/api/v1/communities/:communityId/...` route, declared with the
 * route: `createRoute({ ...communityAction("killswitch.set"), … })`. An operator
 * (OPS_TOKEN) may do everything in any existing community (a deleted one exists
 * for nobody); a member's browser
 * session must hold a membership of that community and be in its Discord guild
 * as the `guilds` scope said at sign-in (a signed-in stranger gets the
 * same 404 as for a community that does not exist, so communities cannot be
 * probed), and the membership's role must grant the action in the role matrix
 * (`shared/rbac/matrix.ts`), or 403 FORBIDDEN. The OpenAPI document lists the
 * action as the session scheme's role, so every route says what it needs.
 *
 * The session carries no live Discord permissions: in the API a member's role is
 * the stored one (granted through the audited role change or ownership transfer).
 */

export type CommunityPrincipal =
  | { kind: "operator"; fingerprint: string }
  | { kind: "member"; userId: string; role: CommunityRole };

export function communityAction(action: Action) {
  const security: Record<string, string[]>[] = [{ sessionCookie: [action] }, { [OPS_TOKEN_SCHEME]: [] }];
  return {
    security,
    middleware: [requireSessionOrOpsTokenWith(lookUpMembership), authorizeCommunity(action)],
  };
}

/**
 * Starts the membership lookup for the token's user while the session row is read. `authorizeCommunity` uses it
 * only for the user whose session then proved live; otherwise it is dropped unread.
 */
function lookUpMembership(c: AppContext, userId: string): void {
  const communityId = c.req.param("communityId");
  if (!communityId) return;
  const result = listedMembership(database(c.env.DB), { userId, communityId });
  result.catch(() => {}); // read (and its failure thrown) only once the session is known live
  c.set("membershipLookup", { userId, communityId, result });
}

const notFound = (communityId: string) =>
  new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");

function authorizeCommunity(action: Action) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const communityId = c.req.param("communityId");
    if (!communityId) throw new Error("communityAction() is for routes under /api/v1/communities/:communityId.");
    c.set("communityId", communityId);
    const tenant = forCommunity(database(c.env.DB), communityId);
    const operator = c.get("operator");
    if (operator) {
      const community = await tenant.community.get();
      if (!community || community.deletedAt !== null) throw notFound(communityId);
      c.set("principal", { kind: "operator", fingerprint: operator.fingerprint });
      return next();
    }
    const session = c.get("session");
    if (!session) throw new Error("communityAction() runs after requireSessionOrOpsToken.");
    // Only a community listed for the user counts: a member of it, and in its guild as sign-in last saw.
    const started = c.get("membershipLookup");
    const membership = await (started?.userId === session.userId && started.communityId === communityId
      ? started.result
      : listedMembership(database(c.env.DB), { userId: session.userId, communityId }));
    if (!membership) {
      c.get("logger").warn("rbac.not_a_member", { userId: session.userId, action });
      throw notFound(communityId);
    }
    if (!can(membership.role, action)) {
      c.get("logger").warn("rbac.denied", { userId: session.userId, role: membership.role, action });
      throw new ForbiddenError(
        `Your role in this community (${membership.role}) cannot do this: ${action} is for ${whoMay(action)}.`,
      );
    }
    c.set("principal", { kind: "member", userId: session.userId, role: membership.role });
    await next();
  });
}

/** The caller of a community route (set by `communityAction`). */
export function principalOf(c: AppContext): CommunityPrincipal {
  const principal = c.get("principal");
  if (!principal) throw new Error("principalOf() needs a route declared with communityAction().");
  return principal;
}

/**
 * Audit actor of a community route's caller: the member's user id, or for
 * OPS_TOKEN, which carries no user identity, `ops:` and the fingerprint of the
 * token used (never the token).
 */
export function actorOf(c: AppContext): string {
  const principal = principalOf(c);
  return principal.kind === "operator" ? `ops:${principal.fingerprint}` : principal.userId;
}

/** The answers every community route may give for access, for its OpenAPI responses (a route's own override them). */
export const COMMUNITY_ACCESS_RESPONSES = {
  401: errorResponse("No session, an expired, revoked or forged one, or a wrong operator token"),
  403: errorResponse("The member's role in this community does not grant the route's action (FORBIDDEN)"),
  404: errorResponse("No such community, or the signed-in user is not a member of it (COMMUNITY_NOT_FOUND)"),
};
