import { and, eq, ne } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { userGuilds } from "../../shared/db/schema";
import type { Database } from "./client";

/** D1 binds at most 100 parameters per statement; each row binds three. */
const ROWS_PER_INSERT = 30;

/**
 * The Discord guilds a user is in (global, not tenant data). `replace` is what an OAuth sign-in learned from the
 * `guilds` scope, in one batch: the new list, and nothing of the old one that is not on it. `add` is one guild seen
 * for certain (a `/dashboard` link from it).
 */
export function userGuildStore(db: Database) {
  return {
    async replace(userId: string, guildIds: readonly string[], now = Date.now()): Promise<void> {
      const unique = [...new Set(guildIds)];
      const statements: BatchItem<"sqlite">[] = [];
      for (let i = 0; i < unique.length; i += ROWS_PER_INSERT) {
        const rows = unique.slice(i, i + ROWS_PER_INSERT).map((guildId) => ({ userId, guildId, refreshedAt: now }));
        statements.push(
          db
            .insert(userGuilds)
            .values(rows)
            .onConflictDoUpdate({ target: [userGuilds.userId, userGuilds.guildId], set: { refreshedAt: now } }),
        );
      }
      // Whatever this refresh did not name is gone (a list of ids would overflow the parameter limit).
      statements.push(db.delete(userGuilds).where(and(eq(userGuilds.userId, userId), ne(userGuilds.refreshedAt, now))));
      await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    },

    async add(userId: string, guildId: string, now = Date.now()): Promise<void> {
      await db
        .insert(userGuilds)
        .values({ userId, guildId, refreshedAt: now })
        .onConflictDoUpdate({ target: [userGuilds.userId, userGuilds.guildId], set: { refreshedAt: now } })
        .run();
    },
  };
}
