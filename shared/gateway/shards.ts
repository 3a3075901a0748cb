import type { RateLimitPolicy } from "../rate-limit";

/**
 * Which Gateway connections the bot holds. Each shard is one DiscordGateway
 * object, named `<fleet>/shard-<id>-of-<count>`; the name is the object's
 * identity, and the shard pair goes into IDENTIFY. A fleet is one bot's set
 * of shards: they share the IDENTIFY concurrency buckets.
 */

/** One shard until Discord asks for more (close code 4011, or `shards` in GET /gateway/bot above this). */
export const GATEWAY_SHARD_COUNT = 1;
export const PRODUCTION_FLEET = "bot";

export interface ShardIdentity {
  fleet: string;
  shardId: number;
  shardCount: number;
}

const NAME = /^([A-Za-z0-9_-]{1,64})\/shard-(\d{1,4})-of-(\d{1,4})$/;

export function shardObjectName({ fleet, shardId, shardCount }: ShardIdentity): string {
  const name = `${fleet}/shard-${shardId}-of-${shardCount}`;
  if (parseShardObjectName(name) === null) throw new Error(`Not a valid Gateway shard: ${name}`);
  return name;
}

export function parseShardObjectName(name: string | undefined): ShardIdentity | null {
  const match = name === undefined ? null : NAME.exec(name);
  if (!match) return null;
  const [, fleet = "", id = "", count = ""] = match;
  const shardId = Number(id);
  const shardCount = Number(count);
  if (shardCount < 1 || shardId >= shardCount) return null;
  return { fleet, shardId, shardCount };
}

/** Every shard of a fleet, in order (Discord starts concurrency buckets in order). */
export function fleetShards(fleet: string, shardCount = GATEWAY_SHARD_COUNT): ShardIdentity[] {
  return Array.from({ length: shardCount }, (_, shardId) => ({ fleet, shardId, shardCount }));
}

/** The bot's shards in production, in order. */
export function productionShards(): ShardIdentity[] {
  return fleetShards(PRODUCTION_FLEET);
}

/**
 * Shards whose `shard_id % max_concurrency` match share one IDENTIFY bucket:
 * one IDENTIFY per bucket every 5 seconds, across the fleet.
 */
export const IDENTIFY_WINDOW_MS = 5_000;
export const IDENTIFY_POLICY: RateLimitPolicy = { limit: 1, periodMs: IDENTIFY_WINDOW_MS };
export function identifyBucketKey(shard: ShardIdentity, maxConcurrency: number): string {
  return `discord-identify:${shard.fleet}:${shard.shardId % Math.max(1, maxConcurrency)}`;
}
