import { fleetShards, PRODUCTION_FLEET, type ShardIdentity, shardObjectName } from "../shared/gateway/shards";

/** The one way to reach a DiscordGateway object: by its shard (the object's name is the shard's identity). */
export function gatewayShard(env: Pick<Env, "DISCORD_GATEWAY">, shard: ShardIdentity) {
  return env.DISCORD_GATEWAY.getByName(shardObjectName(shard));
}

/** The bot's shards in production, in order. */
export function productionShards(): ShardIdentity[] {
  return fleetShards(PRODUCTION_FLEET);
}
