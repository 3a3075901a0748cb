import { createRoute, z } from "@hono/zod-openapi";
import type { BrokerConnectionView } from "../../../platform/db/tenant/broker-connections";
import { hubEventSink } from "../../../platform/execution/event-sink";
import { notifyMember } from "../../../platform/notifications/notify-member";
import { BROKER_IDS } from "../../../shared/brokers/ids";
import { CONNECTION_STATUSES } from "../../../shared/db/schema";
import { ConflictError, NotFoundError } from "../../../shared/errors";
import { can } from "../../../shared/rbac/matrix";
import { requireStepUp } from "../../auth/step-up";
import {
  actorOf,
  COMMUNITY_ACCESS_RESPONSES,
  type CommunityPrincipal,
  communityAction,
  principalOf,
} from "../community-access";
import { communityFromRoute } from "../community-scope";
import type { App, AppContext } from "../context";
import { CommunityParams, errorResponse, jsonResponse } from "../schemas";

const PATH = "/api/v1/communities/{communityId}/brokers";

const ConnectionSchema = z
  .object({
    id: z.string(),
    userId: z.string().openapi({ description: "The member whose connection it is (internal user id)" }),
    broker: z.enum(BROKER_IDS),
    status: z.enum(CONNECTION_STATUSES),
    lastError: z.string().nullable().openapi({ description: "The broker's last error, or why it stopped" }),
    accountId: z.string().nullable(),
    mode: z.enum(["paper", "live"]),
    expiresAt: z.number().int().nullable().openapi({ description: "When its authorization expires (epoch ms)" }),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("BrokerConnection");

const listRoute = createRoute({
  ...communityAction("community.view"),
  method: "get",
  operationId: "listBrokerConnections",
  path: PATH,
  tags: ["brokers"],
  summary: "Broker connections: a member's own; every member's for admins and operators (never a credential)",
  request: { params: CommunityParams },
  responses: {
    200: jsonResponse(z.object({ connections: z.array(ConnectionSchema) }), "Oldest first"),
    ...COMMUNITY_ACCESS_RESPONSES,
  },
});

const disconnectRoute = createRoute({
  ...communityAction("trading.own"),
  method: "delete",
  operationId: "disconnectBroker",
  path: `${PATH}/{connectionId}`,
  tags: ["brokers"],
  summary: "Remove a broker connection and its credentials (audited; a step-up for members)",
  request: { params: CommunityParams.extend({ connectionId: z.string().min(1).max(64) }) },
  responses: {
    200: jsonResponse(z.object({ connection: ConnectionSchema, disconnected: z.literal(true) }), "Removed"),
    ...COMMUNITY_ACCESS_RESPONSES,
    403: errorResponse(
      "The role does not grant trading.own (FORBIDDEN), or no two-factor verification in the last 10 minutes (MFA_REQUIRED, STEP_UP_REQUIRED)",
    ),
    404: errorResponse(
      "No such community (COMMUNITY_NOT_FOUND), or no such connection of the caller's (BROKER_CONNECTION_NOT_FOUND)",
    ),
    409: errorResponse("Orders through it are still open: wait for them or cancel them (BROKER_CONNECTION_BUSY)"),
  },
});

/** Admins and operators see and remove every member's connections; a member only their own. */
function mayManageAll(principal: CommunityPrincipal): boolean {
  return principal.kind === "operator" || can(principal.role, "brokers.manage");
}

function visibleTo(principal: CommunityPrincipal, connection: BrokerConnectionView): boolean {
  return mayManageAll(principal) || (principal.kind === "member" && principal.userId === connection.userId);
}

/** A member whose connection an admin or operator removed is told, as a security notice (always sent by DM). */
function tellMemberOfRemoval(c: AppContext, communityId: string, connection: BrokerConnectionView): void {
  const logger = c.get("logger");
  const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise);
  const told = notifyMember(
    { env: c.env, events: hubEventSink({ env: c.env, logger, waitUntil }) },
    {
      userId: connection.userId,
      communityId,
      event: `broker_disconnected:${connection.id}`,
      message: `🔌 Your ${connection.broker} connection${connection.accountId ? ` (${connection.accountId})` : ""} in this server was removed by an admin: orders are no longer sent through it. Your account and positions at the broker are untouched.`,
    },
  ).catch((error) => logger.error("broker.disconnect_notice_failed", { error }));
  waitUntil(told);
}

export function registerCommunityBrokers(app: App): void {
  app.openapi(listRoute, async (c) => {
    const { communityId } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    const principal = principalOf(c);
    const ownOnly = principal.kind === "member" && !mayManageAll(principal);
    const connections = await tenant.brokerConnections.list(ownOnly ? { userId: principal.userId } : {});
    return c.json({ connections }, 200);
  });

  app.openapi(disconnectRoute, async (c) => {
    const { communityId, connectionId } = c.req.valid("param");
    const tenant = await communityFromRoute(c, communityId);
    const principal = principalOf(c);
    const notFound = new NotFoundError(
      `Broker connection ${connectionId} does not exist in this community.`,
      "BROKER_CONNECTION_NOT_FOUND",
    );
    const connection = await tenant.brokerConnections.view(connectionId);
    // Another member's connection is not found for someone who may not manage it: ids cannot be probed.
    if (!connection || !visibleTo(principal, connection)) throw notFound;
    await requireStepUp(c, tenant, "broker.disconnect"); // operators are not asked
    const outcome = await tenant.brokerConnections.disconnect(connectionId, {
      actorId: actorOf(c),
      stepUp: principal.kind === "member" ? "broker.disconnect" : null,
    });
    if (outcome.outcome === "not_found") throw notFound;
    if (outcome.outcome === "busy") {
      throw new ConflictError(
        `${outcome.openOrders} order(s) through this connection are still open: wait until they are filled or canceled (or cancel them with /cancel), then remove it.`,
        "BROKER_CONNECTION_BUSY",
      );
    }
    if (principal.kind === "operator" || principal.userId !== connection.userId) {
      tellMemberOfRemoval(c, communityId, connection);
    }
    return c.json({ connection: outcome.connection, disconnected: true as const }, 200);
  });
}
