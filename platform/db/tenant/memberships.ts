import { and, asc, eq, gt, isNull, type SQL } from "drizzle-orm";
import { communities, MEMBERSHIP_ROLES, type MembershipRole, memberships, users } from "../../../shared/db/schema";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../../../shared/errors";
import { sameRoles } from "../../../shared/membership/standing";
import { FORMER_OWNER_ROLE } from "../../../shared/rbac/role-change";
import type { Actor, AuditEntryInput, TenantScope } from "./scope";

/**
 * Who belongs to the community, with which role, their Discord roles as last
 * seen, and whether they are suspended; role changes and suspensions are audited.
 */

export type Membership = typeof memberships.$inferSelect;

/** A member as the member list shows them: their role and Discord identity. */
export interface DirectoryEntry {
  userId: string;
  discordId: string;
  username: string | null;
  role: MembershipRole;
  createdAt: number;
  updatedAt: number;
}

/** What a suspend or unsuspend did: `unchanged` when the member already was in that state. */
export type SuspensionChange = "changed" | "unchanged" | "not_a_member";

/** Memberships created with these roles are not audited; every other membership change is. */
const UNAUDITED_NEW_ROLES: readonly MembershipRole[] = ["trader", "viewer"];

export function membershipRepository(scope: TenantScope) {
  const { db, communityId, auditedWrite, readHead } = scope;
  const membershipOf = (userId: string) =>
    and(eq(memberships.communityId, communityId), eq(memberships.userId, userId));
  const directoryQuery = (filter: SQL | undefined) =>
    db
      .select({
        userId: memberships.userId,
        discordId: users.discordId,
        username: users.username,
        role: memberships.role,
        createdAt: memberships.createdAt,
        updatedAt: memberships.updatedAt,
      })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.communityId, communityId), filter));

  const repository = {
    async get(userId: string): Promise<Membership | null> {
      return (await db.select().from(memberships).where(membershipOf(userId)).get()) ?? null;
    },

    list(): Promise<Membership[]> {
      return db
        .select()
        .from(memberships)
        .where(eq(memberships.communityId, communityId))
        .orderBy(asc(memberships.createdAt), asc(memberships.userId))
        .all();
    },

    /**
     * Sets a member's role. A role change, and any new membership with more
     * than trader rights, is audited as community.role_changed in the same batch.
     */
    async upsert(userId: string, role: MembershipRole, options: Actor = {}): Promise<Membership> {
      if (!MEMBERSHIP_ROLES.includes(role)) throw new ValidationError(`Unknown role "${role}".`);
      const previous = await repository.get(userId);
      if (previous?.role === role) return previous;
      if (!previous && UNAUDITED_NEW_ROLES.includes(role)) {
        await readHead(); // refuses a membership in a community that does not exist
        const now = Date.now();
        const created = await db
          .insert(memberships)
          .values({ communityId, userId, role, createdAt: now, updatedAt: now })
          .onConflictDoNothing()
          .returning()
          .get();
        if (created) return created;
      }
      await auditedWrite(async () => {
        const current = await repository.get(userId);
        if (current?.role === role) return { skip: undefined };
        const now = Date.now();
        return {
          entry: roleChanged(userId, current?.role ?? null, role, options.actorId),
          statements: [
            db
              .insert(memberships)
              .values({ communityId, userId, role, createdAt: now, updatedAt: now })
              .onConflictDoUpdate({
                target: [memberships.communityId, memberships.userId],
                set: { role, updatedAt: now },
              }),
          ],
          result: undefined,
        };
      });
      const stored = await repository.get(userId);
      if (!stored) throw new ConflictError(`Membership of ${userId} changed concurrently.`, "MEMBERSHIP_CONFLICT");
      return stored;
    },

    /** One page of members with their Discord identity, by user id (pass the last `userId` as `afterUserId`). */
    directory(options: { limit: number; afterUserId?: string }): Promise<DirectoryEntry[]> {
      const after = options.afterUserId === undefined ? undefined : gt(memberships.userId, options.afterUserId);
      return directoryQuery(after).orderBy(asc(memberships.userId)).limit(options.limit).all();
    },

    /** One member with their Discord identity, or null. */
    async directoryEntry(userId: string): Promise<DirectoryEntry | null> {
      return (await directoryQuery(eq(memberships.userId, userId)).get()) ?? null;
    },

    /**
     * Changes an existing member's role from `from` to `to`, audited as
     * community.role_changed in the same batch. The rules (who may, up to which
     * role) are the caller's (shared/rbac/role-change.ts), decided on `from`: if
     * the role is no longer `from` when written, nothing changes (409
     * MEMBERSHIP_CONFLICT), so a decision is never applied to a role it did not see.
     */
    async changeRole(
      userId: string,
      change: { from: MembershipRole; to: MembershipRole },
      options: Actor & { stepUp?: string | null } = {},
    ): Promise<Membership> {
      if (!MEMBERSHIP_ROLES.includes(change.to)) throw new ValidationError(`Unknown role "${change.to}".`);
      await auditedWrite(async () => {
        const current = await repository.get(userId);
        if (!current) throw new NotFoundError(`${userId} is not a member of this community.`, "MEMBER_NOT_FOUND");
        if (current.role === change.to) return { skip: undefined };
        if (current.role !== change.from) {
          throw new ConflictError(
            `The member's role changed meanwhile (now ${current.role}); look again and retry.`,
            "MEMBERSHIP_CONFLICT",
          );
        }
        const entry = roleChanged(userId, current.role, change.to, options.actorId);
        if (options.stepUp) entry.data = { ...entry.data, stepUp: options.stepUp };
        return {
          entry,
          statements: [
            db.update(memberships).set({ role: change.to, updatedAt: Date.now() }).where(membershipOf(userId)),
          ],
          result: undefined,
        };
      });
      const stored = await repository.get(userId);
      if (!stored) throw new ConflictError(`Membership of ${userId} changed concurrently.`, "MEMBERSHIP_CONFLICT");
      return stored;
    },

    /**
     * Makes `userId` the community's one owner, audited as
     * community.ownership_transferred in the same batch: every current owner
     * becomes admin, and `communities.owner_user_id` follows. With `byOwner`
     * (a member's transfer), that member must still be the owner when it is
     * written, so two concurrent transfers cannot both succeed.
     */
    async transferOwnership(
      userId: string,
      options: Actor & { byOwner?: string; stepUp?: string | null } = {},
    ): Promise<{ previousOwners: string[] }> {
      const { result } = await auditedWrite<{ previousOwners: string[] }>(async () => {
        const all = await repository.list();
        const target = all.find((m) => m.userId === userId);
        if (!target) throw new NotFoundError(`${userId} is not a member of this community.`, "MEMBER_NOT_FOUND");
        if (target.role === "owner")
          throw new ConflictError("That member already owns the community.", "ALREADY_OWNER");
        const owners = all.filter((m) => m.role === "owner").map((m) => m.userId);
        if (options.byOwner !== undefined && !owners.includes(options.byOwner)) {
          throw new ForbiddenError("Only the community's owner can transfer ownership.");
        }
        const now = Date.now();
        return {
          entry: {
            event: "community.ownership_transferred",
            actorId: options.actorId,
            target: userId,
            data: {
              from: owners,
              to: userId,
              previousRole: target.role,
              formerOwnersBecome: FORMER_OWNER_ROLE,
              ...(options.stepUp ? { stepUp: options.stepUp } : {}),
            },
          },
          statements: [
            ...owners.map((owner) =>
              db.update(memberships).set({ role: FORMER_OWNER_ROLE, updatedAt: now }).where(membershipOf(owner)),
            ),
            db.update(memberships).set({ role: "owner", updatedAt: now }).where(membershipOf(userId)),
            db.update(communities).set({ ownerUserId: userId, updatedAt: now }).where(eq(communities.id, communityId)),
          ],
          result: { previousOwners: owners },
        };
      });
      return result;
    },

    /**
     * Records the member's Discord roles as just seen, and returns the roles
     * seen before (null: never seen, or no membership). Not audited: roles are
     * Discord's record, this is a copy. Written only when they changed.
     */
    async recordDiscordRoles(
      userId: string,
      roles: readonly string[],
      now = Date.now(),
    ): Promise<{ member: boolean; before: string[] | null }> {
      const current = await repository.get(userId);
      if (!current) return { member: false, before: null };
      if (!sameRoles(current.discordRoleIds, roles)) {
        await db
          .update(memberships)
          .set({ discordRoleIds: [...roles], rolesSeenAt: now, updatedAt: now })
          .where(membershipOf(userId));
      }
      return { member: true, before: current.discordRoleIds };
    },

    /**
     * An admin's or operator's suspension: the member's copies stop (audited as
     * member.suspended). Suspending a suspended member keeps the first
     * suspension and says so.
     */
    async suspend(userId: string, options: Actor & { reason: string }): Promise<SuspensionChange> {
      const { result } = await auditedWrite<SuspensionChange>(async () => {
        const current = await repository.get(userId);
        if (!current) return { skip: "not_a_member" };
        if (current.suspendedAt !== null) return { skip: "unchanged" };
        const now = Date.now();
        return {
          entry: {
            event: "member.suspended",
            actorId: options.actorId,
            target: userId,
            data: { userId, reason: options.reason },
          },
          statements: [
            db
              .update(memberships)
              .set({
                suspendedAt: now,
                suspendedReason: options.reason,
                suspendedBy: options.actorId ?? null,
                updatedAt: now,
              })
              .where(and(membershipOf(userId), isNull(memberships.suspendedAt))),
          ],
          result: "changed",
        };
      });
      return result;
    },

    /** Lifts a suspension (audited as member.unsuspended); `unchanged` when the member was not suspended. */
    async unsuspend(userId: string, options: Actor & { reason: string | null }): Promise<SuspensionChange> {
      const { result } = await auditedWrite<SuspensionChange>(async () => {
        const current = await repository.get(userId);
        if (!current) return { skip: "not_a_member" };
        if (current.suspendedAt === null) return { skip: "unchanged" };
        return {
          entry: {
            event: "member.unsuspended",
            actorId: options.actorId,
            target: userId,
            data: { userId, reason: options.reason, suspendedAt: current.suspendedAt },
          },
          statements: [
            db
              .update(memberships)
              .set({ suspendedAt: null, suspendedReason: null, suspendedBy: null, updatedAt: Date.now() })
              .where(membershipOf(userId)),
          ],
          result: "changed",
        };
      });
      return result;
    },

    /** Removes a member (audited). Returns false when the user was not a member of this community. */
    async remove(userId: string, options: Actor = {}): Promise<boolean> {
      const { result } = await auditedWrite<boolean>(async () => {
        const previous = await repository.get(userId);
        if (!previous) return { skip: false };
        return {
          entry: roleChanged(userId, previous.role, null, options.actorId),
          statements: [db.delete(memberships).where(membershipOf(userId))],
          result: true,
        };
      });
      return result;
    },
  };
  return repository;
}

function roleChanged(
  userId: string,
  previousRole: MembershipRole | null,
  role: MembershipRole | null,
  actorId: string | null | undefined,
): AuditEntryInput {
  return { event: "community.role_changed", actorId, target: userId, data: { userId, previousRole, role } };
}
