import { createRoute, z } from "@hono/zod-openapi";
import { gatewayShardFor } from "../../../platform/objects";
import { ConflictError } from "../../../shared/errors";
import { HANDED_ON_EVENTS } from "../../../shared/gateway/dispatches";
import { productionShards } from "../../../shared/gateway/shards";
import type { App } from "../context";
import { operatorOnly } from "../middleware/ops-auth";
import { errorResponse } from "../schemas";

const FatalStopSchema = z
  .object({
    source: z.enum(["close_code", "http_status"]),
    code: z.number().int().openapi({ example: 4004 }),
    name: z.string().nullable().openapi({ example: "AuthenticationFailed" }),
    reason: z.string(),
    at: z.number().int(),
  })
  .openapi("GatewayFatalStop", {
    description: "Discord closed with a code that forbids reconnecting (4004, 4010–4014), or refused the bot token",
  });

const RecentDispatchSchema = z.object({
  key: z.string(),
  type: z.enum(HANDED_ON_EVENTS),
  seq: z.number().int(),
  receivedAt: z.number().int(),
  status: z.enum(["pending", "handed_on", "failed"]),
  attempts: z.number().int(),
  guildId: z.string().nullable(),
  channelId: z.string().nullable(),
  subjectId: z.string().openapi({ description: "The message id, or the member's user id" }),
  lastError: z.string().nullable(),
});

export const GatewayShardSchema = z
  .object({
    shardId: z.number().int(),
    shardCount: z.number().int(),
    running: z.boolean(),
    phase: z.enum(["idle", "waiting", "fetching_gateway", "acquiring_identify_slot", "connecting", "open"]),
    connected: z.boolean().openapi({ description: "The socket is open and the session READY or RESUMED" }),
    waitingReason: z.string().nullable(),
    nextWakeAt: z.number().int().nullable(),
    sessionAgeMs: z.number().int().nullable(),
    lastSequence: z.number().int().nullable(),
    heartbeatIntervalMs: z.number().int().nullable(),
    heartbeatAckLatencyMs: z.number().nullable(),
    lastHeartbeatAckAt: z.number().int().nullable(),
    reconnectsLastHour: z.number().int(),
    consecutiveFailures: z.number().int(),
    fatal: FatalStopSchema.nullable(),
    identifyBudget: z
      .object({
        total: z.number().int(),
        remaining: z.number().int(),
        resetAt: z.number().int(),
        maxConcurrency: z.number().int(),
        checkedAt: z.number().int(),
      })
      .nullable()
      .openapi({ description: "session_start_limit from the last GET /gateway/bot" }),
    dispatches: z.object({
      received: z.record(z.string(), z.number().int()),
      replayed: z.record(z.string(), z.number().int()).openapi({ description: "Replays dropped by event key" }),
      recent: z.array(RecentDispatchSchema),
    }),
  })
  .openapi("GatewayShard");

const GatewayStatusSchema = z
  .object({ enabled: z.boolean(), shards: z.array(GatewayShardSchema) })
  .openapi("GatewayStatus");

const statusRoute = createRoute({
  ...operatorOnly,
  method: "get",
  path: "/api/v1/ops/gateway",
  operationId: "getGatewayStatus",
  tags: ["operations"],
  summary: "Gateway watcher: connected, session age, last sequence, heartbeat ACK latency, reconnects in the last hour",
  responses: {
    200: { description: "Each shard's state", content: { "application/json": { schema: GatewayStatusSchema } } },
    401: errorResponse("Missing or invalid operator token"),
  },
});

const restartRoute = createRoute({
  ...operatorOnly,
  method: "post",
  path: "/api/v1/ops/gateway/restart",
  operationId: "restartGateway",
  tags: ["operations"],
  summary: "Clear a fatal stop (after fixing the token or the intents) and reconnect every shard now",
  responses: {
    200: {
      description: "Each shard's state after the restart",
      content: { "application/json": { schema: GatewayStatusSchema } },
    },
    401: errorResponse("Missing or invalid operator token"),
    409: errorResponse("GATEWAY_ENABLED is not true (GATEWAY_DISABLED)"),
  },
});

export function registerOpsGateway(app: App): void {
  app.openapi(statusRoute, async (c) => {
    const shards = await Promise.all(productionShards().map((shard) => gatewayShardFor(c.env, shard).status()));
    return c.json({ enabled: c.get("config").GATEWAY_ENABLED, shards }, 200);
  });

  app.openapi(restartRoute, async (c) => {
    if (!c.get("config").GATEWAY_ENABLED) {
      throw new ConflictError("The Gateway is disabled: set GATEWAY_ENABLED=true first.", "GATEWAY_DISABLED");
    }
    const shards = await Promise.all(productionShards().map((shard) => gatewayShardFor(c.env, shard).restart()));
    c.get("logger").warn("gateway.restarted_by_operator", { shards: shards.map((shard) => shard.shardId) });
    return c.json({ enabled: true, shards }, 200);
  });
}
