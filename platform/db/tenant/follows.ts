import { and, asc, count, countDistinct, eq } from "drizzle-orm";
import { type ExitMode, type FollowMode, follows, type SizingMode, users } from "../../../shared/db/schema";
import type { TenantScope } from "./scope";

/** Who copies whom in one community, with the follower's sizing (written by /follow and /unfollow). */

export type FollowRow = typeof follows.$inferSelect;

export interface FollowInput {
  followerUserId: string;
  providerUserId: string;
  /** null: the engine's default sizing. */
  sizingMode: SizingMode | null;
  amount: number | null;
  /** null: the default for the member's trading mode (auto on paper, confirm live). */
  mode: FollowMode | null;
  /** null (or left out): exits follow the provider at once, even in confirm mode. */
  exits?: ExitMode | null;
}

export function followRepository(scope: TenantScope) {
  const { db, communityId, auditedWrite } = scope;
  const followOf = (followerUserId: string, providerUserId: string) =>
    and(
      eq(follows.communityId, communityId),
      eq(follows.followerUserId, followerUserId),
      eq(follows.providerUserId, providerUserId),
    );

  return {
    /** Creates or replaces a follow (re-enabling it). Returns whether it already existed. */
    async upsert(input: FollowInput): Promise<{ follow: FollowRow; existed: boolean }> {
      const now = Date.now();
      const existed = Boolean(
        await db
          .select({ n: follows.followerUserId })
          .from(follows)
          .where(followOf(input.followerUserId, input.providerUserId))
          .get(),
      );
      const follow = await db
        .insert(follows)
        .values({ communityId, ...input, exits: input.exits ?? null, enabled: true, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: [follows.communityId, follows.followerUserId, follows.providerUserId],
          set: {
            sizingMode: input.sizingMode,
            amount: input.amount,
            mode: input.mode,
            exits: input.exits ?? null,
            enabled: true,
            updatedAt: now,
          },
        })
        .returning()
        .get();
      if (!follow) throw new Error("Upserting a follow returned no row.");
      return { follow, existed };
    },

    /** Returns false when there was no such follow. */
    async remove(followerUserId: string, providerUserId: string): Promise<boolean> {
      const result = await db.delete(follows).where(followOf(followerUserId, providerUserId));
      return result.meta.changes > 0;
    },

    /**
     * A member left the server: every follow they have is paused (kept, so
     * `/follow` turns it back on if they return), audited as
     * `member.departed` in the same batch. Returns how many were enabled.
     */
    async pauseAllOf(followerUserId: string, options: { actorId?: string | null } = {}): Promise<number> {
      const enabledOf = and(
        eq(follows.communityId, communityId),
        eq(follows.followerUserId, followerUserId),
        eq(follows.enabled, true),
      );
      const { result } = await auditedWrite<number>(async () => {
        const enabled = await db.select({ provider: follows.providerUserId }).from(follows).where(enabledOf).all();
        return {
          entry: {
            event: "member.departed",
            actorId: options.actorId ?? null,
            target: followerUserId,
            data: { userId: followerUserId, followsPaused: enabled.length },
          },
          statements: [db.update(follows).set({ enabled: false, updatedAt: Date.now() }).where(enabledOf)],
          result: enabled.length,
        };
      });
      return result;
    },

    /**
     * Every enabled follow of the community paused at once (kept, so `/follow` turns each back on), audited as
     * `event` in the same batch. Returns how many were enabled.
     */
    async pauseEveryone(event: string, data: Record<string, unknown>, actorId: string | null): Promise<number> {
      const enabledHere = and(eq(follows.communityId, communityId), eq(follows.enabled, true));
      const { result } = await auditedWrite<number>(async () => {
        const enabled = await db.select({ n: count() }).from(follows).where(enabledHere).get();
        const paused = enabled?.n ?? 0;
        return {
          entry: { event, actorId, data: { ...data, followsPaused: paused } },
          statements: [db.update(follows).set({ enabled: false, updatedAt: Date.now() }).where(enabledHere)],
          result: paused,
        };
      });
      return result;
    },

    async get(followerUserId: string, providerUserId: string): Promise<FollowRow | null> {
      return (await db.select().from(follows).where(followOf(followerUserId, providerUserId)).get()) ?? null;
    },

    /** Members with at least one enabled follow (what a community plan's member limit counts). */
    async followingMemberCount(): Promise<number> {
      const row = await db
        .select({ n: countDistinct(follows.followerUserId) })
        .from(follows)
        .where(and(eq(follows.communityId, communityId), eq(follows.enabled, true)))
        .get();
      return row?.n ?? 0;
    },

    /** The providers a member follows, with their Discord identity. */
    async followedBy(followerUserId: string) {
      return db
        .select({
          providerUserId: follows.providerUserId,
          discordId: users.discordId,
          username: users.username,
          sizingMode: follows.sizingMode,
          amount: follows.amount,
          mode: follows.mode,
          exits: follows.exits,
          enabled: follows.enabled,
        })
        .from(follows)
        .innerJoin(users, eq(users.id, follows.providerUserId))
        .where(and(eq(follows.communityId, communityId), eq(follows.followerUserId, followerUserId)))
        .orderBy(asc(users.username))
        .all();
    },
  };
}
