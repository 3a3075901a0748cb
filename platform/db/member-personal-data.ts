import { and, asc, count, eq, isNull } from "drizzle-orm";
import {
  authEvents,
  memberNotices,
  mfaBackupCodes,
  notificationPreferences,
  sessions,
  traderPlanGrants,
  traderPlans,
  userGuilds,
  userMfa,
  users,
} from "../../shared/db/schema";
import type { Database } from "./client";

/**
 * A member's platform-wide rows that concern them (`/privacy`, openspec/specs/privacy): their user record, sessions'
 * metadata, sign-in records, MFA status, notification preferences and trader plan (with an operator's complimentary
 * grant), plus their inbox notices from one
 * community and whether they were seen in its server. Never a secret: no session id (the token's `jti`), no TOTP
 * secret, no backup-code hash, only how many unused codes are left.
 */
export async function memberPersonalData(
  db: Database,
  input: { userId: string; communityId: string; guildId: string },
) {
  const { userId } = input;
  const [user, memberSessions, signIns, mfa, unusedCodes, preferences, notices, plan, grant, guild] = await db.batch([
    db
      .select({ id: users.id, discordId: users.discordId, username: users.username, createdAt: users.createdAt })
      .from(users)
      .where(eq(users.id, userId)),
    db
      .select({
        createdAt: sessions.createdAt,
        expiresAt: sessions.expiresAt,
        revokedAt: sessions.revokedAt,
        lastSeenAt: sessions.lastSeenAt,
        mfaVerifiedAt: sessions.mfaVerifiedAt,
        userAgent: sessions.userAgent,
        ip: sessions.ip,
      })
      .from(sessions)
      .where(eq(sessions.userId, userId))
      .orderBy(asc(sessions.createdAt)),
    db
      .select({
        at: authEvents.at,
        event: authEvents.event,
        method: authEvents.method,
        reason: authEvents.reason,
        ip: authEvents.ip,
        userAgent: authEvents.userAgent,
        country: authEvents.country,
        device: authEvents.device,
      })
      .from(authEvents)
      .where(eq(authEvents.userId, userId))
      .orderBy(asc(authEvents.at)),
    db
      .select({
        state: userMfa.state,
        enabledAt: userMfa.enabledAt,
        verifiedAt: userMfa.verifiedAt,
        lockedUntil: userMfa.lockedUntil,
      })
      .from(userMfa)
      .where(eq(userMfa.userId, userId)),
    db
      .select({ n: count() })
      .from(mfaBackupCodes)
      .where(and(eq(mfaBackupCodes.userId, userId), isNull(mfaBackupCodes.usedAt))),
    db
      .select({
        kind: notificationPreferences.kind,
        dm: notificationPreferences.dm,
        updatedAt: notificationPreferences.updatedAt,
      })
      .from(notificationPreferences)
      .where(eq(notificationPreferences.userId, userId)),
    db
      .select({
        kind: memberNotices.kind,
        title: memberNotices.title,
        body: memberNotices.body,
        createdAt: memberNotices.createdAt,
        readAt: memberNotices.readAt,
        deliveryStatus: memberNotices.deliveryStatus,
        lastError: memberNotices.lastError,
      })
      .from(memberNotices)
      .where(and(eq(memberNotices.userId, userId), eq(memberNotices.communityId, input.communityId)))
      .orderBy(asc(memberNotices.createdAt)),
    db
      .select({ plan: traderPlans.plan, updatedAt: traderPlans.updatedAt })
      .from(traderPlans)
      .where(eq(traderPlans.userId, userId)),
    db
      .select({
        plan: traderPlanGrants.plan,
        until: traderPlanGrants.until,
        reason: traderPlanGrants.reason,
        grantedAt: traderPlanGrants.createdAt,
      })
      .from(traderPlanGrants)
      .where(eq(traderPlanGrants.userId, userId)),
    db
      .select({ refreshedAt: userGuilds.refreshedAt })
      .from(userGuilds)
      .where(and(eq(userGuilds.userId, userId), eq(userGuilds.guildId, input.guildId))),
  ]);
  return {
    user: user[0] ?? null,
    sessions: memberSessions,
    signIns,
    mfa: mfa[0]
      ? { ...mfa[0], unusedBackupCodes: unusedCodes[0]?.n ?? 0 }
      : { state: "not_enrolled" as const, unusedBackupCodes: 0 },
    notificationPreferences: preferences,
    notices,
    traderPlan: { ...(plan[0] ?? { plan: "free", updatedAt: null }), complimentary: grant[0] ?? null },
    serverSeenAt: guild[0]?.refreshedAt ?? null,
  };
}

/** Erasing a member from one community: their inbox notices from it, and its server from their dashboard's list. */
export async function eraseMemberPersonalData(
  db: Database,
  input: { userId: string; communityId: string; guildId: string },
): Promise<void> {
  await db.batch([
    db
      .delete(memberNotices)
      .where(and(eq(memberNotices.userId, input.userId), eq(memberNotices.communityId, input.communityId))),
    db.delete(userGuilds).where(and(eq(userGuilds.userId, input.userId), eq(userGuilds.guildId, input.guildId))),
  ]);
}
