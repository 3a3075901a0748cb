import { database } from "../../platform/db/client";
import { realtimeStatsStore } from "../../platform/db/realtime-stats";
import { sessionStore } from "../../platform/db/sessions";
import { configFor } from "../../shared/config";
import { secretFingerprint } from "../../shared/crypto/constant-time";
import type { HubStats } from "../../shared/realtime/stats";

/**
 * The hub's periodic chores (its alarm, every REALTIME_LIMITS.sessionCheckMs
 * while it holds sockets). Sign-out closes a session's sockets at once
 * (`endSessions`); this recheck is the backstop for anything that missed
 * that call: a session revoked, expired or deleted is found here, and so is an
 * operator token that was rotated out of OPS_TOKEN.
 */
export async function endedCredentials(
  env: Env,
  open: { sessionIds: readonly string[]; opsFingerprints: readonly string[] },
  now = Date.now(),
): Promise<{ sessionIds: string[]; opsFingerprints: string[] }> {
  const live =
    open.sessionIds.length === 0
      ? new Set<string>()
      : await sessionStore(database(env.DB)).liveAmong(open.sessionIds, now);
  const config = configFor(env);
  const tokens = config.ok ? (config.config.OPS_TOKEN ?? []) : [];
  const configured = new Set(await Promise.all(tokens.map((token) => secretFingerprint(token))));
  return {
    sessionIds: open.sessionIds.filter((id) => !live.has(id)),
    opsFingerprints: open.opsFingerprints.filter((fingerprint) => !configured.has(fingerprint)),
  };
}

/** Writes the hub's figures where `GET /api/v1/ops/metrics` reads them. */
export async function reportStats(env: Env, communityId: string, stats: HubStats): Promise<void> {
  await realtimeStatsStore(database(env.DB)).report(communityId, stats);
}
