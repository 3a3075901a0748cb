import { and, asc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import type { BackupCodeRecord } from "../../shared/auth/backup-codes";
import { MFA_LOCKOUT_MS, MFA_MAX_FAILURES } from "../../shared/auth/mfa";
import { mfaBackupCodes, sessions, userMfa } from "../../shared/db/schema";
import type { Database } from "./client";

export type UserMfaRow = typeof userMfa.$inferSelect;
export type BackupCodeRow = typeof mfaBackupCodes.$inferSelect;

/**
 * A user's second factor (`user_mfa`, `mfa_backup_codes`): platform-wide rows, not tenant data. Every change that
 * must not race (the replay guard, a backup code's single use, the failure count) is one conditional statement.
 */
export function mfaStore(db: Database) {
  return {
    async get(userId: string): Promise<UserMfaRow | null> {
      return (await db.select().from(userMfa).where(eq(userMfa.userId, userId)).get()) ?? null;
    },

    /** TOTP secrets as sealed, by user after `afterUserId`: the vault re-seals them after a rotation. */
    sealedSecrets(afterUserId: string, limit: number): Promise<{ id: string; sealed: string }[]> {
      return db
        .select({ id: userMfa.userId, sealed: userMfa.secretSealed })
        .from(userMfa)
        .where(gt(userMfa.userId, afterUserId))
        .orderBy(asc(userMfa.userId))
        .limit(limit)
        .all();
    },

    /** Whether any TOTP secret is still sealed directly under the master key (`v1.…`, from before the vault). */
    async anyMasterSealed(): Promise<boolean> {
      const row = await db
        .select({ userId: userMfa.userId })
        .from(userMfa)
        .where(sql`${userMfa.secretSealed} like 'v1.%'`)
        .limit(1)
        .get();
      return row !== undefined;
    },

    /** The same secret sealed again (under a new data key); false when the user's factor changed meanwhile. */
    async replaceSealedSecret(userId: string, previous: string, next: string): Promise<boolean> {
      const updated = await db
        .update(userMfa)
        .set({ secretSealed: next })
        .where(and(eq(userMfa.userId, userId), eq(userMfa.secretSealed, previous)))
        .returning({ userId: userMfa.userId });
      return updated.length === 1;
    },

    /**
     * Starts (or restarts) an enrolment with a new sealed secret; null when the user already has an active factor
     * (it is never replaced by a new enrolment: disable it first).
     */
    async startEnrolment(userId: string, secretSealed: string, now = Date.now()): Promise<UserMfaRow | null> {
      const row = await db
        .insert(userMfa)
        .values({ userId, state: "pending", secretSealed, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: userMfa.userId,
          set: { secretSealed, lastUsedStep: null, updatedAt: now },
          setWhere: eq(userMfa.state, "pending"),
        })
        .returning()
        .get();
      return row ?? null;
    },

    /**
     * Claims a TOTP time step: true when `step` is later than the last one used (then it is the last one used), false
     * for a replay. Concurrent uses of one code: only one claims it.
     */
    async claimStep(userId: string, step: number, now = Date.now()): Promise<boolean> {
      const row = await db
        .update(userMfa)
        .set({ lastUsedStep: step, updatedAt: now })
        .where(and(eq(userMfa.userId, userId), or(isNull(userMfa.lastUsedStep), lt(userMfa.lastUsedStep, step))))
        .returning({ userId: userMfa.userId })
        .get();
      return Boolean(row);
    },

    /**
     * Confirms a pending enrolment: active from now, verified now, then the backup codes stored (any earlier ones
     * dropped). False when it was not pending (confirmed meanwhile), and nothing is written.
     */
    async activate(userId: string, records: readonly BackupCodeRecord[], now = Date.now()): Promise<boolean> {
      const activated = await db
        .update(userMfa)
        .set({ state: "active", enabledAt: now, verifiedAt: now, failedAttempts: 0, lockedUntil: null, updatedAt: now })
        .where(and(eq(userMfa.userId, userId), eq(userMfa.state, "pending")))
        .returning({ userId: userMfa.userId })
        .get();
      // Confirmed by a concurrent request: its codes stand, not these.
      if (!activated) return false;
      await db.batch([
        db.delete(mfaBackupCodes).where(eq(mfaBackupCodes.userId, userId)),
        db
          .insert(mfaBackupCodes)
          .values(records.map((record) => ({ id: crypto.randomUUID(), userId, ...record, createdAt: now }))),
      ]);
      return true;
    },

    /**
     * One failed code: the count grows, and the fifth in a row locks the factor for 15 minutes (the count starts
     * again). The lock's end when this failure set it, otherwise null; and the attempts left.
     */
    async recordFailure(
      userId: string,
      now = Date.now(),
    ): Promise<{ lockedUntil: number | null; attemptsLeft: number }> {
      const reached = sql`${userMfa.failedAttempts} + 1 >= ${MFA_MAX_FAILURES}`;
      const row = await db
        .update(userMfa)
        .set({
          failedAttempts: sql`CASE WHEN ${reached} THEN 0 ELSE ${userMfa.failedAttempts} + 1 END`,
          lockedUntil: sql`CASE WHEN ${reached} THEN ${now + MFA_LOCKOUT_MS} ELSE ${userMfa.lockedUntil} END`,
          updatedAt: now,
        })
        .where(eq(userMfa.userId, userId))
        .returning({ failedAttempts: userMfa.failedAttempts, lockedUntil: userMfa.lockedUntil })
        .get();
      const lockedUntil = row?.lockedUntil != null && row.lockedUntil > now ? row.lockedUntil : null;
      const locked = lockedUntil !== null && row?.failedAttempts === 0;
      return {
        lockedUntil: locked ? lockedUntil : null,
        attemptsLeft: locked ? 0 : MFA_MAX_FAILURES - (row?.failedAttempts ?? 0),
      };
    },

    /** A successful verification: the failure count cleared, the time recorded for the user and the session. */
    async recordVerified(userId: string, sessionId: string | null, now = Date.now()): Promise<void> {
      const statements = [
        db
          .update(userMfa)
          .set({ verifiedAt: now, failedAttempts: 0, updatedAt: now })
          .where(eq(userMfa.userId, userId)),
      ] as const;
      if (sessionId === null) {
        await statements[0].run();
        return;
      }
      await db.batch([
        statements[0],
        db
          .update(sessions)
          .set({ mfaVerifiedAt: now })
          .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId))),
      ]);
    },

    /** The backup code with this lookup (used or not), if any. */
    async backupCode(userId: string, lookup: string): Promise<BackupCodeRow | null> {
      return (
        (await db
          .select()
          .from(mfaBackupCodes)
          .where(and(eq(mfaBackupCodes.userId, userId), eq(mfaBackupCodes.lookup, lookup)))
          .get()) ?? null
      );
    },

    /** Uses a backup code once: false when it was used meanwhile. */
    async useBackupCode(id: string, now = Date.now()): Promise<boolean> {
      const row = await db
        .update(mfaBackupCodes)
        .set({ usedAt: now })
        .where(and(eq(mfaBackupCodes.id, id), isNull(mfaBackupCodes.usedAt)))
        .returning({ id: mfaBackupCodes.id })
        .get();
      return Boolean(row);
    },

    async backupCodesLeft(userId: string): Promise<number> {
      const row = await db
        .select({ n: sql<number>`count(*)` })
        .from(mfaBackupCodes)
        .where(and(eq(mfaBackupCodes.userId, userId), isNull(mfaBackupCodes.usedAt)))
        .get();
      return row?.n ?? 0;
    },

    /** Removes the factor, its backup codes and every session's verification. */
    async disable(userId: string): Promise<void> {
      await db.batch([
        db.delete(userMfa).where(eq(userMfa.userId, userId)),
        db.delete(mfaBackupCodes).where(eq(mfaBackupCodes.userId, userId)),
        db.update(sessions).set({ mfaVerifiedAt: null }).where(eq(sessions.userId, userId)),
      ]);
    },
  };
}

export type MfaStore = ReturnType<typeof mfaStore>;
