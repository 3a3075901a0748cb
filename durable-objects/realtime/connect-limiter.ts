import { gcra, type RateLimitDecision } from "../../shared/rate-limit";
import { REALTIME_LIMITS } from "../../shared/realtime/protocol";

/** Past this many members tracked, entries whose budget is whole again are dropped. */
const PRUNE_ABOVE = 1_000;

/**
 * Connection attempts per member (REALTIME_LIMITS.connectRate), kept in the
 * hub itself: every attempt for a community passes through its one object, so
 * the count is exact without another round trip per connect. Memory only: a
 * hub idle long enough to hibernate has nothing left to limit.
 */
export class ConnectLimiter {
  private readonly tats = new Map<string, number>();

  attempt(userId: string, now: number): RateLimitDecision {
    if (this.tats.size > PRUNE_ABOVE) {
      for (const [id, tat] of this.tats) if (tat <= now) this.tats.delete(id);
    }
    const verdict = gcra(REALTIME_LIMITS.connectRate, this.tats.get(userId), now);
    if (verdict.allowed) this.tats.set(userId, verdict.tat);
    return verdict;
  }
}
