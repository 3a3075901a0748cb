import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../../platform/db/client";
import { platformFigures } from "../../../platform/db/cross-community/ops-metrics";
import { type DataKeyFigures, dataKeyStore } from "../../../platform/db/data-keys";
import { type HubReport, realtimeStatsStore } from "../../../platform/db/realtime-stats";
import { breakerStates } from "../../../platform/execution/broker-breakers";
import { DATA_KEY_ROTATE_AFTER_MS, DATA_KEY_SEAL_LIMIT_MS } from "../../../shared/crypto/data-keys";
import { masterKeyring } from "../../../shared/crypto/sealed-secret";
import { ORDER_STATUSES } from "../../../shared/db/schema";
import { BREAKER_DEFAULTS, type BreakerState } from "../../../shared/execution/circuit-breaker";
import {
  addHubFigures,
  HUB_COUNTERS,
  latencyPercentile,
  REALTIME_LATENCY_BUCKETS_MS,
} from "../../../shared/realtime/stats";
import type { App } from "../context";
import { operatorOnly } from "../middleware/ops-auth";
import { errorResponse } from "../schemas";

const WINDOW_MS = 24 * 3600_000;
/** A hub reports every minute while it holds sockets: one silent for longer holds none (or is gone). */
const REALTIME_FRESH_MS = 3 * 60_000;

const ReconciliationRunSchema = z
  .object({
    id: z.string(),
    startedAt: z.number().int(),
    finishedAt: z.number().int().nullable().openapi({ description: "null while the run is still going" }),
    checked: z.number().int(),
    updated: z.number().int(),
    stale: z.number().int(),
    adopted: z.number().int(),
    errors: z.number().int(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi("ReconciliationRun");

const BrokerBreakerSchema = z
  .object({
    broker: z.string().openapi({ example: "alpaca" }),
    state: z
      .enum(["closed", "open", "half_open"])
      .openapi({ description: "closed; open: submissions paused for a cool-down; half_open: one probe decides" }),
    openedAt: z.number().int().nullable(),
    coolDownEndsAt: z.number().int().nullable().openapi({ description: "When an open breaker lets a probe through" }),
    trips: z.number().int().openapi({ description: "How many times it opened" }),
    recentCalls: z.number().int().openapi({ description: "Calls in the window the breaker judges on" }),
    recentFailures: z.number().int().openapi({ description: "Of those, server errors and timeouts" }),
  })
  .openapi("BrokerBreaker");

const LatencyPercentileSchema = z
  .object({
    atMostMs: z.number().nullable().openapi({ description: "The histogram bucket's upper bound; null past the last" }),
    overMs: z.number().optional().openapi({ description: "Set when the percentile lies past the last bound" }),
  })
  .nullable();

const RealtimeSchema = z
  .object({
    hubs: z.number().int().openapi({ description: "Hubs that reported in the last 3 minutes (they hold sockets)" }),
    connections: z.number().int().openapi({ description: "Open sockets in those hubs" }),
    counters: z
      .record(z.enum(HUB_COUNTERS), z.number())
      .openapi({ description: "Cumulative over every hub's life: messages and bytes in and out, closes by cause" }),
    publishToSendMs: z
      .object({
        bucketsMs: z.array(z.number()),
        counts: z.array(z.number().int()).openapi({ description: "One more than bucketsMs: the last is slower" }),
        p50: LatencyPercentileSchema,
        p99: LatencyPercentileSchema,
      })
      .openapi({ description: "From an event's publication to the hub handing it to its sockets, over every hub" }),
  })
  .openapi("RealtimeMetrics");

const VaultSchema = z
  .object({
    configured: z.boolean().openapi({ description: "MASTER_KEY and MASTER_KEY_ID are set: secrets can be sealed" }),
    masterKeyId: z.string().nullable(),
    activeKeys: z
      .number()
      .int()
      .openapi({ description: "Data keys sealing new secrets: one per community or the platform" }),
    retiredKeys: z.number().int().openapi({ description: "Rotated data keys, kept wrapped to open what they sealed" }),
    oldestActiveAgeDays: z.number().int().nullable(),
    dueForRotation: z
      .number()
      .int()
      .openapi({ description: "Active keys 90 days old or more: the daily job rotates them" }),
    pastSealLimit: z
      .number()
      .int()
      .openapi({ description: "Active keys 120 days old or more: they seal nothing until rotated (an alert)" }),
    wrappedUnderOtherMasterKeys: z.number().int().openapi({
      description: "Data keys not yet re-wrapped under the current master key after a master key rotation",
    }),
  })
  .openapi("VaultMetrics");

const MetricsSchema = z
  .object({
    generatedAt: z.number().int(),
    orders: z.object({
      windowMs: z.number().int(),
      byStatus: z
        .record(z.enum(ORDER_STATUSES), z.number().int())
        .openapi({ description: "Orders created in the window, by their current status" }),
    }),
    deadLetters: z.object({
      notReplayed: z.number().int(),
      byQueue: z.record(z.string(), z.number().int()),
    }),
    reconciliation: z.object({ lastRun: ReconciliationRunSchema.nullable() }),
    brokers: z.array(BrokerBreakerSchema).openapi({ description: "Each broker's circuit breaker" }),
    realtime: RealtimeSchema,
    vault: VaultSchema.openapi({ description: "The credential vault's data keys" }),
  })
  .openapi("OpsMetrics");

const route = createRoute({
  ...operatorOnly,
  method: "get",
  path: "/api/v1/ops/metrics",
  tags: ["operations"],
  summary:
    "Platform figures: orders by status (24 h), dead letters, the last reconciliation run, broker breakers, realtime, the credential vault",
  responses: {
    200: { description: "Current figures", content: { "application/json": { schema: MetricsSchema } } },
    401: errorResponse("Missing or invalid operator token"),
  },
});

function breakerView(broker: string, state: BreakerState): z.infer<typeof BrokerBreakerSchema> {
  return {
    broker,
    state: state.phase,
    openedAt: state.openedAt,
    coolDownEndsAt:
      state.phase === "open" && state.openedAt !== null ? state.openedAt + BREAKER_DEFAULTS.coolDownMs : null,
    trips: state.trips,
    recentCalls: state.outcomes.length,
    recentFailures: state.outcomes.filter((ok) => !ok).length,
  };
}

/** Counters and latencies summed over every hub that ever reported; connections only from fresh reports. */
function realtimeView(hubs: readonly HubReport[], now: number): z.infer<typeof RealtimeSchema> {
  const fresh = hubs.filter((hub) => now - hub.reportedAt <= REALTIME_FRESH_MS);
  const all = addHubFigures(hubs.map((hub) => hub.stats));
  return {
    hubs: fresh.length,
    connections: fresh.reduce((sum, hub) => sum + hub.stats.connections, 0),
    counters: all.counters,
    publishToSendMs: {
      bucketsMs: [...REALTIME_LATENCY_BUCKETS_MS],
      counts: all.latencyBuckets,
      p50: latencyPercentile(all.latencyBuckets, 50),
      p99: latencyPercentile(all.latencyBuckets, 99),
    },
  };
}

function vaultView(keys: DataKeyFigures, masterKeyId: string | null, now: number): z.infer<typeof VaultSchema> {
  const { oldestActiveCreatedAt, ...counts } = keys;
  return {
    configured: masterKeyId !== null,
    masterKeyId,
    ...counts,
    oldestActiveAgeDays: oldestActiveCreatedAt === null ? null : Math.floor((now - oldestActiveCreatedAt) / 86_400_000),
  };
}

export function registerOpsMetrics(app: App): void {
  app.openapi(route, async (c) => {
    const now = Date.now();
    const db = database(c.env.DB);
    const masterKeyId = masterKeyring(c.get("config")).current?.id ?? null;
    const [figures, breakers, hubs, keys] = await Promise.all([
      platformFigures(db, now - WINDOW_MS),
      breakerStates(c.env),
      realtimeStatsStore(db).all(),
      dataKeyStore(db).figures(now - DATA_KEY_ROTATE_AFTER_MS, now - DATA_KEY_SEAL_LIMIT_MS, masterKeyId),
    ]);
    const byQueue = figures.deadLettersNotReplayed;
    return c.json(
      {
        generatedAt: now,
        orders: { windowMs: WINDOW_MS, byStatus: figures.ordersByStatus },
        deadLetters: { notReplayed: Object.values(byQueue).reduce((sum, n) => sum + n, 0), byQueue },
        reconciliation: { lastRun: figures.lastReconciliationRun },
        brokers: breakers.map(({ broker, state }) => breakerView(broker, state)),
        realtime: realtimeView(hubs, now),
        vault: vaultView(keys, masterKeyId, now),
      },
      200,
    );
  });
}
