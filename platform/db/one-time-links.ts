import { and, eq, gt, isNull } from "drizzle-orm";
import { sha256Hex } from "../../shared/crypto/constant-time";
import { randomToken } from "../../shared/crypto/encoding";
import { type OneTimeLinkPurpose, oneTimeLinks } from "../../shared/db/schema";
import type { Database } from "./client";

export type OneTimeLinkRow = typeof oneTimeLinks.$inferSelect;

/**
 * Single-use links handed out in Discord. The token (256 random bits) goes into the link and nowhere else: the row
 * holds its SHA-256. `peek` shows what a link is for without using it; `claim` uses it up in one conditional UPDATE.
 */
export function oneTimeLinkStore(db: Database) {
  const live = (id: string, now: number) =>
    and(eq(oneTimeLinks.id, id), isNull(oneTimeLinks.usedAt), gt(oneTimeLinks.expiresAt, now));

  return {
    /** A new link's token. */
    async create(input: {
      purpose: OneTimeLinkPurpose;
      userId: string;
      communityId?: string | null;
      ttlMs: number;
      now?: number;
    }): Promise<string> {
      const now = input.now ?? Date.now();
      const token = randomToken();
      await db
        .insert(oneTimeLinks)
        .values({
          id: await sha256Hex(token),
          purpose: input.purpose,
          userId: input.userId,
          communityId: input.communityId ?? null,
          createdAt: now,
          expiresAt: now + input.ttlMs,
        })
        .run();
      return token;
    },

    /** The link, while it is unused and unexpired; null otherwise. */
    async peek(token: string, now = Date.now()): Promise<OneTimeLinkRow | null> {
      return (
        (await db
          .select()
          .from(oneTimeLinks)
          .where(live(await sha256Hex(token), now))
          .get()) ?? null
      );
    },

    /** Uses the link up: its row when this call did, null when it was unknown, used, expired or for another purpose. */
    async claim(token: string, purpose: OneTimeLinkPurpose, now = Date.now()): Promise<OneTimeLinkRow | null> {
      const row = await db
        .update(oneTimeLinks)
        .set({ usedAt: now })
        .where(and(live(await sha256Hex(token), now), eq(oneTimeLinks.purpose, purpose)))
        .returning()
        .get();
      return row ?? null;
    },
  };
}
