import {
  type FatalStop,
  type GatewayState,
  type IdentifyBudget,
  nextWake,
  type Phase,
  RECONNECT_WINDOW_MS,
} from "./machine";
import type { ShardIdentity } from "./shards";

/** One shard as operators see it (GET /api/v1/ops/gateway, /ready). */
export interface GatewayShardStatus {
  shardId: number;
  shardCount: number;
  running: boolean;
  phase: Phase["name"];
  /** The socket is open and the session is READY (or RESUMED). */
  connected: boolean;
  waitingReason: string | null;
  nextWakeAt: number | null;
  sessionAgeMs: number | null;
  lastSequence: number | null;
  heartbeatIntervalMs: number | null;
  heartbeatAckLatencyMs: number | null;
  lastHeartbeatAckAt: number | null;
  reconnectsLastHour: number;
  consecutiveFailures: number;
  /** Set when Discord closed with a code that forbids reconnecting (or refused the token): nothing reconnects. */
  fatal: FatalStop | null;
  identifyBudget: IdentifyBudget | null;
}

export function shardStatus(state: GatewayState, shard: ShardIdentity, now: number): GatewayShardStatus {
  const { durable, phase } = state;
  const open = phase.name === "open" ? phase : null;
  return {
    shardId: shard.shardId,
    shardCount: shard.shardCount,
    running: durable.running && durable.fatal === null,
    phase: phase.name,
    connected: open?.stage === "ready",
    waitingReason: phase.name === "waiting" ? phase.reason : null,
    nextWakeAt: nextWake(state),
    sessionAgeMs: durable.session ? now - durable.session.startedAt : null,
    lastSequence: durable.session?.seq ?? null,
    heartbeatIntervalMs: open?.heartbeat?.intervalMs ?? null,
    heartbeatAckLatencyMs: state.lastAckLatencyMs,
    lastHeartbeatAckAt: state.lastAckAt,
    reconnectsLastHour: durable.reconnects.filter((at) => at > now - RECONNECT_WINDOW_MS).length,
    consecutiveFailures: durable.failures,
    fatal: durable.fatal,
    identifyBudget: durable.identifyBudget,
  };
}
