import { realtimeStatsStore } from "../../platform/db/realtime-stats";
import { sessionStore } from "../../platform/db/sessions";
import type { HubStats } from "../../shared/realtime/stats";
import { database } from "../../workers/db/client";

/**
 * The hub's periodic chores (its alarm, every REALTIME_LIMITS.sessionCheckMs
 * while it holds sockets). Sign-out closes a session's sockets at once
 * (`endSessions`); this recheck is the backstop for anything that missed
 * that call: a session revoked, expired or deleted is found here.
 */
export async function sessionsEnded(env: Env, sessionIds: readonly string[], now = Date.now()): Promise<Set<string>> {
  if (sessionIds.length === 0) return new Set();
  const live = await sessionStore(database(env.DB)).liveAmong(sessionIds, now);
  return new Set(sessionIds.filter((id) => !live.has(id)));
}

/** Writes the hub's figures where `GET /api/v1/ops/metrics` reads them. */
export async function reportStats(env: Env, communityId: string, stats: HubStats): Promise<void> {
  await realtimeStatsStore(database(env.DB)).report(communityId, stats);
}
