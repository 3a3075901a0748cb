import { createRoute, z } from "@hono/zod-openapi";
import { BROKERS, ORDER_STATUSES } from "../../../shared/db/schema";
import type { OrderEventRow, OrderRow } from "../../../shared/execution/orders";
import { communityFromRoute } from "../community-scope";
import type { App } from "../context";
import { requireOpsToken } from "../middleware/ops-auth";
import { errorResponse } from "../schemas";
import { CommunityIdParam } from "./communities";

const MAX_LIMIT = 500;

/** User ids are opaque (UUIDs, or readable ids in the demo seed). */
export const UserIdQuery = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, "A user id: letters, digits, - and _")
  .openapi({ example: "demo-trader-1" });

export const OrderEventSchema = z
  .object({
    fromStatus: z.enum(ORDER_STATUSES).nullable(),
    toStatus: z.enum(ORDER_STATUSES),
    cause: z.string().openapi({ example: "signal" }),
    data: z.record(z.string(), z.unknown()),
    createdAt: z.number().int(),
  })
  .openapi("OrderEvent");

export const OrderSchema = z
  .object({
    id: z.string(),
    communityId: z.string(),
    signalId: z.string().nullable(),
    userId: z.string(),
    broker: z.enum(BROKERS),
    accountRef: z.string().openapi({ description: 'Broker connection id, or "paper"' }),
    clientOrderId: z.string(),
    brokerOrderId: z.string().nullable(),
    leg: z.string().openapi({ example: "entry" }),
    parentOrderId: z.string().nullable(),
    symbol: z.string(),
    assetClass: z.string(),
    side: z.string(),
    orderType: z.string(),
    quantity: z.number(),
    limitPrice: z.number().nullable(),
    stopPrice: z.number().nullable(),
    status: z.enum(ORDER_STATUSES),
    statusReason: z.string().nullable(),
    filledQuantity: z.number(),
    averageFillPrice: z.number().nullable(),
    attempts: z.number().int(),
    submittedAt: z.number().int().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    intent: z.record(z.string(), z.unknown()).openapi({ description: "The full order intent, with its exits" }),
  })
  .openapi("Order");

export type OrderView = z.infer<typeof OrderSchema>;

export function orderView(row: OrderRow): OrderView {
  return {
    id: row.id,
    communityId: row.communityId,
    signalId: row.signalId,
    userId: row.userId,
    broker: row.broker,
    accountRef: row.accountRef,
    clientOrderId: row.clientOrderId,
    brokerOrderId: row.brokerOrderId,
    leg: row.leg,
    parentOrderId: row.parentOrderId,
    symbol: row.symbol,
    assetClass: row.assetClass,
    side: row.side,
    orderType: row.orderType,
    quantity: row.quantity,
    limitPrice: row.limitPrice,
    stopPrice: row.stopPrice,
    status: row.status,
    statusReason: row.statusReason,
    filledQuantity: row.filledQuantity,
    averageFillPrice: row.averageFillPrice,
    attempts: row.attempts,
    submittedAt: row.submittedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    intent: row.intent,
  };
}

/** Groups rows by a key, keeping their order. */
export function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
}

const eventView = (e: OrderEventRow): z.infer<typeof OrderEventSchema> => ({
  fromStatus: e.fromStatus,
  toStatus: e.toStatus,
  cause: e.cause,
  data: e.data,
  createdAt: e.createdAt,
});

const route = createRoute({
  method: "get",
  path: "/api/v1/communities/{communityId}/orders",
  tags: ["operations"],
  summary: "A community's orders, newest first, optionally with each order's event history",
  security: [{ opsToken: [] }],
  request: {
    params: z.object({ communityId: CommunityIdParam }),
    query: z.object({
      status: z.enum(ORDER_STATUSES).optional(),
      user_id: UserIdQuery.optional(),
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
    401: errorResponse("Missing or invalid operator token"),
    404: errorResponse("No such community (COMMUNITY_NOT_FOUND)"),
  },
});

export function registerCommunityOrders(app: App): void {
  app.use("/api/v1/communities/:communityId/orders", requireOpsToken);
  app.openapi(route, async (c) => {
    const { communityId } = c.req.valid("param");
    const { status, user_id: userId, limit, include } = c.req.valid("query");
    const tenant = await communityFromRoute(c, communityId);
    const rows = await tenant.execution.listOrders({ status, userId, limit });
    if (include !== "events") return c.json({ orders: rows.map(orderView) }, 200);
    const events = groupBy(await tenant.execution.eventsOfOrders(rows.map((r) => r.id)), (e) => e.orderId);
    return c.json(
      { orders: rows.map((row) => ({ ...orderView(row), events: (events.get(row.id) ?? []).map(eventView) })) },
      200,
    );
  });
}
