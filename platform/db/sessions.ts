import { and, eq, gt, inArray, isNull, lt, or } from "drizzle-orm";
import { sessions } from "../../shared/db/schema";
import type { Database } from "./client";

export type SessionRow = typeof sessions.$inferSelect;

/** `last_seen_at` is rewritten at most this often per session, so every request is not a D1 write. */
export const LAST_SEEN_RESOLUTION_MS = 5 * 60_000;
/** D1 binds at most 100 parameters per statement. */
const IDS_PER_QUERY = 90;

/**
 * The `sessions` table: one row per session token (`id` = the token's `jti`).
 * A token counts only while its row is live: present, not revoked, not expired.
 */
export function sessionStore(db: Database) {
  const live = (now: number) => and(isNull(sessions.revokedAt), gt(sessions.expiresAt, now));

  return {
    async create(input: {
      id: string;
      userId: string;
      expiresAt: number;
      userAgent?: string | null;
      ip?: string | null;
      now?: number;
    }): Promise<SessionRow> {
      const now = input.now ?? Date.now();
      const row = await db
        .insert(sessions)
        .values({
          id: input.id,
          userId: input.userId,
          createdAt: now,
          expiresAt: input.expiresAt,
          lastSeenAt: now,
          userAgent: input.userAgent?.slice(0, 512) ?? null,
          ip: input.ip ?? null,
        })
        .returning()
        .get();
      if (!row) throw new Error(`Creating session ${input.id} returned no row.`);
      return row;
    },

    async get(id: string): Promise<SessionRow | null> {
      return (await db.select().from(sessions).where(eq(sessions.id, id)).get()) ?? null;
    },

    /** Records a use; skipped while the last one is recent (LAST_SEEN_RESOLUTION_MS). */
    async touch(id: string, now = Date.now()): Promise<void> {
      await db
        .update(sessions)
        .set({ lastSeenAt: now })
        .where(
          and(
            eq(sessions.id, id),
            or(isNull(sessions.lastSeenAt), lt(sessions.lastSeenAt, now - LAST_SEEN_RESOLUTION_MS)),
          ),
        )
        .run();
    },

    /** Sliding renewal: a live session's new expiry. False when the session is no longer live. */
    async extend(id: string, expiresAt: number, now = Date.now()): Promise<boolean> {
      const result = await db
        .update(sessions)
        .set({ expiresAt, lastSeenAt: now })
        .where(and(eq(sessions.id, id), live(now)))
        .run();
      return result.meta.changes > 0;
    },

    /** Revokes one session. Returns its owner when this call revoked it, null when it was unknown or already ended. */
    async revoke(id: string, now = Date.now()): Promise<{ userId: string } | null> {
      const row = await db
        .update(sessions)
        .set({ revokedAt: now })
        .where(and(eq(sessions.id, id), isNull(sessions.revokedAt)))
        .returning({ userId: sessions.userId })
        .get();
      return row ?? null;
    },

    /** "Sign out everywhere": revokes every unrevoked session of a user and returns their ids. */
    async revokeAllFor(userId: string, now = Date.now()): Promise<string[]> {
      const rows = await db
        .update(sessions)
        .set({ revokedAt: now })
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id })
        .all();
      return rows.map((row) => row.id);
    },

    /** The ids of a user's sessions not revoked and not expired at `now` (to close their sockets in one community). */
    async liveIdsOf(userId: string, now = Date.now()): Promise<string[]> {
      const rows = await db
        .select({ id: sessions.id })
        .from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
        .all();
      return rows.map((row) => row.id);
    },

    /** Of `ids`, those whose sessions are still live at `now`. */
    async liveAmong(ids: readonly string[], now = Date.now()): Promise<Set<string>> {
      const unique = [...new Set(ids)];
      const found = new Set<string>();
      for (let i = 0; i < unique.length; i += IDS_PER_QUERY) {
        const chunk = unique.slice(i, i + IDS_PER_QUERY);
        const rows = await db
          .select({ id: sessions.id })
          .from(sessions)
          .where(and(inArray(sessions.id, chunk), live(now)))
          .all();
        for (const row of rows) found.add(row.id);
      }
      return found;
    },
  };
}

export type SessionStore = ReturnType<typeof sessionStore>;
