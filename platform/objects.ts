import { type ShardIdentity, shardObjectName } from "../shared/gateway/shards";

/**
 * One typed helper per Durable Object namespace, so a call site names the
 * object it wants and never builds an id (`idFromName` + `get`) itself. Each
 * object is addressed by name; the stub's type (its RPC methods) comes from the
 * binding's generated type in `Env`, so this layer imports no Durable Object
 * class, not even as a type.
 */

/** The single writer of one community's execution state. */
export function executorFor(env: Pick<Env, "COMMUNITY_EXECUTOR">, communityId: string) {
  return env.COMMUNITY_EXECUTOR.getByName(communityId);
}

/** One community's WebSocket fan-out. */
export function realtimeHubFor(env: Pick<Env, "REALTIME_HUB">, communityId: string) {
  return env.REALTIME_HUB.getByName(communityId);
}

/** One object per rate-limit, throttle or circuit-breaker key. */
export function rateLimiterFor(env: Pick<Env, "RATE_LIMITER">, key: string) {
  return env.RATE_LIMITER.getByName(key);
}

/** One Discord Gateway shard; the object's name is the shard's identity (`<fleet>/shard-<id>-of-<count>`). */
export function gatewayShardFor(env: Pick<Env, "DISCORD_GATEWAY">, shard: ShardIdentity) {
  return env.DISCORD_GATEWAY.getByName(shardObjectName(shard));
}
