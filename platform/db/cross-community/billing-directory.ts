import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lt, ne, or, sql } from "drizzle-orm";
import type { BillingEvent, SubjectRef } from "../../../shared/billing/events";
import type { SubscriptionState } from "../../../shared/billing/subscription-state";
import {
  type BillingProviderName,
  billingCustomers,
  billingLinkClaims,
  brokerConnections,
  communities,
  riskProfiles,
  subscriptions,
  traderPlans,
  users,
  type WebhookOutcome,
  webhookEvents,
} from "../../../shared/db/schema";
import type { Database } from "../client";
import { communitiesOfMember } from "./member-communities";

/**
 * The cross-tenant side of billing: a webhook names a provider customer or
 * subscription, not a community, so it is looked up here first; a trader's
 * plan follows the user across communities. Writes to one community's data go
 * through billingFor() (./billing.ts), which audits them in that community.
 */

export type BillingCustomerRow = typeof billingCustomers.$inferSelect;
export type SubscriptionRow = typeof subscriptions.$inferSelect;

const MAX_PARAMS = 90;
const LIVE = ["trialing", "active", "past_due", "unpaid"] as const;

export function subjectOf(row: Pick<SubscriptionRow, "subject" | "communityId" | "userId">): SubjectRef {
  return { subject: row.subject, communityId: row.communityId, userId: row.userId };
}

export function stateOf(row: SubscriptionRow): SubscriptionState {
  return {
    status: row.status,
    plan: row.plan,
    interval: row.interval === "month" || row.interval === "year" ? row.interval : null,
    currentPeriodEnd: row.currentPeriodEnd,
    cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    cancelAt: row.cancelAt,
    endedAt: row.endedAt,
    trialEnd: row.trialEnd,
    pastDueSince: row.pastDueSince,
    pendingPlan: row.pendingPlan,
    lastEventAt: row.lastEventAt,
  };
}

function subjectFilter(subject: SubjectRef) {
  return subject.subject === "community"
    ? and(eq(subscriptions.subject, "community"), eq(subscriptions.communityId, subject.communityId ?? ""))
    : and(eq(subscriptions.subject, "trader"), eq(subscriptions.userId, subject.userId ?? ""));
}

function customerFilter(subject: SubjectRef) {
  return subject.subject === "community"
    ? and(eq(billingCustomers.subject, "community"), eq(billingCustomers.communityId, subject.communityId ?? ""))
    : and(eq(billingCustomers.subject, "trader"), eq(billingCustomers.userId, subject.userId ?? ""));
}

export function billingDirectory(db: Database) {
  const webhooks = {
    /**
     * Records a verified event once per (provider, event id). Events with
     * something to apply keep their payload until BILLING_QUEUE has it (the
     * outbox); the others are recorded as processed. A second delivery is a
     * duplicate; `pending` says whether its payload still waits for the queue.
     */
    async record(event: BillingEvent, now: number): Promise<{ duplicate: boolean; pending: boolean }> {
      const needsWork = event.kind !== "ignored";
      const inserted = await db
        .insert(webhookEvents)
        .values({
          id: crypto.randomUUID(),
          provider: event.provider,
          eventId: event.eventId,
          eventType: event.type,
          communityId: event.subject?.communityId ?? null,
          receivedAt: now,
          processedAt: needsWork ? null : now,
          outcome: needsWork ? null : "ignored",
          payload: needsWork ? (event as unknown as Record<string, unknown>) : null,
          enqueuedAt: null,
        })
        .onConflictDoNothing({ target: [webhookEvents.provider, webhookEvents.eventId] })
        .returning({ id: webhookEvents.id });
      if (inserted.length > 0) return { duplicate: false, pending: needsWork };
      const existing = await webhooks.find(event.provider, event.eventId);
      return {
        duplicate: true,
        pending: existing !== null && existing.payload !== null && existing.enqueuedAt === null,
      };
    },

    async find(provider: string, eventId: string) {
      return (
        (await db
          .select()
          .from(webhookEvents)
          .where(and(eq(webhookEvents.provider, provider), eq(webhookEvents.eventId, eventId)))
          .get()) ?? null
      );
    },

    async markEnqueued(provider: string, eventId: string, now: number): Promise<void> {
      await db
        .update(webhookEvents)
        .set({ enqueuedAt: now })
        .where(and(eq(webhookEvents.provider, provider), eq(webhookEvents.eventId, eventId)));
    },

    async markProcessed(provider: string, eventId: string, now: number, outcome: WebhookOutcome): Promise<void> {
      await db
        .update(webhookEvents)
        .set({ processedAt: now, outcome })
        .where(
          and(
            eq(webhookEvents.provider, provider),
            eq(webhookEvents.eventId, eventId),
            isNull(webhookEvents.processedAt),
          ),
        );
    },

    /**
     * Whether a subscription event of this provider customer still waits to be applied: a payment can overtake
     * the subscription event that makes its customer known.
     */
    async subscriptionEventPendingFor(provider: BillingProviderName, providerCustomerId: string) {
      const row = await db
        .select({ id: webhookEvents.id })
        .from(webhookEvents)
        .where(
          and(
            eq(webhookEvents.provider, provider),
            isNull(webhookEvents.processedAt),
            sql`json_extract(${webhookEvents.payload}, '$.kind') = 'subscription'`,
            sql`json_extract(${webhookEvents.payload}, '$.providerCustomerId') = ${providerCustomerId}`,
          ),
        )
        .limit(1)
        .get();
      return row !== undefined;
    },

    /** Events whose enqueue did not happen (or not yet) after `receivedBefore`, oldest first. */
    async pendingOutbox(receivedBefore: number, limit: number): Promise<{ provider: string; eventId: string }[]> {
      return db
        .select({ provider: webhookEvents.provider, eventId: webhookEvents.eventId })
        .from(webhookEvents)
        .where(
          and(
            isNull(webhookEvents.enqueuedAt),
            isNotNull(webhookEvents.payload),
            isNull(webhookEvents.processedAt),
            lt(webhookEvents.receivedAt, receivedBefore),
          ),
        )
        .orderBy(asc(webhookEvents.receivedAt))
        .limit(limit)
        .all();
    },
  };

  const customers = {
    async find(provider: BillingProviderName, providerCustomerId: string): Promise<BillingCustomerRow | null> {
      return (
        (await db
          .select()
          .from(billingCustomers)
          .where(
            and(eq(billingCustomers.provider, provider), eq(billingCustomers.providerCustomerId, providerCustomerId)),
          )
          .get()) ?? null
      );
    },

    /** Idempotent on (provider, provider customer id): the first attribution stands. */
    async upsert(input: {
      provider: BillingProviderName;
      providerCustomerId: string;
      subject: SubjectRef;
      email?: string | null;
    }): Promise<BillingCustomerRow> {
      const now = Date.now();
      await db
        .insert(billingCustomers)
        .values({
          id: crypto.randomUUID(),
          provider: input.provider,
          providerCustomerId: input.providerCustomerId,
          subject: input.subject.subject,
          communityId: input.subject.subject === "community" ? input.subject.communityId : null,
          userId: input.subject.userId,
          email: input.email ?? null,
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing({ target: [billingCustomers.provider, billingCustomers.providerCustomerId] });
      const row = await customers.find(input.provider, input.providerCustomerId);
      if (!row) throw new Error(`Billing customer ${input.provider}/${input.providerCustomerId} vanished.`);
      return row;
    },

    /** The subject's customers at every provider, newest first. */
    forSubject(subject: SubjectRef): Promise<BillingCustomerRow[]> {
      return db
        .select()
        .from(billingCustomers)
        .where(customerFilter(subject))
        .orderBy(desc(billingCustomers.createdAt))
        .all();
    },

    async byId(id: string): Promise<BillingCustomerRow | null> {
      return (await db.select().from(billingCustomers).where(eq(billingCustomers.id, id)).get()) ?? null;
    },
  };

  const subscriptionStore = {
    async find(provider: BillingProviderName, providerSubscriptionId: string): Promise<SubscriptionRow | null> {
      return (
        (await db
          .select()
          .from(subscriptions)
          .where(
            and(eq(subscriptions.provider, provider), eq(subscriptions.providerSubscriptionId, providerSubscriptionId)),
          )
          .get()) ?? null
      );
    },

    async byId(id: string): Promise<SubscriptionRow | null> {
      return (await db.select().from(subscriptions).where(eq(subscriptions.id, id)).get()) ?? null;
    },

    forSubject(subject: SubjectRef): Promise<SubscriptionRow[]> {
      return db.select().from(subscriptions).where(subjectFilter(subject)).orderBy(desc(subscriptions.createdAt)).all();
    },

    /** Inserts or moves a subscription to `state` (only if no newer event was applied meanwhile). */
    async save(input: {
      provider: BillingProviderName;
      providerSubscriptionId: string;
      subject: SubjectRef;
      customerId: string;
      state: SubscriptionState;
    }): Promise<void> {
      const now = Date.now();
      const { state } = input;
      const values = {
        status: state.status,
        plan: state.plan,
        interval: state.interval,
        currentPeriodEnd: state.currentPeriodEnd,
        cancelAtPeriodEnd: state.cancelAtPeriodEnd,
        cancelAt: state.cancelAt,
        endedAt: state.endedAt,
        trialEnd: state.trialEnd,
        pastDueSince: state.pastDueSince,
        pendingPlan: state.pendingPlan,
        lastEventAt: state.lastEventAt,
        updatedAt: now,
      };
      await db
        .insert(subscriptions)
        .values({
          id: crypto.randomUUID(),
          provider: input.provider,
          providerSubscriptionId: input.providerSubscriptionId,
          subject: input.subject.subject,
          communityId: input.subject.subject === "community" ? input.subject.communityId : null,
          userId: input.subject.userId,
          customerId: input.customerId,
          notices: {},
          createdAt: now,
          ...values,
        })
        .onConflictDoUpdate({
          target: [subscriptions.provider, subscriptions.providerSubscriptionId],
          set: values,
          // Two deliveries racing: the older snapshot must not overwrite the newer one.
          setWhere: sql`${subscriptions.lastEventAt} <= ${state.lastEventAt}`,
        });
    },

    /** Records notices as sent (merged into the JSON object, so concurrent notices do not overwrite each other). */
    async recordNotices(id: string, keys: readonly string[], now: number): Promise<void> {
      if (keys.length === 0) return;
      const patch = JSON.stringify(Object.fromEntries(keys.map((key) => [key, now])));
      await db
        .update(subscriptions)
        .set({ notices: sql`json_patch(${subscriptions.notices}, ${patch})` })
        .where(eq(subscriptions.id, id));
    },

    /**
     * Subscriptions with something that may fall due: every running one, and
     * ended ones whose paid period or grace period ended recently.
     */
    async lifecycleCandidates(now: number, limit: number): Promise<string[]> {
      const recent = now - 2 * 24 * 60 * 60 * 1000;
      const rows = await db
        .select({ id: subscriptions.id })
        .from(subscriptions)
        .where(
          or(
            inArray(subscriptions.status, [...LIVE]),
            and(
              eq(subscriptions.status, "canceled"),
              or(gt(subscriptions.currentPeriodEnd, recent), gt(subscriptions.pastDueSince, recent - 7 * 86_400_000)),
            ),
          ),
        )
        .orderBy(asc(subscriptions.updatedAt))
        .limit(limit)
        .all();
      return rows.map((row) => row.id);
    },
  };

  const traders = {
    async plan(userId: string): Promise<{ plan: string; updatedAt: number } | null> {
      return (
        (await db
          .select({ plan: traderPlans.plan, updatedAt: traderPlans.updatedAt })
          .from(traderPlans)
          .where(eq(traderPlans.userId, userId))
          .get()) ?? null
      );
    },

    /** Applied plans of many traders at once (the executor's fan-out); missing users are on free. */
    async plans(userIds: readonly string[]): Promise<Map<string, string>> {
      const result = new Map<string, string>();
      const unique = [...new Set(userIds)];
      for (let i = 0; i < unique.length; i += MAX_PARAMS) {
        const chunk = unique.slice(i, i + MAX_PARAMS);
        const rows = await db
          .select({ userId: traderPlans.userId, plan: traderPlans.plan })
          .from(traderPlans)
          .where(inArray(traderPlans.userId, chunk))
          .all();
        for (const row of rows) result.set(row.userId, row.plan);
      }
      return result;
    },

    async setPlan(userId: string, plan: string): Promise<void> {
      const now = Date.now();
      await db
        .insert(traderPlans)
        .values({ userId, plan, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({ target: traderPlans.userId, set: { plan, updatedAt: now } });
    },

    /** The communities a user belongs to. */
    communitiesOf(userId: string): Promise<string[]> {
      return communitiesOfMember(db, userId);
    },

    /** Communities where the user trades live. */
    async liveCommunitiesOf(userId: string): Promise<string[]> {
      const rows = await db
        .select({ communityId: riskProfiles.communityId })
        .from(riskProfiles)
        .where(and(eq(riskProfiles.userId, userId), eq(riskProfiles.tradingMode, "live")))
        .all();
      return rows.map((row) => row.communityId);
    },

    /** The user's active live (non-paper) broker connections in every community, oldest first. */
    liveConnectionsOf(userId: string): Promise<{ id: string; communityId: string; createdAt: number }[]> {
      return db
        .select({
          id: brokerConnections.id,
          communityId: brokerConnections.communityId,
          createdAt: brokerConnections.createdAt,
        })
        .from(brokerConnections)
        .where(
          and(
            eq(brokerConnections.userId, userId),
            eq(brokerConnections.status, "active"),
            eq(brokerConnections.isPaper, false),
            ne(brokerConnections.broker, "paper"),
          ),
        )
        .orderBy(asc(brokerConnections.createdAt), asc(brokerConnections.id))
        .all();
    },
  };

  const people = {
    async userExists(userId: string): Promise<boolean> {
      return (await db.select({ id: users.id }).from(users).where(eq(users.id, userId)).get()) !== undefined;
    },

    async community(
      communityId: string,
    ): Promise<{ name: string; ownerUserId: string | null; tier: string; updatedAt: number } | null> {
      return (
        (await db
          .select({
            name: communities.name,
            ownerUserId: communities.ownerUserId,
            tier: communities.tier,
            updatedAt: communities.updatedAt,
          })
          .from(communities)
          .where(eq(communities.id, communityId))
          .get()) ?? null
      );
    },
  };

  const linkClaims = {
    /** Claims a single-use link: true the first time, false when it was claimed before. */
    async claim(jti: string, action: string, expiresAt: number, now: number): Promise<boolean> {
      const inserted = await db
        .insert(billingLinkClaims)
        .values({ jti, action, claimedAt: now, expiresAt })
        .onConflictDoNothing({ target: billingLinkClaims.jti })
        .returning({ jti: billingLinkClaims.jti });
      return inserted.length > 0;
    },

    /** Claims of links that have expired anyway (a replay is refused as expired). */
    async purgeExpired(now: number): Promise<void> {
      await db.delete(billingLinkClaims).where(lt(billingLinkClaims.expiresAt, now));
    },
  };

  return { webhooks, customers, subscriptions: subscriptionStore, traders, people, linkClaims };
}

export type BillingDirectory = ReturnType<typeof billingDirectory>;
