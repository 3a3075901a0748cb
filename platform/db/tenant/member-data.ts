import { and, asc, eq, gte, inArray, or } from "drizzle-orm";
import {
  auditLog,
  brokerConnections,
  fills,
  follows,
  memberships,
  orderEvents,
  orders,
  positions,
  riskProfiles,
  signalProviders,
  signals,
  signalWebhooks,
} from "../../../shared/db/schema";
import { UNSETTLED_STATUSES } from "../../../shared/orders/state-machine";
import type { TenantScope } from "./scope";

/**
 * One member's personal data in one community (`/privacy`, openspec/specs/privacy): what they may export, and what
 * erasing them here removes. Columns are named one by one so a credential (a broker's sealed credentials, a
 * webhook's key hash or sealed secret) can never reach an export by a `select *`.
 */

/** A position below this size is closed (quantities are stored as reals). */
const FLAT = 1e-9;

export function memberDataRepository(scope: TenantScope) {
  const { db, communityId } = scope;
  const inCommunity = <T extends { communityId: Parameters<typeof eq>[0] }>(table: T) =>
    eq(table.communityId, communityId);

  return {
    /** Everything this community holds about the member, from its tenant tables (no credential, no secret). */
    async exportOf(userId: string) {
      const [
        membership,
        namedProvider,
        asFollower,
        asProvider,
        risk,
        postedSignals,
        webhooks,
        connections,
        memberOrders,
        memberFills,
        memberPositions,
        audit,
      ] = await db.batch([
        db
          .select({
            role: memberships.role,
            discordRoleIds: memberships.discordRoleIds,
            rolesSeenAt: memberships.rolesSeenAt,
            suspendedAt: memberships.suspendedAt,
            suspendedReason: memberships.suspendedReason,
            suspendedBy: memberships.suspendedBy,
            createdAt: memberships.createdAt,
            updatedAt: memberships.updatedAt,
          })
          .from(memberships)
          .where(and(inCommunity(memberships), eq(memberships.userId, userId))),
        db
          .select({ addedBy: signalProviders.addedBy, createdAt: signalProviders.createdAt })
          .from(signalProviders)
          .where(and(inCommunity(signalProviders), eq(signalProviders.userId, userId))),
        db
          .select()
          .from(follows)
          .where(and(inCommunity(follows), eq(follows.followerUserId, userId))),
        // Who copies them, and how, is their followers' data: only that each follow exists, and since when.
        db
          .select({ enabled: follows.enabled, createdAt: follows.createdAt, updatedAt: follows.updatedAt })
          .from(follows)
          .where(and(inCommunity(follows), eq(follows.providerUserId, userId))),
        db
          .select({
            tradingMode: riskProfiles.tradingMode,
            settings: riskProfiles.settings,
            skipNotices: riskProfiles.skipNotices,
            createdAt: riskProfiles.createdAt,
            updatedAt: riskProfiles.updatedAt,
          })
          .from(riskProfiles)
          .where(and(inCommunity(riskProfiles), eq(riskProfiles.userId, userId))),
        db
          .select({
            id: signals.id,
            source: signals.source,
            sourceId: signals.sourceId,
            sourceTimestamp: signals.sourceTimestamp,
            channelId: signals.channelId,
            rawText: signals.rawText,
            normalized: signals.normalized,
            status: signals.status,
            statusReason: signals.statusReason,
            summary: signals.summary,
            createdAt: signals.createdAt,
          })
          .from(signals)
          .where(and(inCommunity(signals), eq(signals.providerUserId, userId)))
          .orderBy(asc(signals.createdAt)),
        db
          .select({
            id: signalWebhooks.id,
            createdBy: signalWebhooks.createdBy,
            rotatedAt: signalWebhooks.rotatedAt,
            revokedAt: signalWebhooks.revokedAt,
            createdAt: signalWebhooks.createdAt,
            updatedAt: signalWebhooks.updatedAt,
          })
          .from(signalWebhooks)
          .where(and(inCommunity(signalWebhooks), eq(signalWebhooks.providerUserId, userId))),
        db
          .select({
            id: brokerConnections.id,
            broker: brokerConnections.broker,
            status: brokerConnections.status,
            statusReason: brokerConnections.statusReason,
            accountId: brokerConnections.accountId,
            isPaper: brokerConnections.isPaper,
            expiresAt: brokerConnections.expiresAt,
            createdAt: brokerConnections.createdAt,
            updatedAt: brokerConnections.updatedAt,
          })
          .from(brokerConnections)
          .where(and(inCommunity(brokerConnections), eq(brokerConnections.userId, userId))),
        db
          .select()
          .from(orders)
          .where(and(inCommunity(orders), eq(orders.userId, userId)))
          .orderBy(asc(orders.createdAt)),
        db
          .select()
          .from(fills)
          .where(and(inCommunity(fills), eq(fills.userId, userId)))
          .orderBy(asc(fills.filledAt)),
        db
          .select()
          .from(positions)
          .where(and(inCommunity(positions), eq(positions.userId, userId))),
        db
          .select({
            seq: auditLog.seq,
            event: auditLog.event,
            actorId: auditLog.actorId,
            target: auditLog.target,
            data: auditLog.data,
            createdAt: auditLog.createdAt,
          })
          .from(auditLog)
          .where(and(inCommunity(auditLog), or(eq(auditLog.actorId, userId), eq(auditLog.target, userId))))
          .orderBy(asc(auditLog.seq)),
      ]);
      const orderIds = memberOrders.map((order) => order.id);
      const events = [];
      // D1 binds at most 100 parameters a statement.
      for (let i = 0; i < orderIds.length; i += 90) {
        events.push(
          ...(await db
            .select()
            .from(orderEvents)
            .where(and(inCommunity(orderEvents), inArray(orderEvents.orderId, orderIds.slice(i, i + 90))))
            .orderBy(asc(orderEvents.createdAt))),
        );
      }
      const withoutCommunity = <R extends { communityId: string }>(rows: R[]) =>
        rows.map(({ communityId: _, ...rest }) => rest);
      return {
        membership: membership[0] ?? null,
        namedProvider: namedProvider[0] ?? null,
        follows: { asFollower: withoutCommunity(asFollower), asProvider },
        riskSettings: risk[0] ?? null,
        signals: postedSignals,
        signalWebhooks: webhooks,
        brokerConnections: connections,
        orders: withoutCommunity(memberOrders),
        orderEvents: withoutCommunity(events),
        fills: withoutCommunity(memberFills),
        positions: withoutCommunity(memberPositions),
        auditEntries: audit,
      };
    },

    /** Whether the member's data here was deleted at or after `since` (a confirmation pressed again does nothing). */
    async deletedSince(userId: string, since: number): Promise<boolean> {
      const row = await db
        .select({ seq: auditLog.seq })
        .from(auditLog)
        .where(
          and(
            inCommunity(auditLog),
            eq(auditLog.event, "privacy.deleted"),
            eq(auditLog.target, userId),
            gte(auditLog.createdAt, since),
          ),
        )
        .limit(1)
        .get();
      return row !== undefined;
    },

    /** What keeps the member from being erased here: open positions, unsettled orders, live broker connections. */
    async erasureBlockers(userId: string) {
      const [held, working, live] = await db.batch([
        db
          .select({ symbol: positions.symbol, quantity: positions.quantity })
          .from(positions)
          .where(and(inCommunity(positions), eq(positions.userId, userId))),
        db
          .select({ id: orders.id })
          .from(orders)
          .where(and(inCommunity(orders), eq(orders.userId, userId), inArray(orders.status, [...UNSETTLED_STATUSES]))),
        db
          .select({ broker: brokerConnections.broker })
          .from(brokerConnections)
          .where(
            and(
              inCommunity(brokerConnections),
              eq(brokerConnections.userId, userId),
              eq(brokerConnections.status, "active"),
            ),
          ),
      ]);
      return {
        openPositions: held.filter((p) => Math.abs(p.quantity) > FLAT).map((p) => p.symbol),
        workingOrders: working.length,
        liveBrokers: live.map((c) => c.broker),
      };
    },

    /**
     * Erases the member here in one D1 batch, audited as `privacy.deleted` in the same batch: follows both ways,
     * risk settings, their provider naming, broker connections (none active: the caller refused those) and their
     * membership. Orders, fills, positions, signals and the audit log are kept (openspec/specs/privacy). Answers the
     * followers they had; nothing is written when they are no longer a member.
     */
    async erase(userId: string, summary: Record<string, unknown>) {
      return scope.auditedWrite(async () => {
        const [membership, followers] = await db.batch([
          db
            .select({ role: memberships.role })
            .from(memberships)
            .where(and(inCommunity(memberships), eq(memberships.userId, userId))),
          db
            .select({ followerUserId: follows.followerUserId })
            .from(follows)
            .where(and(inCommunity(follows), eq(follows.providerUserId, userId), eq(follows.enabled, true))),
        ]);
        if (!membership[0]) return { skip: { erased: false, followers: [] as string[] } };
        return {
          entry: { event: "privacy.deleted", actorId: userId, target: userId, data: summary },
          statements: [
            db
              .delete(follows)
              .where(
                and(inCommunity(follows), or(eq(follows.followerUserId, userId), eq(follows.providerUserId, userId))),
              ),
            db.delete(riskProfiles).where(and(inCommunity(riskProfiles), eq(riskProfiles.userId, userId))),
            db.delete(signalProviders).where(and(inCommunity(signalProviders), eq(signalProviders.userId, userId))),
            db
              .delete(brokerConnections)
              .where(and(inCommunity(brokerConnections), eq(brokerConnections.userId, userId))),
            db.delete(memberships).where(and(inCommunity(memberships), eq(memberships.userId, userId))),
          ],
          result: { erased: true, followers: followers.map((f) => f.followerUserId) },
        };
      });
    },
  };
}
