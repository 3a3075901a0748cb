import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../../platform/db/client";
import { FLAG_KEY, featureFlagDefinitions } from "../../../platform/db/feature-flags";
import { actorOf, COMMUNITY_ACCESS_RESPONSES, communityAction } from "../community-access";
import { communityFromRoute } from "../community-scope";
import type { App } from "../context";
import { operatorOnly } from "../middleware/ops-auth";
import { CommunityParams, errorResponse, jsonResponse as json } from "../schemas";

const FlagKey = z.string().regex(FLAG_KEY, "lowercase letters, digits, _ . - (starting with a letter), at most 64");

const FlagSchema = z
  .object({
    key: z.string(),
    description: z.string(),
    enabledByDefault: z.boolean(),
    rolloutPercent: z.number().int().min(0).max(100).nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("FeatureFlag");

const FlagDefinitionBody = z
  .object({
    description: z.string().max(500).optional(),
    enabledByDefault: z.boolean().optional(),
    rolloutPercent: z.number().int().min(0).max(100).nullable().optional(),
  })
  .strict()
  .openapi("FeatureFlagDefinition");

const EvaluationSchema = z
  .object({
    key: z.string(),
    enabled: z.boolean(),
    reason: z.enum(["override", "rollout", "default", "unknown_flag"]),
  })
  .openapi("FeatureFlagEvaluation");

const unauthorized = errorResponse("Missing or wrong operator token");

const listFlags = createRoute({
  ...operatorOnly,
  method: "get",
  path: "/api/v1/ops/flags",
  tags: ["operations"],
  summary: "List global feature flag definitions",
  responses: { 200: json(z.object({ flags: z.array(FlagSchema) }), "Flags"), 401: unauthorized },
});

const defineFlag = createRoute({
  ...operatorOnly,
  method: "put",
  path: "/api/v1/ops/flags/{key}",
  tags: ["operations"],
  summary: "Create or replace a flag's global default and percentage rollout",
  request: {
    params: z.object({ key: FlagKey }),
    body: { required: true, content: { "application/json": { schema: FlagDefinitionBody } } },
  },
  responses: {
    200: json(z.object({ flag: FlagSchema }), "The stored definition"),
    400: errorResponse("Invalid key or body"),
    401: unauthorized,
    415: errorResponse("Body is not JSON"),
  },
});

const communityFlags = createRoute({
  ...communityAction("flags.manage"),
  method: "get",
  path: "/api/v1/communities/{communityId}/flags",
  tags: ["operations"],
  summary: "Every flag as it evaluates for one community, with the reason",
  request: { params: CommunityParams },
  responses: {
    200: json(z.object({ flags: z.array(EvaluationSchema) }), "Evaluations"),
    ...COMMUNITY_ACCESS_RESPONSES,
  },
});

const setOverride = createRoute({
  ...communityAction("flags.manage"),
  method: "put",
  path: "/api/v1/communities/{communityId}/flags/{key}",
  tags: ["operations"],
  summary: "Force a flag on or off for one community (audited)",
  request: {
    params: CommunityParams.extend({ key: FlagKey }),
    body: {
      required: true,
      content: { "application/json": { schema: z.object({ enabled: z.boolean() }).strict() } },
    },
  },
  responses: {
    200: json(EvaluationSchema, "The flag as it now evaluates"),
    ...COMMUNITY_ACCESS_RESPONSES,
    400: errorResponse("Invalid body"),
    404: errorResponse("No such community or flag"),
    415: errorResponse("Body is not JSON"),
  },
});

const clearOverride = createRoute({
  ...communityAction("flags.manage"),
  method: "delete",
  path: "/api/v1/communities/{communityId}/flags/{key}",
  tags: ["operations"],
  summary: "Remove a community's override, so the default and rollout apply again (audited)",
  request: { params: CommunityParams.extend({ key: FlagKey }) },
  responses: {
    200: json(EvaluationSchema.extend({ cleared: z.boolean() }), "The flag as it now evaluates"),
    ...COMMUNITY_ACCESS_RESPONSES,
  },
});

export function registerFeatureFlags(app: App): void {
  app.openapi(listFlags, async (c) => {
    return c.json({ flags: await featureFlagDefinitions(database(c.env.DB)).list() }, 200);
  });

  app.openapi(defineFlag, async (c) => {
    const { key } = c.req.valid("param");
    const flag = await featureFlagDefinitions(database(c.env.DB)).define({ key, ...c.req.valid("json") });
    c.get("logger").warn("ops.flag_defined", { flag: key, ...c.req.valid("json") });
    return c.json({ flag }, 200);
  });

  app.openapi(communityFlags, async (c) => {
    const tenant = await communityFromRoute(c, c.req.valid("param").communityId);
    const definitions = await featureFlagDefinitions(database(c.env.DB)).list();
    const flags = await Promise.all(
      definitions.map(async ({ key }) => ({ key, ...(await tenant.flags.evaluate(key)) })),
    );
    return c.json({ flags }, 200);
  });

  app.openapi(setOverride, async (c) => {
    const { communityId, key } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    await tenant.flags.setOverride(key, c.req.valid("json").enabled, actorOf(c));
    return c.json({ key, ...(await tenant.flags.evaluate(key)) }, 200);
  });

  app.openapi(clearOverride, async (c) => {
    const { communityId, key } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    const cleared = await tenant.flags.clearOverride(key, actorOf(c));
    return c.json({ key, ...(await tenant.flags.evaluate(key)), cleared }, 200);
  });
}
