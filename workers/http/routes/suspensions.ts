import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../../platform/db/client";
import { internalUserId } from "../../../platform/db/users";
import { hubEventSink } from "../../../platform/execution/event-sink";
import {
  type MemberSuspensionOutcome,
  setCommunitySuspension,
  suspendMember,
  unsuspendMember,
} from "../../../platform/members/suspension";
import type { NotifyDeps } from "../../../platform/notifications/notify-member";
import { ConflictError, NotFoundError } from "../../../shared/errors";
import { actorOf, COMMUNITY_ACCESS_RESPONSES, communityAction } from "../community-access";
import { communityFromRoute, operatorActor } from "../community-scope";
import type { App, AppContext } from "../context";
import { operatorOnly } from "../middleware/ops-auth";
import { CommunityParams, errorResponse, jsonResponse } from "../schemas";

/**
 * Suspensions over the API: a member's (`/api/v1/communities/:communityId/members/:userId/suspension`, what an
 * admin does with `/member suspend` in Discord) and a whole community's (`/api/v1/ops/communities/:communityId/
 * suspension`). PUT suspends, DELETE lifts. Who may is declared once per route: a member's suspension is the role
 * matrix's `member.suspend` (owners, admins, moderators, and operators), a community's is operators' (OPS_TOKEN);
 * each change is audited with its actor (the member, or the operator's token fingerprint).
 */

const unauthorized = errorResponse("Missing or invalid operator token");

const MemberParams = CommunityParams.extend({
  userId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ description: "The member: a Discord user id or the internal user id", example: "100000000000000202" }),
});

const Reason = z.string().trim().min(1, "A reason is required").max(500);

const SuspendRequest = z
  .object({ reason: Reason.openapi({ description: "Why (told to the member or owner, and audited)" }) })
  .strict()
  .openapi("SuspendRequest");

const LiftRequest = z
  .object({ reason: Reason.optional().openapi({ description: "Why the suspension is lifted (audited)" }) })
  .strict()
  .openapi("LiftSuspensionRequest");

const MemberSuspensionSchema = z
  .object({
    userId: z.string(),
    suspended: z.boolean(),
    changed: z.boolean().openapi({ description: "false: the member already was in that state" }),
    suspendedAt: z.number().int().nullable(),
    reason: z.string().nullable(),
    canceledOrders: z.number().int().openapi({ description: "Entries not yet sent that the suspension canceled" }),
  })
  .openapi("MemberSuspension");

const CommunitySuspensionSchema = z
  .object({
    communityId: z.string(),
    suspended: z.boolean(),
    changed: z.boolean(),
    canceledOrders: z.number().int(),
  })
  .openapi("CommunitySuspension");

const body = <T extends z.ZodType>(schema: T, required: boolean) => ({
  required,
  content: { "application/json": { schema } },
});

const memberPath = "/api/v1/communities/{communityId}/members/{userId}/suspension";
const communityPath = "/api/v1/ops/communities/{communityId}/suspension";

const suspendMemberRoute = createRoute({
  ...communityAction("member.suspend"),
  method: "put",
  operationId: "suspendMember",
  path: memberPath,
  tags: ["members"],
  summary: "Suspend a member's copy trading (audited; their positions are untouched, they are told)",
  request: { params: MemberParams, body: body(SuspendRequest, true) },
  responses: {
    200: jsonResponse(MemberSuspensionSchema, "Suspended (or already suspended: changed false)"),
    400: errorResponse("Malformed body or missing reason"),
    ...COMMUNITY_ACCESS_RESPONSES,
    404: errorResponse("No such community (COMMUNITY_NOT_FOUND) or no such member in it (MEMBER_NOT_FOUND)"),
  },
});

const liftMemberRoute = createRoute({
  ...communityAction("member.suspend"),
  method: "delete",
  operationId: "unsuspendMember",
  path: memberPath,
  tags: ["members"],
  summary: "Lift a member's suspension (audited; they are told)",
  request: { params: MemberParams, body: body(LiftRequest, false) },
  responses: {
    200: jsonResponse(MemberSuspensionSchema, "No longer suspended"),
    400: errorResponse("Malformed body"),
    ...COMMUNITY_ACCESS_RESPONSES,
    404: errorResponse("No such community (COMMUNITY_NOT_FOUND) or no such member in it (MEMBER_NOT_FOUND)"),
    409: errorResponse("The member is not suspended (MEMBER_NOT_SUSPENDED)"),
  },
});

const suspendCommunityRoute = createRoute({
  ...operatorOnly,
  method: "put",
  operationId: "suspendCommunity",
  path: communityPath,
  tags: ["ops"],
  summary: "Suspend a whole community: it executes nothing until unsuspended (audited; entries not yet sent canceled)",
  request: { params: CommunityParams, body: body(SuspendRequest, true) },
  responses: {
    200: jsonResponse(CommunitySuspensionSchema, "Suspended (or already suspended: changed false)"),
    400: errorResponse("Malformed body or missing reason"),
    401: unauthorized,
    404: errorResponse("No such community (COMMUNITY_NOT_FOUND)"),
  },
});

const liftCommunityRoute = createRoute({
  ...operatorOnly,
  method: "delete",
  operationId: "unsuspendCommunity",
  path: communityPath,
  tags: ["ops"],
  summary: "Lift a community's suspension (audited)",
  request: { params: CommunityParams, body: body(LiftRequest, false) },
  responses: {
    200: jsonResponse(CommunitySuspensionSchema, "Not suspended (changed false if it was not)"),
    400: errorResponse("Malformed body"),
    401: unauthorized,
    404: errorResponse("No such community (COMMUNITY_NOT_FOUND)"),
  },
});

function notifyDeps(c: AppContext): NotifyDeps {
  return {
    env: c.env,
    events: hubEventSink({ env: c.env, logger: c.get("logger"), waitUntil: (p) => c.executionCtx.waitUntil(p) }),
  };
}

/** A body is optional on DELETE: without one (or without a JSON content type) there is no reason. */
function liftReason(body: z.infer<typeof LiftRequest> | undefined): string | null {
  return body?.reason ?? null;
}

export function registerSuspensions(app: App): void {
  app.openapi(suspendMemberRoute, async (c) => {
    const { communityId, userId } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    const memberId = await internalUserId(database(c.env.DB), userId);
    const outcome = await suspendMember(notifyDeps(c), tenant, {
      userId: memberId,
      actorId: actorOf(c),
      reason: c.req.valid("json").reason,
    });
    return c.json(await memberView(c, memberId, outcome), 200);
  });

  app.openapi(liftMemberRoute, async (c) => {
    const { communityId, userId } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    const memberId = await internalUserId(database(c.env.DB), userId);
    const outcome = await unsuspendMember(notifyDeps(c), tenant, {
      userId: memberId,
      actorId: actorOf(c),
      reason: liftReason(c.req.valid("json")),
    });
    if (outcome.outcome === "not_suspended") {
      throw new ConflictError(`Member ${userId} is not suspended.`, "MEMBER_NOT_SUSPENDED");
    }
    return c.json(await memberView(c, memberId, outcome), 200);
  });

  app.openapi(suspendCommunityRoute, async (c) => {
    const { communityId } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    const outcome = await setCommunitySuspension(notifyDeps(c), tenant, {
      suspended: true,
      actorId: operatorActor(c),
      reason: c.req.valid("json").reason,
    });
    return c.json({ communityId, ...outcome }, 200);
  });

  app.openapi(liftCommunityRoute, async (c) => {
    const { communityId } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    const outcome = await setCommunitySuspension(notifyDeps(c), tenant, {
      suspended: false,
      actorId: operatorActor(c),
      reason: liftReason(c.req.valid("json")),
    });
    return c.json({ communityId, ...outcome }, 200);
  });
}

async function memberView(c: AppContext, userId: string, outcome: MemberSuspensionOutcome) {
  if (outcome.outcome === "not_a_member") {
    throw new NotFoundError(`User ${c.req.param("userId")} is not a member of this community.`, "MEMBER_NOT_FOUND");
  }
  const tenant = await communityFromRoute(c, c.req.param("communityId") ?? "");
  const membership = await tenant.memberships.get(userId);
  return {
    userId,
    suspended: membership?.suspendedAt != null,
    changed: outcome.outcome === "suspended" || outcome.outcome === "unsuspended",
    suspendedAt: membership?.suspendedAt ?? null,
    reason: membership?.suspendedReason ?? null,
    canceledOrders: outcome.outcome === "suspended" ? outcome.canceledOrders : 0,
  };
}
