import { gatewayShardFor } from "../../platform/objects";
import { configFor } from "../../shared/config";
import { productionShards } from "../../shared/gateway/shards";
import type { Logger } from "../../shared/logging";

/**
 * Every 5 minutes: with GATEWAY_ENABLED each shard is told to run (a no-op
 * when it is connected; a reconnect when its object lost its socket and its
 * alarm); without it each shard is told to stop, so turning the var off ends
 * the connection within one run. A shard stopped by a fatal close code stays
 * stopped until an operator restarts it.
 */
export async function runGatewayWatchdog(env: Env, logger: Logger): Promise<Record<string, unknown>> {
  const config = configFor(env);
  const enabled = config.ok && config.config.GATEWAY_ENABLED;
  const shards = productionShards();
  const results = await Promise.allSettled(
    shards.map((shard) => {
      const stub = gatewayShardFor(env, shard);
      return enabled ? stub.start() : stub.stop("GATEWAY_ENABLED is not true");
    }),
  );
  const summary = results.map((result, index) =>
    result.status === "fulfilled"
      ? {
          shardId: result.value.shardId,
          phase: result.value.phase,
          connected: result.value.connected,
          fatal: result.value.fatal?.code ?? null,
        }
      : {
          shardId: shards[index]?.shardId,
          error: result.reason instanceof Error ? result.reason.message : String(result.reason),
        },
  );
  const failed = summary.filter((shard) => "error" in shard);
  if (failed.length > 0) logger.error("gateway.watchdog_failed", { alert: true, shards: failed });
  return { enabled, shards: summary };
}
