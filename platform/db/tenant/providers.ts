import { and, asc, eq, inArray, isNull, like, or, sql } from "drizzle-orm";
import { communities, memberships, signalProviders, users } from "../../../shared/db/schema";
import {
  type DiscordSettings,
  discordSettingsOf,
  type UnparsedMessageHandling,
} from "../../../shared/discord/settings";
import type { TenantScope } from "./scope";

/**
 * Who may post signals in a community, and where: the Discord settings that
 * /setup writes into `communities.settings` (`providerRoleIds`,
 * `signalChannelIds`, `unparsedMessages`, `accessRoleId`), the members an admin named as providers, and a
 * member's identity and role looked up by Discord id.
 */

export interface MemberIdentity {
  userId: string;
  discordId: string;
  username: string | null;
  role: (typeof memberships.$inferSelect)["role"] | null;
  namedProvider: boolean;
  /** When an admin suspended them here (null: not suspended, or no membership). */
  suspendedAt: number | null;
  suspendedReason: string | null;
  /** Their Discord roles as last seen here (null: never seen). */
  discordRoleIds: string[] | null;
}

/** The columns of a MemberIdentity, joined from users, memberships and signal_providers. */
export const memberIdentityColumns = {
  userId: users.id,
  discordId: users.discordId,
  username: users.username,
  role: memberships.role,
  namedProvider: sql<number>`${signalProviders.userId} is not null`,
  suspendedAt: memberships.suspendedAt,
  suspendedReason: memberships.suspendedReason,
  discordRoleIds: memberships.discordRoleIds,
};

export interface ProviderListing {
  userId: string;
  discordId: string;
  username: string | null;
}

export function providerRepository(scope: TenantScope) {
  const { db, communityId, auditedWrite } = scope;
  const byCommunity = eq(communities.id, communityId);

  const repository = {
    async discordSettings(): Promise<DiscordSettings> {
      const row = await db.select({ settings: communities.settings }).from(communities).where(byCommunity).get();
      return discordSettingsOf(row?.settings);
    },

    /**
     * Adds and removes provider roles and signal channels (a union, then a
     * difference: running /setup twice changes nothing) and sets how unparsed
     * messages are answered. Audited as community.settings_changed when it
     * changes. Only these keys of the settings JSON are written.
     */
    async changeDiscordSettings(
      change: {
        add?: Partial<Pick<DiscordSettings, "providerRoleIds" | "signalChannelIds">>;
        remove?: Partial<Pick<DiscordSettings, "providerRoleIds" | "signalChannelIds">>;
        unparsedMessages?: UnparsedMessageHandling;
        /** The role members need to copy trades (with its name); null removes it, undefined leaves it. */
        accessRole?: { id: string; name: string | null } | null;
      },
      actorId: string | null,
    ): Promise<{ changed: boolean; settings: DiscordSettings }> {
      const apply = (current: string[], add: string[] = [], remove: string[] = []) =>
        [...new Set([...current, ...add])].filter((id) => !remove.includes(id));
      const { result } = await auditedWrite<{ changed: boolean; settings: DiscordSettings }>(async () => {
        const current = await repository.discordSettings();
        const next: DiscordSettings = {
          providerRoleIds: apply(current.providerRoleIds, change.add?.providerRoleIds, change.remove?.providerRoleIds),
          signalChannelIds: apply(
            current.signalChannelIds,
            change.add?.signalChannelIds,
            change.remove?.signalChannelIds,
          ),
          unparsedMessages: change.unparsedMessages ?? current.unparsedMessages,
          accessRoleId: change.accessRole === undefined ? current.accessRoleId : (change.accessRole?.id ?? null),
          accessRoleName: change.accessRole === undefined ? current.accessRoleName : (change.accessRole?.name ?? null),
        };
        const changed = JSON.stringify(next) !== JSON.stringify(current);
        if (!changed) return { skip: { changed: false, settings: current } };
        return {
          entry: { event: "community.settings_changed", actorId, data: { before: current, after: next } },
          statements: [
            db
              .update(communities)
              .set({
                settings: sql`json_set(${communities.settings}, '$.providerRoleIds', json(${JSON.stringify(next.providerRoleIds)}), '$.signalChannelIds', json(${JSON.stringify(next.signalChannelIds)}), '$.unparsedMessages', ${next.unparsedMessages}, '$.accessRoleId', ${next.accessRoleId}, '$.accessRoleName', ${next.accessRoleName})`,
                updatedAt: Date.now(),
              })
              .where(byCommunity),
          ],
          result: { changed: true, settings: next },
        };
      });
      return result;
    },

    /** The first admin to run /setup owns a community that has no owner yet. Returns false if it has one. */
    async claimOwnership(userId: string): Promise<boolean> {
      const result = await db
        .update(communities)
        .set({ ownerUserId: userId, updatedAt: Date.now() })
        .where(and(byCommunity, isNull(communities.ownerUserId)));
      return result.meta.changes === 1;
    },

    /** Names a member as a provider (audited as community.provider_named). Returns false if already named. */
    async name(userId: string, actorId: string | null): Promise<boolean> {
      const { result } = await auditedWrite<boolean>(async () => {
        const existing = await db
          .select({ userId: signalProviders.userId })
          .from(signalProviders)
          .where(and(eq(signalProviders.communityId, communityId), eq(signalProviders.userId, userId)))
          .get();
        if (existing) return { skip: false };
        const now = Date.now();
        return {
          entry: { event: "community.provider_named", actorId, target: userId, data: { userId } },
          statements: [
            db
              .insert(signalProviders)
              .values({ communityId, userId, addedBy: actorId, createdAt: now, updatedAt: now })
              .onConflictDoNothing(),
          ],
          result: true,
        };
      });
      return result;
    },

    /** Un-names a provider (audited as community.provider_removed). Returns false if they were not named. */
    async unname(userId: string, actorId: string | null): Promise<boolean> {
      const namedRow = and(eq(signalProviders.communityId, communityId), eq(signalProviders.userId, userId));
      const { result } = await auditedWrite<boolean>(async () => {
        const existing = await db
          .select({ userId: signalProviders.userId })
          .from(signalProviders)
          .where(namedRow)
          .get();
        if (!existing) return { skip: false };
        return {
          entry: { event: "community.provider_removed", actorId, target: userId, data: { userId } },
          statements: [db.delete(signalProviders).where(namedRow)],
          result: true,
        };
      });
      return result;
    },

    /** A member by Discord id: their user, role here (or null) and whether an admin named them a provider. */
    async memberByDiscordId(discordId: string): Promise<MemberIdentity | null> {
      const row = await db
        .select(memberIdentityColumns)
        .from(users)
        .leftJoin(memberships, and(eq(memberships.communityId, communityId), eq(memberships.userId, users.id)))
        .leftJoin(
          signalProviders,
          and(eq(signalProviders.communityId, communityId), eq(signalProviders.userId, users.id)),
        )
        .where(eq(users.discordId, discordId))
        .get();
      return row ? { ...row, namedProvider: Boolean(row.namedProvider) } : null;
    },

    /** How many members an admin named as providers (what a community plan's provider limit counts). */
    async namedCount(): Promise<number> {
      const row = await db
        .select({ n: sql<number>`count(*)` })
        .from(signalProviders)
        .where(eq(signalProviders.communityId, communityId))
        .get();
      return row?.n ?? 0;
    },

    /** Named providers and members with the provider role (or above), matching a name or id prefix. */
    async list(search = "", limit = 25): Promise<ProviderListing[]> {
      const pattern = `${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const named = db
        .select({ userId: signalProviders.userId })
        .from(signalProviders)
        .where(eq(signalProviders.communityId, communityId));
      const byRole = db
        .select({ userId: memberships.userId })
        .from(memberships)
        .where(
          and(eq(memberships.communityId, communityId), inArray(memberships.role, ["provider", "admin", "owner"])),
        );
      return db
        .select({ userId: users.id, discordId: users.discordId, username: users.username })
        .from(users)
        .where(
          and(
            or(inArray(users.id, named), inArray(users.id, byRole)),
            search ? or(sql`${users.username} like ${pattern} escape '\\'`, like(users.discordId, pattern)) : undefined,
          ),
        )
        .orderBy(asc(users.username))
        .limit(limit)
        .all();
    },
  };
  return repository;
}
