import { createRoute, z } from "@hono/zod-openapi";
import type { SignalRow } from "../../../platform/db/tenant/signals";
import { SIGNAL_SOURCES, SIGNAL_STATUSES } from "../../../shared/db/schema";
import { NotFoundError } from "../../../shared/errors";
import type { FillRow } from "../../../shared/execution/orders";
import { COMMUNITY_ACCESS_RESPONSES, communityAction } from "../community-access";
import { communityFromRoute } from "../community-scope";
import type { App } from "../context";
import { CommunityParams, errorResponse, OrderSchema, orderView, UserIdQuery } from "../schemas";

const MAX_FOLLOWERS_PER_PAGE = 500;

const SignalSchema = z
  .object({
    id: z.string(),
    communityId: z.string(),
    providerUserId: z.string(),
    source: z.enum(SIGNAL_SOURCES),
    sourceId: z.string(),
    sourceTimestamp: z.number().int().openapi({ description: "When the source says it was sent (epoch ms)" }),
    channelId: z.string().nullable(),
    rawText: z.string().nullable(),
    normalized: z
      .record(z.string(), z.unknown())
      .openapi({ description: "The normalized signal, as POST /api/v1/signals/parse returns it" }),
    status: z.enum(SIGNAL_STATUSES),
    statusReason: z.string().nullable(),
    summary: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: "The executor's summary: followers, ordersQueued, ordersReduced, skipped by reason" }),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("Signal");

const FillSchema = z
  .object({
    executionId: z.string(),
    quantity: z.number(),
    price: z.number(),
    quoteSource: z.string().nullable(),
    quoteTimestamp: z.number().int().nullable(),
    delayed: z.boolean(),
    filledAt: z.number().int(),
  })
  .openapi("Fill");

const FollowerOutcomeSchema = z
  .object({
    userId: z.string(),
    orders: z.array(OrderSchema.extend({ fills: z.array(FillSchema) })),
  })
  .openapi("FollowerOutcome");

const route = createRoute({
  ...communityAction("orders.view_all"),
  method: "get",
  path: "/api/v1/communities/{communityId}/signals/{signalId}",
  tags: ["operations"],
  summary: "A signal and each follower's outcome (orders with fills; skips are counted in the summary)",
  request: {
    params: CommunityParams.extend({ signalId: z.string().min(1).max(128) }),
    query: z.object({
      limit: z.coerce
        .number()
        .int()
        .min(1)
        .max(MAX_FOLLOWERS_PER_PAGE)
        .default(100)
        .openapi({ description: "Followers per page" }),
      after_user_id: UserIdQuery.optional().openapi({ description: "Pass nextAfterUserId for the next page" }),
    }),
  },
  responses: {
    200: {
      description: "The signal, and one page of followers with orders for it (by user id)",
      content: {
        "application/json": {
          schema: z.object({
            signal: SignalSchema,
            followers: z.array(FollowerOutcomeSchema),
            nextAfterUserId: z.string().nullable().openapi({ description: "null on the last page" }),
          }),
        },
      },
    },
    400: errorResponse("A query parameter is invalid"),
    ...COMMUNITY_ACCESS_RESPONSES,
    404: errorResponse("No such community (COMMUNITY_NOT_FOUND) or no such signal in it (SIGNAL_NOT_FOUND)"),
  },
});

const signalView = (s: SignalRow): z.infer<typeof SignalSchema> => ({
  id: s.id,
  communityId: s.communityId,
  providerUserId: s.providerUserId,
  source: s.source,
  sourceId: s.sourceId,
  sourceTimestamp: s.sourceTimestamp,
  channelId: s.channelId,
  rawText: s.rawText,
  normalized: s.normalized,
  status: s.status,
  statusReason: s.statusReason,
  summary: s.summary,
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});

const fillView = (f: FillRow): z.infer<typeof FillSchema> => ({
  executionId: f.executionId,
  quantity: f.quantity,
  price: f.price,
  quoteSource: f.quoteSource,
  quoteTimestamp: f.quoteTimestamp,
  delayed: f.delayed,
  filledAt: f.filledAt,
});

export function registerCommunitySignals(app: App): void {
  app.openapi(route, async (c) => {
    const { communityId, signalId } = c.req.valid("param");
    const { limit, after_user_id: afterUserId } = c.req.valid("query");
    const tenant = await communityFromRoute(c, communityId);
    const [signal, orders] = await Promise.all([
      tenant.signals.get(signalId),
      tenant.execution.signalOrdersByFollower(signalId, { afterUserId, limit }),
    ]);
    if (!signal) throw new NotFoundError(`Signal ${signalId} does not exist in this community.`, "SIGNAL_NOT_FOUND");
    const fills = Map.groupBy(await tenant.execution.fillsOfOrders(orders.map((o) => o.id)), (f) => f.orderId);
    const followers = [...Map.groupBy(orders, (o) => o.userId)].map(([userId, rows]) => ({
      userId,
      orders: rows.map((row) => ({ ...orderView(row), fills: (fills.get(row.id) ?? []).map(fillView) })),
    }));
    const last = followers.at(-1);
    return c.json(
      {
        signal: signalView(signal),
        followers,
        nextAfterUserId: last && followers.length === limit ? last.userId : null,
      },
      200,
    );
  });
}
