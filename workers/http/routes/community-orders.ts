import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../../platform/db/client";
import { internalUserId } from "../../../platform/db/users";
import { ORDER_STATUSES } from "../../../shared/db/schema";
import type { OrderEventRow } from "../../../shared/execution/orders";
import { COMMUNITY_ACCESS_RESPONSES, communityAction } from "../community-access";
import { communityFromRoute } from "../community-scope";
import type { App } from "../context";
import { CommunityParams, errorResponse, OrderEventSchema, OrderSchema, orderView, UserIdQuery } from "../schemas";

const MAX_LIMIT = 500;

const eventView = (e: OrderEventRow): z.infer<typeof OrderEventSchema> => ({
  fromStatus: e.fromStatus,
  toStatus: e.toStatus,
  cause: e.cause,
  data: e.data,
  createdAt: e.createdAt,
});

const route = createRoute({
  ...communityAction("orders.view_all"),
  method: "get",
  path: "/api/v1/communities/{communityId}/orders",
  tags: ["operations"],
  summary: "A community's orders, newest first, optionally with each order's event history",
  request: {
    params: CommunityParams,
    query: z.object({
      status: z.enum(ORDER_STATUSES).optional(),
      user_id: UserIdQuery.optional().openapi({ description: "The member's internal id or Discord user id" }),
      limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(100),
      include: z.enum(["events"]).optional().openapi({ description: "events: add each order's state history" }),
    }),
  },
  responses: {
    200: {
      description: "Orders of this community only, newest first",
      content: {
        "application/json": {
          schema: z.object({
            orders: z.array(OrderSchema.extend({ events: z.array(OrderEventSchema).optional() })),
          }),
        },
      },
    },
    400: errorResponse("A query parameter is invalid (status must be an order state)"),
    ...COMMUNITY_ACCESS_RESPONSES,
  },
});

export function registerCommunityOrders(app: App): void {
  app.openapi(route, async (c) => {
    const { communityId } = c.req.valid("param");
    const { status, user_id: named, limit, include } = c.req.valid("query");
    const tenant = await communityFromRoute(c, communityId);
    const userId = named === undefined ? undefined : await internalUserId(database(c.env.DB), named);
    const rows = await tenant.execution.listOrders({ status, userId, limit });
    if (include !== "events") return c.json({ orders: rows.map(orderView) }, 200);
    const events = Map.groupBy(await tenant.execution.eventsOfOrders(rows.map((r) => r.id)), (e) => e.orderId);
    return c.json(
      { orders: rows.map((row) => ({ ...orderView(row), events: (events.get(row.id) ?? []).map(eventView) })) },
      200,
    );
  });
}
