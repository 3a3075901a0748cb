import { and, asc, eq, gt, lte, max } from "drizzle-orm";
import { type ChainVerification, ChainVerifier } from "../../shared/audit/chain";
import type { AuditSearch } from "../../shared/audit/search";
import {
  auditLog,
  communities,
  featureFlagOverrides,
  featureFlags,
  MEMBERSHIP_ROLES,
  type MembershipRole,
  memberships,
} from "../../shared/db/schema";
import { ConflictError, NotFoundError, ValidationError } from "../../shared/errors";
import { evaluateFlag, type FlagEvaluation } from "../../shared/flags";
import type { Database } from "./client";
import { auditSearchWhere } from "./tenant/audit-search";
import { executionRepository } from "./tenant/execution";
import { followRepository } from "./tenant/follows";
import { providerRepository } from "./tenant/providers";
import { riskProfileRepository } from "./tenant/risk-profiles";
import { type AuditEntry, type AuditEntryInput, createTenantScope } from "./tenant/scope";
import { signalRepository } from "./tenant/signals";

export type { AuditEntry, AuditEntryInput } from "./tenant/scope";

/**
 * The only way handlers reach tenant tables: every query below is scoped to
 * one community id (the guard test in tests/integration/tenancy.test.ts keeps
 * it that way). Audited writes go into the same D1 batch as their audit row.
 */

export type Community = typeof communities.$inferSelect;
export type Membership = typeof memberships.$inferSelect;
export type FlagOverrideRow = typeof featureFlagOverrides.$inferSelect;
export type TenantRepository = ReturnType<typeof forCommunity>;

interface Actor {
  actorId?: string | null;
}

const VERIFY_PAGE_SIZE = 500;
const MAX_LIST_LIMIT = 500;
/** Memberships created with these roles are not audited; every other membership change is. */
const UNAUDITED_NEW_ROLES: readonly MembershipRole[] = ["trader", "viewer"];

export function forCommunity(db: Database, communityId: string) {
  const byCommunity = eq(communities.id, communityId);
  const membershipOf = (userId: string) =>
    and(eq(memberships.communityId, communityId), eq(memberships.userId, userId));
  const overrideOf = (flagKey: string) =>
    and(eq(featureFlagOverrides.communityId, communityId), eq(featureFlagOverrides.flagKey, flagKey));

  const scope = createTenantScope(db, communityId);
  const { auditedWrite, readHead } = scope;

  const community = {
    async get(): Promise<Community | null> {
      return (await db.select().from(communities).where(byCommunity).get()) ?? null;
    },

    /** The kill switch. Returns false when the community was already in that state. */
    async setHalted(halted: boolean, options: Actor & { reason?: string | null } = {}): Promise<boolean> {
      const { result } = await auditedWrite<boolean>(async () => {
        const current = await community.get();
        if (!current) throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
        if (current.halted === halted) return { skip: false };
        const reason = options.reason ?? null;
        return {
          entry: {
            event: halted ? "community.halted" : "community.resumed",
            actorId: options.actorId,
            data: { reason },
          },
          statements: [
            db
              .update(communities)
              .set({ halted, haltedReason: halted ? reason : null, updatedAt: Date.now() })
              .where(byCommunity),
          ],
          result: true,
        };
      });
      return result;
    },
  };

  const membershipRepository = {
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
      const previous = await membershipRepository.get(userId);
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
        const current = await membershipRepository.get(userId);
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
      const stored = await membershipRepository.get(userId);
      if (!stored) throw new ConflictError(`Membership of ${userId} changed concurrently.`, "MEMBERSHIP_CONFLICT");
      return stored;
    },

    /** Removes a member (audited). Returns false when the user was not a member of this community. */
    async remove(userId: string, options: Actor = {}): Promise<boolean> {
      const { result } = await auditedWrite<boolean>(async () => {
        const previous = await membershipRepository.get(userId);
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

  const audit = {
    async append(input: AuditEntryInput): Promise<AuditEntry> {
      const { entry } = await auditedWrite(async () => ({ entry: input, statements: [], result: undefined }));
      if (!entry) throw new Error("unreachable: an append always writes");
      return entry;
    },

    /** Entries after `afterSeq` in seq order, at most `limit`, matching every criterion of `search`. */
    list(options: { limit?: number; afterSeq?: number; search?: AuditSearch } = {}): Promise<AuditEntry[]> {
      const limit = Math.min(Math.max(1, Math.trunc(options.limit ?? 100)), MAX_LIST_LIMIT);
      return db
        .select()
        .from(auditLog)
        .where(auditSearchWhere(communityId, options.search ?? {}, options.afterSeq ?? 0))
        .orderBy(asc(auditLog.seq))
        .limit(limit)
        .all();
    },

    /**
     * verifyChain: walks the rows up to the head read at the start, page by
     * page, then checks that no row sits beyond the head (appends that land
     * meanwhile move the head first, so they are not mistaken for forgeries).
     */
    async verify(): Promise<ChainVerification> {
      const head = await readHead();
      const verifier = new ChainVerifier();
      let afterSeq = 0;
      while (afterSeq < head.seq) {
        const page = await db
          .select()
          .from(auditLog)
          .where(and(eq(auditLog.communityId, communityId), gt(auditLog.seq, afterSeq), lte(auditLog.seq, head.seq)))
          .orderBy(asc(auditLog.seq))
          .limit(VERIFY_PAGE_SIZE)
          .all();
        for (const row of page) {
          if (!(await verifier.add(row))) return verifier.finish(head);
        }
        const last = page.at(-1);
        if (!last) break;
        afterSeq = last.seq;
      }
      const result = verifier.finish(head);
      if (!result.ok) return result;
      const beyond = await db
        .select({ seq: max(auditLog.seq) })
        .from(auditLog)
        .where(and(eq(auditLog.communityId, communityId), gt(auditLog.seq, head.seq)))
        .get();
      if (beyond?.seq != null) {
        const fresh = await readHead();
        if (beyond.seq > fresh.seq) {
          return { ok: false, count: result.count, brokenAt: { seq: fresh.seq + 1, reason: "head_mismatch" } };
        }
      }
      return result;
    },
  };

  const flags = {
    async evaluate(flagKey: string): Promise<FlagEvaluation> {
      const [flag, override] = await db.batch([
        db.select().from(featureFlags).where(eq(featureFlags.key, flagKey)),
        db.select().from(featureFlagOverrides).where(overrideOf(flagKey)),
      ]);
      return evaluateFlag({ flag: flag[0], override: override[0], communityId });
    },

    async isEnabled(flagKey: string): Promise<boolean> {
      return (await flags.evaluate(flagKey)).enabled;
    },

    overrides(): Promise<FlagOverrideRow[]> {
      return db
        .select()
        .from(featureFlagOverrides)
        .where(eq(featureFlagOverrides.communityId, communityId))
        .orderBy(asc(featureFlagOverrides.flagKey))
        .all();
    },

    /** Forces a defined flag on or off for this community (audited as flags.override_set). */
    async setOverride(flagKey: string, enabled: boolean, actorId?: string | null): Promise<void> {
      const flag = await db
        .select({ key: featureFlags.key })
        .from(featureFlags)
        .where(eq(featureFlags.key, flagKey))
        .get();
      if (!flag) throw new NotFoundError(`Feature flag ${flagKey} is not defined.`, "FLAG_NOT_FOUND");
      await auditedWrite(async () => {
        const now = Date.now();
        return {
          entry: { event: "flags.override_set", actorId, target: flagKey, data: { flag: flagKey, enabled } },
          statements: [
            db
              .insert(featureFlagOverrides)
              .values({ communityId, flagKey, enabled, createdAt: now, updatedAt: now })
              .onConflictDoUpdate({
                target: [featureFlagOverrides.communityId, featureFlagOverrides.flagKey],
                set: { enabled, updatedAt: now },
              }),
          ],
          result: undefined,
        };
      });
    },

    /** Returns false when there was no override to clear. */
    async clearOverride(flagKey: string, actorId?: string | null): Promise<boolean> {
      const { result } = await auditedWrite<boolean>(async () => {
        const existing = await db.select().from(featureFlagOverrides).where(overrideOf(flagKey)).get();
        if (!existing) return { skip: false };
        return {
          entry: { event: "flags.override_cleared", actorId, target: flagKey, data: { flag: flagKey } },
          statements: [db.delete(featureFlagOverrides).where(overrideOf(flagKey))],
          result: true,
        };
      });
      return result;
    },
  };

  return {
    communityId,
    community,
    memberships: membershipRepository,
    audit,
    flags,
    execution: executionRepository(scope),
    signals: signalRepository(scope),
    providers: providerRepository(scope),
    follows: followRepository(scope),
    riskProfiles: riskProfileRepository(scope),
  };
}

function roleChanged(
  userId: string,
  previousRole: MembershipRole | null,
  role: MembershipRole | null,
  actorId: string | null | undefined,
): AuditEntryInput {
  return { event: "community.role_changed", actorId, target: userId, data: { userId, previousRole, role } };
}

/** The guarded insert lost the race (NOT NULL hash) or the seq is taken (unique index). */
