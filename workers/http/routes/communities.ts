import { createRoute, z } from "@hono/zod-openapi";
import { billingContext } from "../../../platform/billing/context";
import { database } from "../../../platform/db/client";
import { communityDirectory } from "../../../platform/db/cross-community/community-directory";
import type { Community } from "../../../platform/db/tenant/community";
import { hubEventSink } from "../../../platform/execution/event-sink";
import { deleteCommunity } from "../../../platform/members/community-deletion";
import { isLive } from "../../../shared/billing/subscription-state";
import { COMMUNITY_TIERS, MEMBERSHIP_ROLES } from "../../../shared/db/schema";
import { ConflictError, NotFoundError } from "../../../shared/errors";
import { requireStepUp } from "../../auth/step-up";
import { actorOf, COMMUNITY_ACCESS_RESPONSES, communityAction, principalOf } from "../community-access";
import { communityFromRoute } from "../community-scope";
import type { App, AppContext } from "../context";
import { operatorOnly } from "../middleware/ops-auth";
import { CommunityParams, errorResponse, jsonResponse } from "../schemas";

const DAY_MS = 24 * 3600_000;

const CommunitySchema = z
  .object({
    id: z.string(),
    guildId: z.string().openapi({ example: "100000000000000100" }),
    name: z.string(),
    tier: z.enum(COMMUNITY_TIERS),
    halted: z.boolean().openapi({ description: "The kill switch: no signal is executed while true" }),
    haltedReason: z.string().nullable(),
    createdAt: z.number().int().openapi({ description: "Unix epoch milliseconds" }),
  })
  .openapi("Community");

const CountsSchema = z
  .object({
    members: z.number().int(),
    membersByRole: z.record(z.enum(MEMBERSHIP_ROLES), z.number().int()),
    providers: z.number().int().openapi({ description: "Members named as providers or holding the provider role" }),
    followers: z.number().int().openapi({ description: "Members with at least one enabled follow" }),
    enabledFollows: z.number().int(),
    signalsToday: z.number().int().openapi({ description: "Signals received since 00:00 UTC" }),
    openOrders: z.number().int().openapi({ description: "Orders queued, submitted or partially filled" }),
  })
  .openapi("CommunityCounts");

const CommunityDetailSchema = CommunitySchema.extend({ counts: CountsSchema }).openapi("CommunityDetail");

const byGuildRoute = createRoute({
  ...operatorOnly,
  method: "get",
  path: "/api/v1/communities",
  tags: ["operations"],
  summary: "The community registered for a Discord guild",
  request: {
    query: z.object({
      guild_id: z
        .string()
        .regex(/^\d{17,20}$/, "A Discord guild id (a snowflake: 17 to 20 digits)")
        .openapi({ example: "100000000000000100" }),
    }),
  },
  responses: {
    200: {
      description: "The guild's community, as {community}",
      content: { "application/json": { schema: z.object({ community: CommunitySchema }) } },
    },
    400: errorResponse("guild_id is missing or not a snowflake"),
    401: errorResponse("Missing or invalid operator token"),
    404: errorResponse("No community for that guild (COMMUNITY_NOT_FOUND)"),
  },
});

const detailRoute = createRoute({
  ...communityAction("community.view"),
  method: "get",
  path: "/api/v1/communities/{communityId}",
  tags: ["communities"],
  summary: "A community's tier, kill switch and counts",
  request: { params: CommunityParams },
  responses: {
    200: {
      description: "The community with its counts, as {community}",
      content: { "application/json": { schema: z.object({ community: CommunityDetailSchema }) } },
    },
    ...COMMUNITY_ACCESS_RESPONSES,
  },
});

const DeletedCommunitySchema = z
  .object({
    id: z.string(),
    deleted: z.literal(true),
    deletedAt: z.number().int().openapi({ description: "Unix epoch milliseconds" }),
    purgeAfter: z.number().int().openapi({
      description: "When housekeeping purges its data (30 days on); `/setup` in the server before then restores it",
    }),
    halted: z.literal(true).openapi({ description: "Trading is halted (reason `community deleted`)" }),
    executorNotified: z.boolean().openapi({
      description: "false when the executor could not be told at once: the saved halt still holds",
    }),
    canceledOrders: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Orders not yet sent to a broker that were canceled (null: the executor was not told)" }),
    revokedWebhooks: z.number().int().openapi({ description: "Signal webhooks revoked" }),
    membersNotified: z.number().int().openapi({ description: "Members told by DM that it was deleted" }),
    socketsClosed: z.number().int().nullable().openapi({
      description: "Open dashboard sockets closed (code 4004); null when the RealtimeHub could not be reached",
    }),
    openPositions: z.literal("untouched").openapi({
      description: "Open positions and their orders at brokers are never touched: members manage them there",
    }),
  })
  .openapi("DeletedCommunity");

const deleteRoute = createRoute({
  ...communityAction("community.delete"),
  method: "delete",
  operationId: "deleteCommunity",
  path: "/api/v1/communities/{communityId}",
  tags: ["communities"],
  summary: "Delete the community: trading halts, unsent orders are canceled, data is purged 30 days on (a step-up)",
  request: { params: CommunityParams },
  responses: {
    200: jsonResponse(z.object({ community: DeletedCommunitySchema }), "Deleted"),
    ...COMMUNITY_ACCESS_RESPONSES,
    403: errorResponse(
      "Not the owner (FORBIDDEN), or no two-factor verification in the last 10 minutes (MFA_REQUIRED, STEP_UP_REQUIRED)",
    ),
    404: errorResponse("No such community, already deleted, or not a member of it (COMMUNITY_NOT_FOUND)"),
    409: errorResponse("A subscription still runs: cancel it in the billing portal first (SUBSCRIPTION_ACTIVE)"),
    503: errorResponse("Trading could not be halted, so nothing was deleted (SERVICE_UNAVAILABLE)"),
  },
});

/** A community's plan that still renews would keep charging after deletion: it is canceled first, in the portal. */
async function refuseWhileSubscribed(c: AppContext, communityId: string): Promise<void> {
  const billing = billingContext(c.env, c.get("config"), c.get("logger"));
  const subscriptions = await billing.dir.subscriptions.forSubject({ subject: "community", communityId, userId: null });
  if (subscriptions.some((row) => isLive(row) && !row.cancelAtPeriodEnd)) {
    throw new ConflictError(
      "The community's subscription still renews: cancel it in the billing portal (`/subscription`) first, then delete the community.",
      "SUBSCRIPTION_ACTIVE",
    );
  }
}

function communityView(community: Community): z.infer<typeof CommunitySchema> {
  return {
    id: community.id,
    guildId: community.guildId,
    name: community.name,
    tier: community.tier,
    halted: community.halted,
    haltedReason: community.haltedReason,
    createdAt: community.createdAt,
  };
}

/** 00:00 UTC of the day `now` falls in. */
const utcDayStart = (now: number) => now - (now % DAY_MS);

export function registerCommunities(app: App): void {
  app.openapi(byGuildRoute, async (c) => {
    const { guild_id: guildId } = c.req.valid("query");
    const community = await communityDirectory(database(c.env.DB)).findByGuildId(guildId);
    if (!community || community.deletedAt !== null) {
      throw new NotFoundError(`No community is registered for guild ${guildId}.`, "COMMUNITY_NOT_FOUND");
    }
    c.set("communityId", community.id);
    return c.json({ community: communityView(community) }, 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const { communityId } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    await requireStepUp(c, tenant, "community.delete"); // operators are not asked
    const byMember = principalOf(c).kind === "member";
    await refuseWhileSubscribed(c, communityId);
    const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise);
    const logger = c.get("logger");
    const outcome = await deleteCommunity(
      { env: c.env, logger, waitUntil, events: hubEventSink({ env: c.env, logger, waitUntil }) },
      tenant,
      { actorId: actorOf(c), stepUp: byMember ? "community.delete" : null },
    );
    // A concurrent deletion won: this one finds it gone, as any later call does.
    if (!outcome.deleted) throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
    const { deleted: _, ...effects } = outcome;
    return c.json(
      {
        community: {
          id: communityId,
          deleted: true as const,
          halted: true as const,
          openPositions: "untouched" as const,
          ...effects,
        },
      },
      200,
    );
  });

  app.openapi(detailRoute, async (c) => {
    const { communityId } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    const [community, activity] = await Promise.all([
      tenant.community.get(),
      tenant.execution.activityCounts(utcDayStart(Date.now())),
    ]);
    if (!community) throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
    const membersByRole = Object.fromEntries(
      MEMBERSHIP_ROLES.map((role) => [role, activity.membersByRole[role] ?? 0]),
    ) as Record<(typeof MEMBERSHIP_ROLES)[number], number>;
    return c.json(
      {
        community: {
          ...communityView(community),
          counts: {
            members: Object.values(membersByRole).reduce((sum, n) => sum + n, 0),
            membersByRole,
            providers: activity.providers,
            followers: activity.followers,
            enabledFollows: activity.enabledFollows,
            signalsToday: activity.signalsSince,
            openOrders: activity.openOrders,
          },
        },
      },
      200,
    );
  });
}
