import { createRoute, z } from "@hono/zod-openapi";
import { credentialVault } from "../../../platform/crypto/vault";
import { database } from "../../../platform/db/client";
import { ConflictError, NotFoundError } from "../../../shared/errors";
import { createSignalWebhook, providerForWebhook, revokeSignalWebhook } from "../../signal-webhooks/manage";
import { actorOf, COMMUNITY_ACCESS_RESPONSES, communityAction } from "../community-access";
import { communityFromRoute } from "../community-scope";
import type { App, AppContext } from "../context";
import { CommunityParams, errorResponse, jsonResponse } from "../schemas";

const PATH = "/api/v1/communities/{communityId}/signal-webhooks";

const WebhookId = z
  .string()
  .min(1)
  .max(64)
  .openapi({ description: "The webhook's id (from its creation or the list)" });

const CreateRequest = z
  .object({
    provider: z
      .string()
      .regex(/^\d{17,20}$/, "A Discord user id (a snowflake: 17 to 20 digits)")
      .openapi({ description: "The provider's Discord user id", example: "100000000000000202" }),
  })
  .strict()
  .openapi("SignalWebhookCreateRequest");

const CreatedSchema = z
  .object({
    id: z.string(),
    url: z.string().openapi({ description: "POST signals here; the key in the path is the credential. Shown once." }),
    secret: z.string().openapi({
      description:
        "Signing secret for the optional x-signature header (HMAC-SHA256 keyed with its UTF-8 bytes). Shown once.",
    }),
  })
  .openapi("SignalWebhookCreated");

const WebhookSchema = z
  .object({
    id: z.string(),
    providerUserId: z.string(),
    providerDiscordId: z.string().nullable(),
    createdAt: z.number().int(),
    rotatedAt: z.number().int().nullable(),
    revokedAt: z.number().int().nullable(),
  })
  .openapi("SignalWebhook");

const createRouteDef = createRoute({
  ...communityAction("providers.manage"),
  method: "post",
  operationId: "createSignalWebhook",
  path: PATH,
  tags: ["signal-webhooks"],
  summary: "Create a provider's signal webhook (audited); its URL and signing secret are shown once",
  request: {
    params: CommunityParams,
    body: { required: true, content: { "application/json": { schema: CreateRequest } } },
  },
  responses: {
    201: jsonResponse(CreatedSchema, "The new webhook"),
    400: errorResponse("Malformed body"),
    ...COMMUNITY_ACCESS_RESPONSES,
    409: errorResponse("The provider already has an active webhook (SIGNAL_WEBHOOK_EXISTS): revoke or rotate it"),
    422: errorResponse("That user is not a signal provider of this community (NOT_A_PROVIDER)"),
    503: errorResponse(
      "MASTER_KEY is not configured (FEATURE_NOT_CONFIGURED), or the data key is past 120 days and not yet rotated (DATA_KEY_EXPIRED)",
    ),
  },
});

const listRoute = createRoute({
  ...communityAction("providers.manage"),
  method: "get",
  operationId: "listSignalWebhooks",
  path: PATH,
  tags: ["signal-webhooks"],
  summary: "The community's signal webhooks (never their keys or secrets)",
  request: {
    params: CommunityParams,
    query: z.object({
      include_revoked: z.enum(["true", "false"]).default("false").openapi({ description: "Also list revoked ones" }),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ webhooks: z.array(WebhookSchema) }), "Newest first"),
    400: errorResponse("A query parameter is invalid"),
    ...COMMUNITY_ACCESS_RESPONSES,
  },
});

const revokeRoute = createRoute({
  ...communityAction("providers.manage"),
  method: "delete",
  operationId: "revokeSignalWebhook",
  path: `${PATH}/{id}`,
  tags: ["signal-webhooks"],
  summary: "Revoke a signal webhook (audited): its URL answers 404 from now on",
  request: { params: CommunityParams.extend({ id: WebhookId }) },
  responses: {
    200: jsonResponse(WebhookSchema, "Revoked (a second DELETE answers the same, and audits nothing)"),
    ...COMMUNITY_ACCESS_RESPONSES,
    404: errorResponse("No such community (COMMUNITY_NOT_FOUND) or no such webhook in it (SIGNAL_WEBHOOK_NOT_FOUND)"),
  },
});

const baseUrlOf = (c: AppContext) => c.get("config").PUBLIC_BASE_URL ?? new URL(c.req.url).origin;

export function registerSignalWebhooks(app: App): void {
  app.openapi(createRouteDef, async (c) => {
    const { communityId } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    const provider = await providerForWebhook(tenant, c.req.valid("json").provider);
    const outcome = await createSignalWebhook(
      {
        tenant,
        config: c.get("config"),
        vault: credentialVault(database(c.env.DB), c.get("config"), c.get("logger")),
        baseUrl: baseUrlOf(c),
      },
      provider.userId,
      actorOf(c),
    );
    if (!outcome.created) {
      throw new ConflictError(
        `That provider already has an active signal webhook (${outcome.existing.id}): revoke it first, or rotate it in Discord with /webhook rotate.`,
        "SIGNAL_WEBHOOK_EXISTS",
      );
    }
    const { id, url, secret } = outcome.webhook;
    return c.json({ id, url, secret }, 201);
  });

  app.openapi(listRoute, async (c) => {
    const { communityId } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    const webhooks = await tenant.signalWebhooks.list({
      includeRevoked: c.req.valid("query").include_revoked === "true",
    });
    return c.json({ webhooks }, 200);
  });

  app.openapi(revokeRoute, async (c) => {
    const { communityId, id } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    const webhook = await revokeSignalWebhook(
      tenant,
      id,
      actorOf(c),
      c.get("principal")?.kind === "operator" ? "revoked by an operator" : "revoked through the API",
    );
    if (!webhook)
      throw new NotFoundError(`Signal webhook ${id} does not exist in this community.`, "SIGNAL_WEBHOOK_NOT_FOUND");
    return c.json(webhook, 200);
  });
}
