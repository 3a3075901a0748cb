import { and, asc, eq, gt, isNotNull, isNull, lte, sql } from "drizzle-orm";
import { GENESIS_HASH, nextChainRow } from "../../../shared/audit/chain";
import { auditLog, communities } from "../../../shared/db/schema";
import type { Database } from "../client";
import type { Community } from "../tenant/community";

/**
 * The only way into `communities` that is not already scoped to one community:
 * looking a community up, registering one (with its first audit row), and
 * recording whether the bot is still in its server.
 */

export function communityDirectory(db: Database) {
  const directory = {
    async findById(id: string): Promise<Community | null> {
      return (await db.select().from(communities).where(eq(communities.id, id)).get()) ?? null;
    },

    /** Community ids in id order after `afterId`, for jobs that visit every community page by page. */
    async idsAfter(afterId: string, limit: number): Promise<string[]> {
      const rows = await db
        .select({ id: communities.id })
        .from(communities)
        .where(gt(communities.id, afterId))
        .orderBy(asc(communities.id))
        .limit(limit)
        .all();
      return rows.map((row) => row.id);
    },

    /**
     * The bot left a guild (true) or is in it (false: GUILD_CREATE after every READY, or a re-invite). Only a
     * change is written, so the first departure's time is kept. Returns whether a registered community changed.
     */
    async markBotPresence(guildId: string, present: boolean, now = Date.now()): Promise<boolean> {
      const result = await db
        .update(communities)
        .set({ botLeftAt: present ? null : now, updatedAt: now })
        .where(
          and(
            eq(communities.guildId, guildId),
            present ? isNotNull(communities.botLeftAt) : isNull(communities.botLeftAt),
          ),
        );
      return result.meta.changes > 0;
    },

    /** Communities whose bot left at or before `before` and which still keep an access role (a page of ids). */
    async accessRolesLeftBehind(before: number, limit: number): Promise<string[]> {
      const rows = await db
        .select({ id: communities.id })
        .from(communities)
        .where(
          and(
            lte(communities.botLeftAt, before),
            sql`json_extract(${communities.settings}, '$.accessRoleId') is not null`,
          ),
        )
        .orderBy(asc(communities.id))
        .limit(limit)
        .all();
      return rows.map((row) => row.id);
    },

    /** Communities deleted at or before `before` (a page of ids), for the purge. */
    async deletedBefore(before: number, limit: number): Promise<string[]> {
      const rows = await db
        .select({ id: communities.id })
        .from(communities)
        .where(lte(communities.deletedAt, before))
        .orderBy(asc(communities.id))
        .limit(limit)
        .all();
      return rows.map((row) => row.id);
    },

    async findByGuildId(guildId: string): Promise<Community | null> {
      return (await db.select().from(communities).where(eq(communities.guildId, guildId)).get()) ?? null;
    },

    /**
     * Registers a guild once: a second call (or a concurrent one) returns the
     * existing community. The community and its `community.created` audit row,
     * the first link of its chain, are written in one batch.
     */
    async create(input: {
      guildId: string;
      name: string;
      ownerUserId?: string | null;
    }): Promise<{ community: Community; created: boolean }> {
      const existing = await directory.findByGuildId(input.guildId);
      if (existing) return { community: existing, created: false };

      const id = crypto.randomUUID();
      const now = Date.now();
      const ownerUserId = input.ownerUserId ?? null;
      const first = await nextChainRow(
        { seq: 0, hash: GENESIS_HASH },
        {
          communityId: id,
          event: "community.created",
          actorId: ownerUserId,
          target: input.guildId,
          data: { guildId: input.guildId, name: input.name, ownerUserId },
          createdAt: now,
        },
      );
      try {
        const [inserted] = await db.batch([
          db
            .insert(communities)
            .values({
              id,
              guildId: input.guildId,
              name: input.name,
              ownerUserId,
              auditHeadSeq: first.seq,
              auditHeadHash: first.hash,
              createdAt: now,
              updatedAt: now,
            })
            .returning(),
          db.insert(auditLog).values({ id: crypto.randomUUID(), ...first }),
        ]);
        const community = inserted[0];
        if (!community) throw new Error(`Creating community ${id} returned no row.`);
        return { community, created: true };
      } catch (error) {
        // Lost a race on the unique guild id: the batch rolled back, the winner stands.
        const winner = await directory.findByGuildId(input.guildId);
        if (winner) return { community: winner, created: false };
        throw error;
      }
    },
  };
  return directory;
}
