import { createRoute, z } from "@hono/zod-openapi";
import { executorFor, gatewayShardFor, rateLimiterFor, realtimeHubFor } from "../../../platform/objects";
import { configFor } from "../../../shared/config";
import { productionShards } from "../../../shared/gateway/shards";
import { within } from "../../../shared/timeout";
import type { App } from "../context";

const CheckSchema = z.object({
  ok: z.boolean(),
  latencyMs: z.number(),
  error: z.string().optional(),
  problems: z.array(z.object({ variable: z.string(), problem: z.string() })).optional(),
});
const GatewayCheckSchema = CheckSchema.extend({
  shards: z
    .array(
      z.object({
        shardId: z.number().int(),
        phase: z.string(),
        connected: z.boolean(),
        fatal: z
          .object({ code: z.number().int(), name: z.string().nullable(), reason: z.string(), at: z.number().int() })
          .nullable(),
      }),
    )
    .optional(),
}).openapi({
  description: "Only with GATEWAY_ENABLED: fails while a shard is stopped by a close code that forbids reconnecting",
});
const ReadySchema = z
  .object({
    status: z.enum(["ready", "not_ready"]),
    checks: z.object({
      config: CheckSchema,
      d1: CheckSchema,
      communityExecutor: CheckSchema,
      realtimeHub: CheckSchema,
      rateLimiter: CheckSchema,
      gateway: GatewayCheckSchema.optional(),
    }),
  })
  .openapi("Readiness");

const route = createRoute({
  method: "get",
  path: "/ready",
  tags: ["platform"],
  summary: "Readiness: config valid, D1 reachable, each Durable Object namespace reachable",
  responses: {
    200: { description: "Every check passed", content: { "application/json": { schema: ReadySchema } } },
    503: { description: "At least one check failed", content: { "application/json": { schema: ReadySchema } } },
  },
});

type Check = z.infer<typeof CheckSchema>;
const PROBE_TIMEOUT_MS = 2_000;

async function timed(probe: () => Promise<unknown>): Promise<Check> {
  const started = performance.now();
  try {
    await within(probe(), PROBE_TIMEOUT_MS);
    return { ok: true, latencyMs: elapsed(started) };
  } catch (error) {
    return { ok: false, latencyMs: elapsed(started), error: error instanceof Error ? error.message : String(error) };
  }
}

/** The name of the object each namespace answers readiness from: no community or key is ever named this way. */
const READINESS_PROBE = "__readiness__";

const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100;

export function registerReady(app: App): void {
  app.openapi(route, async (c) => {
    const configResult = configFor(c.env);
    const config: Check = configResult.ok
      ? { ok: true, latencyMs: 0 }
      : { ok: false, latencyMs: 0, error: "configuration invalid", problems: configResult.problems };

    const gatewayEnabled = configResult.ok && configResult.config.GATEWAY_ENABLED;
    const [d1, communityExecutor, realtimeHub, rateLimiter, gateway] = await Promise.all([
      timed(() => c.env.DB.prepare("SELECT 1 AS one").first()),
      timed(() => executorFor(c.env, READINESS_PROBE).ping()),
      timed(() => realtimeHubFor(c.env, READINESS_PROBE).ping()),
      timed(() => rateLimiterFor(c.env, READINESS_PROBE).ping()),
      gatewayEnabled ? gatewayCheck(c.env) : Promise.resolve(undefined),
    ]);
    const checks = { config, d1, communityExecutor, realtimeHub, rateLimiter, ...(gateway ? { gateway } : {}) };
    const ready = Object.values(checks).every((check) => check.ok);
    return c.json({ status: ready ? ("ready" as const) : ("not_ready" as const), checks }, ready ? 200 : 503);
  });
}

/** The Gateway's shards: failing while one is stopped for good (a fatal close code); reconnecting is not a failure. */
async function gatewayCheck(env: Env): Promise<z.infer<typeof GatewayCheckSchema>> {
  let shards: NonNullable<z.infer<typeof GatewayCheckSchema>["shards"]> = [];
  const check = await timed(async () => {
    const statuses = await Promise.all(productionShards().map((shard) => gatewayShardFor(env, shard).status()));
    shards = statuses.map(({ shardId, phase, connected, fatal }) => ({
      shardId,
      phase,
      connected,
      fatal: fatal && { code: fatal.code, name: fatal.name, reason: fatal.reason, at: fatal.at },
    }));
    const stopped = shards.filter((shard) => shard.fatal !== null);
    if (stopped.length > 0) {
      const codes = stopped.map((shard) => `${shard.fatal?.code} ${shard.fatal?.name ?? ""}`.trim()).join(", ");
      throw new Error(`stopped for good by Discord: ${codes}`);
    }
  });
  return { ...check, shards };
}
