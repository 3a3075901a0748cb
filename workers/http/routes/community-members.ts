import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../../platform/db/client";
import type { TenantRepository } from "../../../platform/db/tenant/for-community";
import { internalUserId } from "../../../platform/db/users";
import { NotFoundError } from "../../../shared/errors";
import { COMMUNITY_ROLES, type CommunityRole } from "../../../shared/rbac/matrix";
import { planOwnershipTransfer, planRoleChange, type RoleActor } from "../../../shared/rbac/role-change";
import { requireStepUp } from "../../auth/step-up";
import { actorOf, COMMUNITY_ACCESS_RESPONSES, communityAction, principalOf } from "../community-access";
import { communityFromRoute } from "../community-scope";
import type { App, AppContext } from "../context";
import { CommunityParams, errorResponse, jsonResponse, UserIdQuery } from "../schemas";

/**
 * A community's members and their roles: the list, a role change, and the transfer of ownership. Who may change
 * what is the role matrix and its rules (shared/rbac); each change is audited in the community's chain
 * (`community.role_changed`, `community.ownership_transferred`), and the two that need an MFA step-up (raising a
 * member to admin, the transfer) pass through its one check (`requireStepUp`) before anything is written.
 */

const MAX_PAGE = 500;

const MemberSchema = z
  .object({
    userId: z.string(),
    discordId: z.string(),
    username: z.string().nullable(),
    role: z.enum(COMMUNITY_ROLES),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("CommunityMember");

const MemberParams = CommunityParams.extend({
  userId: UserIdQuery.openapi({ description: "The member's internal id or Discord user id" }),
});

const RoleBody = z
  .object({
    role: z.enum(COMMUNITY_ROLES).openapi({
      description: "The new role; `owner` is refused (ownership moves by transfer)",
      example: "moderator",
    }),
  })
  .strict()
  .openapi("RoleChangeRequest");

const TransferBody = z
  .object({ userId: UserIdQuery.openapi({ description: "The new owner: a member's internal id or Discord user id" }) })
  .strict()
  .openapi("OwnershipTransferRequest");

const listRoute = createRoute({
  ...communityAction("members.view"),
  method: "get",
  operationId: "listCommunityMembers",
  path: "/api/v1/communities/{communityId}/members",
  tags: ["communities"],
  summary: "The community's members with their roles, by user id",
  request: {
    params: CommunityParams,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
      after_user_id: UserIdQuery.optional().openapi({ description: "Pass nextAfterUserId for the next page" }),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ members: z.array(MemberSchema), nextAfterUserId: z.string().nullable() }),
      "One page of members",
    ),
    ...COMMUNITY_ACCESS_RESPONSES,
    400: errorResponse("A query parameter is invalid"),
  },
});

const roleRoute = createRoute({
  ...communityAction("member.role.change"),
  method: "put",
  operationId: "changeMemberRole",
  path: "/api/v1/communities/{communityId}/members/{userId}/role",
  tags: ["communities"],
  summary: "Change a member's role (audited as community.role_changed); an admin grants at most admin",
  request: {
    params: MemberParams,
    body: { required: true, content: { "application/json": { schema: RoleBody } } },
  },
  responses: {
    200: jsonResponse(
      z.object({ member: MemberSchema, changed: z.boolean() }),
      "The member with the new role (changed: false when it already was)",
    ),
    ...COMMUNITY_ACCESS_RESPONSES,
    400: errorResponse("Unknown role, or a malformed body (VALIDATION_FAILED)"),
    403: errorResponse(
      "Not an owner or admin (FORBIDDEN), the role or the member ranks above the caller (ROLE_ABOVE_OWN), or raising to admin without two-factor authentication (MFA_REQUIRED) or a verification in the last 10 minutes (STEP_UP_REQUIRED)",
    ),
    404: errorResponse("No such community (COMMUNITY_NOT_FOUND), or no such member of it (MEMBER_NOT_FOUND)"),
    409: errorResponse("The member is the owner (LAST_OWNER), or their role changed meanwhile (MEMBERSHIP_CONFLICT)"),
    415: errorResponse("Body is not JSON"),
    422: errorResponse("`owner` is given by transferring ownership (OWNER_BY_TRANSFER_ONLY)"),
  },
});

const transferRoute = createRoute({
  ...communityAction("ownership.transfer"),
  method: "put",
  operationId: "transferOwnership",
  path: "/api/v1/communities/{communityId}/owner",
  tags: ["communities"],
  summary: "Transfer ownership to another member (audited); the previous owner becomes an admin",
  request: {
    params: CommunityParams,
    body: { required: true, content: { "application/json": { schema: TransferBody } } },
  },
  responses: {
    200: jsonResponse(
      z.object({ member: MemberSchema, previousOwners: z.array(z.string()) }),
      "The new owner, and who owned the community before",
    ),
    ...COMMUNITY_ACCESS_RESPONSES,
    400: errorResponse("A malformed body (VALIDATION_FAILED)"),
    403: errorResponse(
      "Not the owner (FORBIDDEN), or without two-factor authentication (MFA_REQUIRED) or a verification in the last 10 minutes (STEP_UP_REQUIRED)",
    ),
    404: errorResponse("No such community (COMMUNITY_NOT_FOUND), or no such member of it (MEMBER_NOT_FOUND)"),
    409: errorResponse("That member already owns the community (ALREADY_OWNER)"),
    415: errorResponse("Body is not JSON"),
  },
});

export function registerCommunityMembers(app: App): void {
  app.openapi(listRoute, async (c) => {
    const { communityId } = c.req.valid("param");
    const { limit, after_user_id: afterUserId } = c.req.valid("query");
    const tenant = await communityFromRoute(c, communityId);
    const members = await tenant.memberships.directory({ limit, afterUserId });
    const last = members.at(-1);
    return c.json({ members, nextAfterUserId: last && members.length === limit ? last.userId : null }, 200);
  });

  app.openapi(roleRoute, async (c) => {
    const { communityId, userId: named } = c.req.valid("param");
    const { role } = c.req.valid("json");
    const tenant = await communityFromRoute(c, communityId);
    const target = await memberNamed(c, tenant, named);
    const plan = planRoleChange({ actor: roleActorOf(c), target, to: role });
    if (plan.changed) {
      await requireStepUp(c, tenant, plan.stepUp);
      await tenant.memberships.changeRole(
        target.userId,
        { from: target.role, to: role },
        { actorId: actorOf(c), stepUp: plan.stepUp },
      );
      c.get("logger").info("rbac.role_changed", { target: target.userId, from: target.role, to: role });
    }
    return c.json({ member: await memberView(tenant, target.userId), changed: plan.changed }, 200);
  });

  app.openapi(transferRoute, async (c) => {
    const { communityId } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    const target = await memberNamed(c, tenant, c.req.valid("json").userId);
    const actor = roleActorOf(c);
    const plan = planOwnershipTransfer({ actor, target });
    await requireStepUp(c, tenant, plan.stepUp);
    const { previousOwners } = await tenant.memberships.transferOwnership(target.userId, {
      actorId: actorOf(c),
      byOwner: actor.kind === "member" ? actor.userId : undefined,
      stepUp: plan.stepUp,
    });
    c.get("logger").info("rbac.ownership_transferred", { to: target.userId, from: previousOwners });
    return c.json({ member: await memberView(tenant, target.userId), previousOwners }, 200);
  });
}

/** The caller as the role rules see them: an operator, or a member in their stored role. */
function roleActorOf(c: AppContext): RoleActor {
  const principal = principalOf(c);
  return principal.kind === "operator"
    ? { kind: "operator" }
    : { kind: "member", userId: principal.userId, roles: [principal.role] };
}

/** A member of this community by internal or Discord id; anyone else (a member of another community too) is 404. */
async function memberNamed(
  c: AppContext,
  tenant: TenantRepository,
  named: string,
): Promise<{ userId: string; role: CommunityRole }> {
  const userId = await internalUserId(database(c.env.DB), named);
  const membership = await tenant.memberships.get(userId);
  if (!membership) throw new NotFoundError(`${named} is not a member of this community.`, "MEMBER_NOT_FOUND");
  return { userId, role: membership.role };
}

async function memberView(tenant: TenantRepository, userId: string) {
  const member = await tenant.memberships.directoryEntry(userId);
  if (!member) throw new NotFoundError(`${userId} is not a member of this community.`, "MEMBER_NOT_FOUND");
  return member;
}
