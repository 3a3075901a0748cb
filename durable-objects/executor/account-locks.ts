import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { MemberNotice } from "../../platform/notifications/notify-member";
import type { ExecutorLocalState } from "./local-state";

export interface AccountLockParts {
  notify(notice: MemberNotice): Promise<void>;
  local: ExecutorLocalState;
}

/**
 * /risk unlock: lifts the circuit breaker's lock on a member's account, asked by the member or an admin (the
 * caller checked which), audited as risk.account_unlocked; an unlock that cannot be audited does not stand. The
 * day's pause still holds until 00:00 UTC. A member unlocked by an admin is told.
 */
export async function unlockAccount(
  parts: AccountLockParts,
  tenant: TenantRepository,
  input: { userId: string; actorId: string },
) {
  const { local } = parts;
  const now = Date.now();
  const lifted = local.unlock(input.userId, now, input.actorId);
  if (!lifted) return { unlocked: false, pausedUntil: null, message: "The account is not locked." };
  try {
    await tenant.audit.append({
      event: "risk.account_unlocked",
      actorId: input.actorId,
      target: input.userId,
      data: { userId: input.userId, lockedAt: lifted.at, lossPercent: lifted.lossPercent },
    });
  } catch (error) {
    local.relock(input.userId);
    throw error;
  }
  const paused = local.pausedUntil(input.userId, now);
  const resumes = paused
    ? `new entries resume at ${new Date(paused.until).toISOString()} (00:00 UTC), when today's pause ends.`
    : "new entries are placed again.";
  if (input.actorId !== input.userId) {
    await parts.notify({
      userId: input.userId,
      communityId: tenant.communityId,
      event: `unlock:${now}`,
      message: `🔓 An admin unlocked your account after your circuit breaker tripped: ${resumes}`,
    });
  }
  return { unlocked: true, pausedUntil: paused?.until ?? null, message: `Unlocked: ${resumes}` };
}

/** What holds a member's new entries now: the circuit breaker's lock, the day's pause (for /risk view). */
export function tradingHoldOf(local: ExecutorLocalState, userId: string, now: number) {
  const lock = local.lockOf(userId);
  const paused = local.pausedUntil(userId, now);
  return {
    locked: lock && lock.unlockedAt === null ? { day: lock.day, at: lock.at, lossPercent: lock.lossPercent } : null,
    paused: paused ? { until: paused.until, reason: paused.reason } : null,
  };
}
