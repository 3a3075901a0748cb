import { database } from "../../platform/db/client";
import { communitiesOfMember } from "../../platform/db/cross-community/member-communities";
import { sessionStore } from "../../platform/db/sessions";
import { realtimeHubFor } from "../../platform/objects";
import type { Logger } from "../../shared/logging";
import { within } from "../../shared/timeout";

/** How long sign-out waits for the hubs to close the session's sockets (their minute-by-minute recheck is the backstop). */
const HUB_NOTICE_TIMEOUT_MS = 2_000;

/**
 * Sign-out: revokes one session in `sessions` (so its token stops working
 * everywhere at once) and tells the RealtimeHub of every community the member
 * belongs to, so sockets opened with it close now rather than at the hub's next
 * check. Returns false when the session was unknown or already ended.
 */
export async function revokeSession(env: Env, logger: Logger, sessionId: string): Promise<boolean> {
  const revoked = await sessionStore(database(env.DB)).revoke(sessionId);
  if (!revoked) return false;
  await closeRealtimeSessions(env, logger, revoked.userId, [sessionId]);
  return true;
}

/** "Sign out everywhere": revokes every session of the member and closes their sockets. Returns how many ended. */
export async function revokeAllSessions(env: Env, logger: Logger, userId: string): Promise<number> {
  const revoked = await sessionStore(database(env.DB)).revokeAllFor(userId);
  if (revoked.length > 0) await closeRealtimeSessions(env, logger, userId, revoked);
  return revoked.length;
}

async function closeRealtimeSessions(env: Env, logger: Logger, userId: string, sessionIds: string[]): Promise<void> {
  const communities = await communitiesOfMember(database(env.DB), userId);
  const results = await Promise.allSettled(
    communities.map((communityId) =>
      within(realtimeHubFor(env, communityId).endSessions(sessionIds), HUB_NOTICE_TIMEOUT_MS),
    ),
  );
  results.forEach((result, i) => {
    if (result.status === "rejected") {
      logger.warn("session.realtime_close_failed", { communityId: communities[i], userId, error: result.reason });
    }
  });
}
