import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../../platform/db/client";
import { communityDirectory } from "../../../platform/db/cross-community/community-directory";
import type { Community } from "../../../platform/db/tenant/community";
import { COMMUNITY_TIERS, MEMBERSHIP_ROLES } from "../../../shared/db/schema";
import { NotFoundError } from "../../../shared/errors";
import { COMMUNITY_ACCESS_RESPONSES, communityAction } from "../community-access";
import { communityFromRoute } from "../community-scope";
import type { App } from "../context";
import { operatorOnly } from "../middleware/ops-auth";
import { CommunityParams, errorResponse } from "../schemas";

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
    if (!community) throw new NotFoundError(`No community is registered for guild ${guildId}.`, "COMMUNITY_NOT_FOUND");
    c.set("communityId", community.id);
    return c.json({ community: communityView(community) }, 200);
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
