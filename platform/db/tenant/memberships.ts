import { and, asc, eq, isNull } from "drizzle-orm";
import { MEMBERSHIP_ROLES, type MembershipRole, memberships } from "../../../shared/db/schema";
import { ConflictError, ValidationError } from "../../../shared/errors";
import { sameRoles } from "../../../shared/membership/standing";
import type { Actor, AuditEntryInput, TenantScope } from "./scope";

/**
 * Who belongs to the community, with which role, their Discord roles as last
 * seen, and whether they are suspended; role changes and suspensions are audited.
 */

export type Membership = typeof memberships.$inferSelect;

/** What a suspend or unsuspend did: `unchanged` when the member already was in that state. */
export type SuspensionChange = "changed" | "unchanged" | "not_a_member";

/** Memberships created with these roles are not audited; every other membership change is. */
const UNAUDITED_NEW_ROLES: readonly MembershipRole[] = ["trader", "viewer"];

export function membershipRepository(scope: TenantScope) {
  const { db, communityId, auditedWrite, readHead } = scope;
  const membershipOf = (userId: string) =>
    and(eq(memberships.communityId, communityId), eq(memberships.userId, userId));

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
