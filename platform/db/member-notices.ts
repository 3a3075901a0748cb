import { and, desc, eq, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { memberNotices, notificationPreferences } from "../../shared/db/schema";
import type { NoticeDeliveryStatus, NoticeKind } from "../../shared/notifications/kinds";
import type { Database } from "./client";
import { communitiesOfMember } from "./cross-community/member-communities";

/** D1 binds at most 100 parameters per statement: nine per notice row, and keys looked up 90 at a time. */
const ROWS_PER_INSERT = 10;
const KEYS_PER_QUERY = 90;

export interface NewMemberNotice {
  key: string;
  communityId: string | null;
  userId: string;
  kind: NoticeKind;
  title: string;
  body: string;
  createdAt: number;
  deliveryStatus: NoticeDeliveryStatus;
}

export type MemberNoticeRow = typeof memberNotices.$inferSelect;

export interface NoticePage {
  notices: MemberNoticeRow[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
  /** Unread notices of the communities asked about (every listed one when no filter). */
  unread: number;
}

/**
 * The member's inbox (`member_notices`) and their DM choices per notice kind (`notification_preferences`). Writes
 * come from the notifications consumer (stored once per DM key, then the DM's outcome); reads are per member, and
 * only ever show notices of communities the member still belongs to (or of none: a trader's plan).
 */
export function memberNoticeStore(db: Database) {
  /** Notices the member may see: their own, of no community or of a community they are still a member of. */
  const visibleTo = async (userId: string, communityId?: string): Promise<SQL | undefined> => {
    const communities = await communitiesOfMember(db, userId);
    if (communityId !== undefined) {
      if (!communities.includes(communityId)) return undefined;
      return and(eq(memberNotices.userId, userId), eq(memberNotices.communityId, communityId));
    }
    // One bound JSON array, whatever the number of communities (D1's 100-parameter limit).
    return and(
      eq(memberNotices.userId, userId),
      or(
        isNull(memberNotices.communityId),
        sql`${memberNotices.communityId} in (select value from json_each(${JSON.stringify(communities)}))`,
      ),
    );
  };

  return {
    /** Stores each notice once per key; answers the keys stored now (not by an earlier delivery) with their ids. */
    async record(notices: readonly (NewMemberNotice & { id: string })[]): Promise<Map<string, string>> {
      const stored = new Map<string, string>();
      if (notices.length === 0) return stored;
      const statements: BatchItem<"sqlite">[] = [];
      for (let i = 0; i < notices.length; i += ROWS_PER_INSERT) {
        statements.push(
          db
            .insert(memberNotices)
            .values(notices.slice(i, i + ROWS_PER_INSERT).map((n) => ({ ...n, body: n.body.slice(0, 4000) })))
            .onConflictDoNothing({ target: memberNotices.key })
            .returning({ id: memberNotices.id, key: memberNotices.key }),
        );
      }
      const results = (await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as {
        id: string;
        key: string;
      }[][];
      for (const rows of results) for (const row of rows) stored.set(row.key, row.id);
      return stored;
    },

    /** Stored notices whose DMs were sent (by DM key): one call for all of them, 90 keys a statement. */
    async markSent(keys: readonly string[]): Promise<void> {
      if (keys.length === 0) return;
      const statements: BatchItem<"sqlite">[] = [];
      for (let i = 0; i < keys.length; i += 90) {
        statements.push(
          db
            .update(memberNotices)
            .set({ deliveryStatus: "sent", lastError: null })
            .where(inArray(memberNotices.key, keys.slice(i, i + 90))),
        );
      }
      await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    },

    /** The DM's outcome for a stored notice (by its DM key). */
    async setDelivery(key: string, status: NoticeDeliveryStatus, lastError: string | null = null): Promise<void> {
      await db
        .update(memberNotices)
        .set({ deliveryStatus: status, lastError: lastError?.slice(0, 500) ?? null })
        .where(eq(memberNotices.key, key))
        .run();
    },

    /** A dead-lettered DM: failed, unless it was sent after all. */
    async markDeadLettered(key: string, lastError: string | null): Promise<void> {
      await db
        .update(memberNotices)
        .set({ deliveryStatus: "failed", lastError: lastError?.slice(0, 500) ?? "not delivered after the last retry" })
        .where(and(eq(memberNotices.key, key), inArray(memberNotices.deliveryStatus, ["pending", "failed"])))
        .run();
    },

    /** The stored DM choices of these members, as `userId:kind` → on/off (members who never chose are absent). */
    async dmChoices(userIds: readonly string[]): Promise<Map<string, boolean>> {
      const choices = new Map<string, boolean>();
      const unique = [...new Set(userIds)];
      for (let i = 0; i < unique.length; i += KEYS_PER_QUERY) {
        const rows = await db
          .select()
          .from(notificationPreferences)
          .where(inArray(notificationPreferences.userId, unique.slice(i, i + KEYS_PER_QUERY)))
          .all();
        for (const row of rows) choices.set(`${row.userId}:${row.kind}`, row.dm);
      }
      return choices;
    },

    async preferences(userId: string): Promise<Map<NoticeKind, boolean>> {
      const rows = await db
        .select()
        .from(notificationPreferences)
        .where(eq(notificationPreferences.userId, userId))
        .all();
      return new Map(rows.map((row) => [row.kind, row.dm]));
    },

    async setPreferences(userId: string, choices: readonly { kind: NoticeKind; dm: boolean }[], now = Date.now()) {
      if (choices.length === 0) return;
      const statements: BatchItem<"sqlite">[] = choices.map((choice) =>
        db
          .insert(notificationPreferences)
          .values({ userId, kind: choice.kind, dm: choice.dm, updatedAt: now })
          .onConflictDoUpdate({
            target: [notificationPreferences.userId, notificationPreferences.kind],
            set: { dm: choice.dm, updatedAt: now },
          }),
      );
      await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    },

    /** A page of the member's notices, newest first; `communityId` narrows to one community (empty if not theirs). */
    async list(
      userId: string,
      options: {
        communityId?: string;
        unreadOnly?: boolean;
        limit: number;
        cursor?: { createdAt: number; id: string };
      },
    ): Promise<NoticePage> {
      const visible = await visibleTo(userId, options.communityId);
      if (!visible) return { notices: [], nextCursor: null, unread: 0 };
      const cursor = options.cursor;
      const page = await db
        .select()
        .from(memberNotices)
        .where(
          and(
            visible,
            options.unreadOnly ? isNull(memberNotices.readAt) : undefined,
            cursor
              ? or(
                  lt(memberNotices.createdAt, cursor.createdAt),
                  and(eq(memberNotices.createdAt, cursor.createdAt), lt(memberNotices.id, cursor.id)),
                )
              : undefined,
          ),
        )
        .orderBy(desc(memberNotices.createdAt), desc(memberNotices.id))
        .limit(options.limit + 1)
        .all();
      const [{ unread } = { unread: 0 }] = await db
        .select({ unread: sql<number>`count(*)` })
        .from(memberNotices)
        .where(and(visible, isNull(memberNotices.readAt)))
        .all();
      const notices = page.slice(0, options.limit);
      const last = notices.at(-1);
      return {
        notices,
        nextCursor: page.length > options.limit && last ? `${last.createdAt}.${last.id}` : null,
        unread: Number(unread),
      };
    },

    /** Marks the member's own visible notices read (these ids, or all); answers how many changed. */
    async markRead(userId: string, ids: readonly string[] | "all", now = Date.now()): Promise<number> {
      const visible = await visibleTo(userId);
      if (!visible) return 0;
      let changed = 0;
      const batches = ids === "all" ? [undefined] : chunks(ids, KEYS_PER_QUERY);
      for (const batch of batches) {
        const result = await db
          .update(memberNotices)
          .set({ readAt: now })
          .where(and(visible, isNull(memberNotices.readAt), batch ? inArray(memberNotices.id, batch) : undefined))
          .run();
        changed += result.meta.changes;
      }
      return changed;
    },

    /** Retention: deletes notices created before `cutoff`; answers how many. */
    async prune(cutoff: number): Promise<number> {
      const result = await db.delete(memberNotices).where(lt(memberNotices.createdAt, cutoff)).run();
      return result.meta.changes;
    },
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Reads a `nextCursor` back; null when it is not one. */
export function parseNoticeCursor(cursor: string): { createdAt: number; id: string } | null {
  const match = /^(\d{1,16})\.([A-Za-z0-9-]{1,64})$/.exec(cursor);
  if (!match?.[1] || !match[2]) return null;
  return { createdAt: Number(match[1]), id: match[2] };
}
