import { and, countDistinct, desc, eq, inArray, ne, notInArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import {
  auditLog,
  brokerConnections,
  type CommunityTier,
  communities,
  follows,
  type MembershipRole,
  memberships,
  riskProfiles,
  signalProviders,
} from "../../../shared/db/schema";
import { NotFoundError } from "../../../shared/errors";
import type { Database } from "../client";
import { type AuditEntry, createTenantScope } from "./scope";

/**
 * One community's billing data: usage against the plan's limits, and the
 * audited plan changes (the community's plan, and a member's trader plan as it
 * applies inside this community). Every change and its audit row share a batch.
 */

const COMMUNITY_PLAN_CHANGED = "billing.plan_changed";
const TRADER_PLAN_CHANGED = "billing.trader_plan_changed";
const REFUND_ISSUED = "billing.refund_issued";
/** Actor recorded on plan changes the billing engine makes. */
const BILLING_ACTOR = "billing";

export interface CommunityUsage {
  /** Members following at least one provider (the plan's "members"). */
  followingMembers: number;
  /** Named providers and members with the provider role. */
  providers: number;
}

export interface PlanChangeCause {
  reason: string;
  provider?: string | null;
  subscriptionId?: string | null;
}

export interface TraderPlanApplied {
  changed: boolean;
  switchedToPaper: boolean;
  disabledConnectionIds: string[];
  entry: AuditEntry | null;
}

export function billingFor(db: Database, communityId: string) {
  const scope = createTenantScope(db, communityId);
  const byCommunity = eq(communities.id, communityId);

  const repository = {
    communityId,

    /** Members and providers against the plan's limits (signals per day are the executor's own counter). */
    async usage(): Promise<CommunityUsage> {
      const providerIds = sql`select ${signalProviders.userId} from ${signalProviders} where ${signalProviders.communityId} = ${communityId}
        union select ${memberships.userId} from ${memberships} where ${memberships.communityId} = ${communityId} and ${memberships.role} = 'provider'`;
      const [following, providers] = await db.batch([
        db
          .select({ count: countDistinct(follows.followerUserId) })
          .from(follows)
          .where(and(eq(follows.communityId, communityId), eq(follows.enabled, true))),
        db
          .select({ count: sql<number>`(select count(*) from (${providerIds}))` })
          .from(communities)
          .where(byCommunity),
      ]);
      return {
        followingMembers: following[0]?.count ?? 0,
        providers: Number(providers[0]?.count ?? 0),
      };
    },

    /** Whether the member already follows someone here (already counted against the member limit). */
    async isFollowing(userId: string): Promise<boolean> {
      const row = await db
        .select({ userId: follows.followerUserId })
        .from(follows)
        .where(and(eq(follows.communityId, communityId), eq(follows.followerUserId, userId), eq(follows.enabled, true)))
        .limit(1)
        .get();
      return row !== undefined;
    },

    async memberRole(userId: string): Promise<MembershipRole | null> {
      const row = await db
        .select({ role: memberships.role })
        .from(memberships)
        .where(and(eq(memberships.communityId, communityId), eq(memberships.userId, userId)))
        .get();
      return row?.role ?? null;
    },

    /** Sets the community's plan (`communities.tier`), audited as billing.plan_changed. */
    async setCommunityPlan(
      plan: CommunityTier,
      cause: PlanChangeCause,
    ): Promise<{ changed: boolean; from: CommunityTier | null; entry: AuditEntry | null }> {
      let from: CommunityTier | null = null;
      const { result, entry } = await scope.auditedWrite<boolean>(async () => {
        const current = await db.select({ tier: communities.tier }).from(communities).where(byCommunity).get();
        if (!current) throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
        from = current.tier;
        if (current.tier === plan) return { skip: false };
        return {
          entry: {
            event: COMMUNITY_PLAN_CHANGED,
            actorId: BILLING_ACTOR,
            target: communityId,
            data: { from: current.tier, to: plan, ...cause },
          },
          statements: [db.update(communities).set({ tier: plan, updatedAt: Date.now() }).where(byCommunity)],
          result: true,
        };
      });
      return { changed: result, from, entry };
    },

    /** Audits a refund the provider has made (`billing.refund_issued`, actor: who asked for it). */
    async recordRefund(
      actorId: string,
      refund: {
        provider: string;
        paymentId: string;
        refundId: string;
        amount: number;
        currency: string;
        status: string;
        full: boolean;
        reason: string;
        comment: string | null;
      },
    ): Promise<AuditEntry | null> {
      const { entry } = await scope.auditedWrite(async () => ({
        entry: { event: REFUND_ISSUED, actorId, target: refund.paymentId, data: { ...refund } },
        statements: [],
        result: undefined,
      }));
      return entry;
    },

    /** The trader plan last audited for this member here, if any. */
    async lastAuditedTraderPlan(userId: string): Promise<string | null> {
      const row = await db
        .select({ data: auditLog.data })
        .from(auditLog)
        .where(
          and(
            eq(auditLog.communityId, communityId),
            eq(auditLog.event, TRADER_PLAN_CHANGED),
            eq(auditLog.target, userId),
          ),
        )
        .orderBy(desc(auditLog.seq))
        .limit(1)
        .get();
      const to = row?.data?.to;
      return typeof to === "string" ? to : null;
    },

    /**
     * Applies a member's new trader plan in this community, audited as
     * billing.trader_plan_changed: without live trading the member's risk
     * profile goes to paper; live broker connections outside `keepConnectionIds`
     * are disabled (with a reason), never deleted. Orders and positions are
     * not touched. Idempotent: a community that already has this plan audited
     * for the member and nothing left to switch off is skipped.
     */
    async applyTraderPlan(
      userId: string,
      change: {
        from: string;
        to: string;
        liveTrading: boolean;
        keepConnectionIds: readonly string[];
        cause: PlanChangeCause;
      },
    ): Promise<TraderPlanApplied> {
      let switchedToPaper = false;
      let disabledConnectionIds: string[] = [];
      const { result, entry } = await scope.auditedWrite<boolean>(async () => {
        const [profile, connections, lastTo] = await Promise.all([
          db
            .select({ tradingMode: riskProfiles.tradingMode })
            .from(riskProfiles)
            .where(and(eq(riskProfiles.communityId, communityId), eq(riskProfiles.userId, userId)))
            .get(),
          db
            .select({ id: brokerConnections.id })
            .from(brokerConnections)
            .where(
              and(
                eq(brokerConnections.communityId, communityId),
                eq(brokerConnections.userId, userId),
                eq(brokerConnections.status, "active"),
                eq(brokerConnections.isPaper, false),
                ne(brokerConnections.broker, "paper"),
                ...(change.keepConnectionIds.length > 0
                  ? [notInArray(brokerConnections.id, [...change.keepConnectionIds])]
                  : []),
              ),
            )
            .all(),
          repository.lastAuditedTraderPlan(userId),
        ]);
        switchedToPaper = !change.liveTrading && profile?.tradingMode === "live";
        disabledConnectionIds = connections.map((connection) => connection.id);
        const alreadyAudited = (lastTo ?? change.from) === change.to;
        if (alreadyAudited && !switchedToPaper && disabledConnectionIds.length === 0) return { skip: false };

        const now = Date.now();
        const statements: BatchItem<"sqlite">[] = [];
        if (switchedToPaper) {
          statements.push(
            db
              .update(riskProfiles)
              .set({ tradingMode: "paper", updatedAt: now })
              .where(and(eq(riskProfiles.communityId, communityId), eq(riskProfiles.userId, userId))),
          );
        }
        if (disabledConnectionIds.length > 0) {
          statements.push(
            db
              .update(brokerConnections)
              .set({
                status: "disabled",
                statusReason: `The ${change.to} trader plan allows fewer live broker connections; upgrade to enable it again.`,
                updatedAt: now,
              })
              .where(
                and(
                  eq(brokerConnections.communityId, communityId),
                  inArray(brokerConnections.id, disabledConnectionIds),
                ),
              ),
          );
        }
        return {
          entry: {
            event: TRADER_PLAN_CHANGED,
            actorId: BILLING_ACTOR,
            target: userId,
            data: {
              userId,
              from: lastTo ?? change.from,
              to: change.to,
              liveTradingSwitchedOff: switchedToPaper,
              disabledConnectionIds,
              ...change.cause,
            },
          },
          statements,
          result: true,
        };
      });
      return result
        ? { changed: true, switchedToPaper, disabledConnectionIds, entry }
        : { changed: false, switchedToPaper: false, disabledConnectionIds: [], entry: null };
    },
  };
  return repository;
}

export type BillingRepository = ReturnType<typeof billingFor>;
