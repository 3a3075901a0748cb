import {
  and,
  asc,
  count,
  countDistinct,
  desc,
  eq,
  gt,
  gte,
  inArray,
  isNotNull,
  notExists,
  notInArray,
  or,
  type Placeholder,
  type SQL,
  sql,
} from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import {
  fills,
  follows,
  memberships,
  orderEvents,
  orders,
  positions,
  riskProfiles,
  signalProviders,
  signals,
} from "../../../shared/db/schema";
import type {
  FillRow,
  Follower,
  NewOrder,
  OrderEventRow,
  OrderRow,
  PositionRow,
} from "../../../shared/execution/orders";
import { once } from "../../../shared/once";
import { ENTRY_LEG } from "../../../shared/orders/legs";
import {
  assertTransition,
  type OrderStatus,
  UNSETTLED_STATUSES,
  WORKING_STATUSES,
} from "../../../shared/orders/state-machine";
import { rowOf, setClauseOf } from "../raw-rows";
import type { TenantScope } from "./scope";

/**
 * The execution state of one community in D1: followers, orders with their
 * event history, fills and positions. The CommunityExecutor is the only
 * writer; every statement here is scoped to the scope's community.
 */

export interface OrderTransition {
  from: readonly OrderStatus[];
  to: OrderStatus;
  cause: string;
  data?: Record<string, unknown>;
  /** Reconciliation only: a fill reported after we marked the order canceled. */
  adoptLateFill?: boolean;
  patch?: Partial<
    Pick<
      OrderRow,
      | "brokerOrderId"
      | "statusReason"
      | "filledQuantity"
      | "averageFillPrice"
      | "attempts"
      | "submittedAt"
      | "nextCheckAt"
      | "staleFlaggedAt"
    >
  >;
}

/** Rows per bulk statement: each insert binds one JSON parameter, far below D1's 100-parameter limit. */
const BULK_ROWS = 400;

export function executionRepository(scope: TenantScope) {
  const { db, communityId } = scope;
  const orderOf = (orderId: string | Placeholder) => and(eq(orders.communityId, communityId), eq(orders.id, orderId));
  // The hottest reads (every follow-up and state change) are built once per repository: building a query with all
  // of its columns was a large share of the executor's CPU in the webhook intake bench's profile.
  const orderById = once(() =>
    db
      .select()
      .from(orders)
      .where(orderOf(sql.placeholder("orderId")))
      .prepare(),
  );
  const ordersByIds = once(() =>
    db
      .select()
      .from(orders)
      .where(
        and(
          eq(orders.communityId, communityId),
          inArray(orders.id, sql`(select value from json_each(${sql.placeholder("orderIds")}))`),
        ),
      )
      .prepare(),
  );

  const d1 = db.$client;

  function insertOrderChunk(chunk: readonly NewOrder[], now: number): D1PreparedStatement[] {
    const payload = JSON.stringify(chunk.map((o) => ({ ...o, intent: JSON.stringify(o.intent) })));
    // The events need a few fields only: the orders' full intents are not parsed a second time.
    const events = JSON.stringify(
      chunk.map((o) => ({ id: o.id, eventId: queuedEventId(o.id), cause: o.cause, leg: o.leg, quantity: o.quantity })),
    );
    return [
      d1
        .prepare(
          `insert or ignore into orders (id, community_id, signal_id, user_id, account_ref, broker, client_order_id, leg,
            parent_order_id, symbol, asset_class, intent, side, order_type, quantity, limit_price, stop_price, status,
            created_at, updated_at)
          select j.value ->> 'id', ?1, j.value ->> 'signalId', j.value ->> 'userId', j.value ->> 'accountRef',
            j.value ->> 'broker', j.value ->> 'clientOrderId', j.value ->> 'leg', j.value ->> 'parentOrderId',
            j.value ->> 'symbol', j.value ->> 'assetClass', j.value ->> 'intent', j.value ->> 'side',
            j.value ->> 'orderType', j.value ->> 'quantity', j.value ->> 'limitPrice', j.value ->> 'stopPrice',
            'queued', ?3, ?3
          from json_each(?2) j`,
        )
        .bind(communityId, payload, now),
      d1
        .prepare(
          `insert or ignore into order_events (id, community_id, order_id, from_status, to_status, cause, data, created_at)
          select j.value ->> 'eventId', ?1, j.value ->> 'id', null, 'queued', j.value ->> 'cause',
            json_object('leg', j.value ->> 'leg', 'quantity', j.value ->> 'quantity'), ?3
          from json_each(?2) j`,
        )
        .bind(communityId, events, now),
    ];
  }

  const sent = alias(orders, "sent");
  /** The orders of a signal that left `queued` for a broker: anything but queued, or canceled before sending. */
  const sentOrdersOf = (signalId: string) =>
    db
      .select({ id: sent.id })
      .from(sent)
      .where(
        and(
          eq(sent.communityId, communityId),
          eq(sent.signalId, signalId),
          or(
            notInArray(sent.status, ["queued", "canceled"]),
            isNotNull(sent.brokerOrderId),
            isNotNull(sent.submittedAt),
          ),
        ),
      );

  const repository = {
    /** Enabled followers of a provider, with their trading mode, risk settings and standing (suspension, roles). */
    async followersOf(providerUserId: string): Promise<Follower[]> {
      const rows = await db
        .select({
          userId: follows.followerUserId,
          sizingMode: follows.sizingMode,
          amount: follows.amount,
          mode: follows.mode,
          exits: follows.exits,
          tradingMode: riskProfiles.tradingMode,
          riskSettings: riskProfiles.settings,
          skipNotices: riskProfiles.skipNotices,
          suspendedAt: memberships.suspendedAt,
          suspendedReason: memberships.suspendedReason,
          discordRoleIds: memberships.discordRoleIds,
        })
        .from(follows)
        .leftJoin(
          riskProfiles,
          and(eq(riskProfiles.communityId, follows.communityId), eq(riskProfiles.userId, follows.followerUserId)),
        )
        .leftJoin(
          memberships,
          and(eq(memberships.communityId, follows.communityId), eq(memberships.userId, follows.followerUserId)),
        )
        .where(
          and(
            eq(follows.communityId, communityId),
            eq(follows.providerUserId, providerUserId),
            eq(follows.enabled, true),
          ),
        )
        .orderBy(asc(follows.followerUserId))
        .all();
      return rows.map(({ suspendedAt, suspendedReason, discordRoleIds, ...r }) => ({
        ...r,
        tradingMode: r.tradingMode ?? "paper",
        riskSettings: r.riskSettings ?? {},
        skipNotices: r.skipNotices ?? "each",
        standing: { suspendedAt, suspendedReason, discordRoleIds },
      }));
    },

    /** Inserts orders (idempotent by client order id) with their first event, in few statements. */
    async insertOrders(newOrders: readonly NewOrder[], now = Date.now()): Promise<void> {
      const statements: D1PreparedStatement[] = [];
      for (let i = 0; i < newOrders.length; i += BULK_ROWS) {
        statements.push(...insertOrderChunk(newOrders.slice(i, i + BULK_ROWS), now));
      }
      if (statements.length > 0) await d1.batch(statements);
    },

    async getOrder(orderId: string): Promise<OrderRow | null> {
      return (await orderById().get({ orderId })) ?? null;
    },

    /** One query for any number of ids (bound as one JSON parameter), in no particular order. */
    async getOrdersByIds(orderIds: readonly string[]): Promise<OrderRow[]> {
      if (orderIds.length === 0) return [];
      return ordersByIds().all({ orderIds: JSON.stringify(orderIds) });
    },

    /**
     * Moves an order between states only from one of the expected states, and
     * records the event in the same batch. Returns the updated row, or null
     * when the order was not in an expected state (someone else moved it).
     */
    async transition(orderId: string, change: OrderTransition, now = Date.now()): Promise<OrderRow | null> {
      const current = await repository.getOrder(orderId);
      if (!current || !change.from.includes(current.status)) return null;
      assertTransition(current.status, change.to, { adoptLateFill: change.adoptLateFill });
      // The event is written only if the guarded update changed the row (same batch, same connection). Both are SQL
      // text, not built queries: every state change of every order runs them.
      const set = setClauseOf(orders, { ...change.patch, status: change.to, updatedAt: now });
      const [updated] = await d1.batch<Record<string, unknown>>([
        d1
          .prepare(
            `update orders set ${set.sql} where community_id = ? and id = ? and status = ? and updated_at = ? returning *`,
          )
          .bind(...set.params, communityId, orderId, current.status, current.updatedAt),
        // changes(): the update above moved this row (a concurrent move in the same millisecond did not).
        d1
          .prepare(
            `insert into order_events (id, community_id, order_id, from_status, to_status, cause, data, created_at)
            select ?, community_id, id, ?, status, ?, ?, updated_at from orders
            where community_id = ? and id = ? and status = ? and updated_at = ? and changes() = 1`,
          )
          .bind(
            crypto.randomUUID(),
            current.status,
            change.cause,
            JSON.stringify(change.data ?? {}),
            communityId,
            orderId,
            change.to,
            now,
          ),
      ]);
      const row = updated?.results[0];
      return row ? rowOf(orders, row) : null;
    },

    /**
     * A working trailing stop's trigger level as its broker now reports it (the level follows the best price), only
     * if the row is still as the caller read it. Returns the updated row, or null when it had moved on.
     */
    async followStopLevel(order: Pick<OrderRow, "id" | "updatedAt">, stopPrice: number, now = Date.now()) {
      const [updated] = await db
        .update(orders)
        .set({ stopPrice, updatedAt: now })
        .where(
          and(
            orderOf(order.id),
            eq(orders.orderType, "trailing_stop"),
            inArray(orders.status, [...WORKING_STATUSES]),
            eq(orders.updatedAt, order.updatedAt),
          ),
        )
        .returning();
      return updated ?? null;
    },

    /** Updates progress fields of an order without a state change (e.g. attempts, next check). */
    async touch(orderId: string, patch: OrderTransition["patch"], now = Date.now()): Promise<void> {
      await db
        .update(orders)
        .set({ ...patch, updatedAt: now })
        .where(orderOf(orderId));
    },

    /**
     * Cancels still-queued orders (all, one signal's, the given ids, or only entries), with an event each.
     * Returns the canceled orders as they now are (for their owners' live dashboards).
     */
    async cancelQueued(
      cause: string,
      filter: {
        signalId?: string;
        orderIds?: readonly string[];
        userId?: string;
        entriesOnly?: boolean;
        /** Only if no order of `signalId` ever left `queued` (none sent, filled or at a broker); else nothing. */
        noneSent?: boolean;
      } = {},
      now = Date.now(),
    ): Promise<OrderRow[]> {
      if (filter.orderIds?.length === 0) return [];
      const queuedHere = and(
        eq(orders.communityId, communityId),
        eq(orders.status, "queued"),
        filter.signalId ? eq(orders.signalId, filter.signalId) : undefined,
        filter.orderIds ? inArray(orders.id, anyOf(filter.orderIds)) : undefined,
        filter.userId ? eq(orders.userId, filter.userId) : undefined,
        filter.entriesOnly ? eq(orders.leg, ENTRY_LEG) : undefined,
        filter.noneSent && filter.signalId ? notExists(sentOrdersOf(filter.signalId)) : undefined,
      );
      const [, canceled] = await db.batch([
        db.insert(orderEvents).select(
          db
            .select({
              id: sql<string>`lower(hex(randomblob(16)))`.as("id"),
              communityId: orders.communityId,
              orderId: orders.id,
              fromStatus: orders.status,
              toStatus: sql<OrderStatus>`'canceled'`.as("to_status"),
              cause: sql<string>`${cause}`.as("cause"),
              data: sql<string>`'{}'`.as("data"),
              createdAt: sql<number>`${now}`.as("created_at"),
            })
            .from(orders)
            .where(queuedHere),
        ),
        db
          .update(orders)
          .set({ status: "canceled", statusReason: cause, updatedAt: now })
          .where(queuedHere)
          .returning(),
      ]);
      return canceled;
    },

    /** How many orders of a signal left `queued` for a broker (sent, filled, rejected, or canceled there). */
    async sentOrderCount(signalId: string): Promise<number> {
      const row = await db.select({ n: count() }).from(sentOrdersOf(signalId).as("sent_orders")).get();
      return row?.n ?? 0;
    },

    /** The status of each order that exists here, by id (in one statement per 5,000 ids). */
    async statusesOf(orderIds: readonly string[]): Promise<Map<string, OrderStatus>> {
      const statuses = new Map<string, OrderStatus>();
      for (let i = 0; i < orderIds.length; i += 5_000) {
        const rows = await db
          .select({ id: orders.id, status: orders.status })
          .from(orders)
          .where(and(eq(orders.communityId, communityId), inArray(orders.id, anyOf(orderIds.slice(i, i + 5_000)))))
          .all();
        for (const row of rows) statuses.set(row.id, row.status);
      }
      return statuses;
    },

    /** Orders still `queued` that nothing has touched since `before` (oldest first). */
    queuedSince(before: number, limit = 500): Promise<OrderRow[]> {
      return db
        .select()
        .from(orders)
        .where(
          and(eq(orders.communityId, communityId), eq(orders.status, "queued"), sql`${orders.updatedAt} < ${before}`),
        )
        .orderBy(asc(orders.updatedAt))
        .limit(limit)
        .all();
    },

    listOrders(filter: { status?: OrderStatus; userId?: string; signalId?: string; limit?: number } = {}) {
      const conditions = [eq(orders.communityId, communityId)];
      if (filter.status) conditions.push(eq(orders.status, filter.status));
      if (filter.userId) conditions.push(eq(orders.userId, filter.userId));
      if (filter.signalId) conditions.push(eq(orders.signalId, filter.signalId));
      return db
        .select()
        .from(orders)
        .where(and(...conditions))
        .orderBy(desc(orders.createdAt), asc(orders.id))
        .limit(Math.min(Math.max(filter.limit ?? 100, 1), 1000))
        .all();
    },

    /** Orders reconciliation looks at: open ones, and recent cancels and failures that a late fill could still reach. */
    reconcilable(canceledSince: number): Promise<OrderRow[]> {
      return db
        .select()
        .from(orders)
        .where(
          and(
            eq(orders.communityId, communityId),
            sql`(${inArray(orders.status, [...WORKING_STATUSES])} or (${orders.status} = 'canceled' and ${orders.brokerOrderId} is not null and ${orders.updatedAt} >= ${canceledSince}) or (${orders.status} = 'failed' and ${orders.updatedAt} >= ${canceledSince}))`,
          ),
        )
        .orderBy(asc(orders.createdAt))
        .limit(5000)
        .all();
    },

    /**
     * A member's engine-placed exits (stops and take-profits) still working on
     * one account and symbol (an option's underlying: filter by instrument key),
     * oldest first.
     */
    workingExitsOf(userId: string, accountRef: string, symbol: string): Promise<OrderRow[]> {
      return db
        .select()
        .from(orders)
        .where(
          and(
            eq(orders.communityId, communityId),
            eq(orders.userId, userId),
            eq(orders.accountRef, accountRef),
            eq(orders.symbol, symbol),
            isNotNull(orders.parentOrderId),
            inArray(orders.status, [...UNSETTLED_STATUSES]),
          ),
        )
        .orderBy(asc(orders.createdAt), asc(orders.id))
        .all();
    },

    /** Every order of a member not settled yet (queued here, or working at the broker), oldest first: for /close. */
    unsettledOrdersOf(userId: string): Promise<OrderRow[]> {
      return db
        .select()
        .from(orders)
        .where(
          and(
            eq(orders.communityId, communityId),
            eq(orders.userId, userId),
            inArray(orders.status, [...UNSETTLED_STATUSES]),
          ),
        )
        .orderBy(asc(orders.createdAt), asc(orders.id))
        .limit(1000)
        .all();
    },

    /**
     * Entries that ended with a fill (filled, or partly filled then canceled or
     * expired) since `since`, whose exits the engine places itself, but which
     * have no exit order at all: a failure between the fill and the exits.
     */
    entriesMissingExits(since: number, limit = 500): Promise<OrderRow[]> {
      return db
        .select()
        .from(orders)
        .where(
          and(
            eq(orders.communityId, communityId),
            eq(orders.leg, "entry"),
            inArray(orders.status, ["filled", "canceled", "expired"]),
            gt(orders.filledQuantity, 0),
            gte(orders.updatedAt, since),
            sql`json_extract(${orders.intent}, '$.orderClass') = 'engine'`,
            sql`not exists (select 1 from orders child where child.community_id = ${orders.communityId} and child.parent_order_id = ${orders.id})`,
          ),
        )
        .orderBy(asc(orders.updatedAt))
        .limit(limit)
        .all();
    },

    orderEvents(orderId: string): Promise<OrderEventRow[]> {
      return db
        .select()
        .from(orderEvents)
        .where(and(eq(orderEvents.communityId, communityId), eq(orderEvents.orderId, orderId)))
        .orderBy(asc(orderEvents.createdAt))
        .all();
    },

    /**
     * Records a fill once (by execution id), only for an order of this community. Returns false when it
     * was already recorded or the order is not this community's.
     */
    async recordFill(fill: Omit<FillRow, "id" | "communityId">): Promise<boolean> {
      // SQL text, not a built query: each fill of each order runs it.
      const { results } = await d1
        .prepare(
          `insert into fills (id, community_id, order_id, user_id, execution_id, quantity, price, quote_source,
            quote_timestamp, delayed, filled_at)
          select ?, community_id, id, ?, ?, ?, ?, ?, ?, ?, ? from orders where community_id = ? and id = ?
          on conflict do nothing returning id`,
        )
        .bind(
          crypto.randomUUID(),
          fill.userId,
          fill.executionId,
          fill.quantity,
          fill.price,
          fill.quoteSource ?? null,
          fill.quoteTimestamp ?? null,
          fill.delayed ? 1 : 0,
          fill.filledAt,
          communityId,
          fill.orderId,
        )
        .run();
      return results.length > 0;
    },

    fillsOf(orderId: string): Promise<FillRow[]> {
      return db
        .select()
        .from(fills)
        .where(and(eq(fills.communityId, communityId), eq(fills.orderId, orderId)))
        .orderBy(asc(fills.filledAt))
        .all();
    },

    async upsertPosition(position: Omit<PositionRow, "communityId" | "createdAt" | "updatedAt">, now = Date.now()) {
      await db
        .insert(positions)
        .values({ communityId, ...position, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: [positions.communityId, positions.userId, positions.accountRef, positions.symbol],
          set: {
            quantity: position.quantity,
            averagePrice: position.averagePrice,
            realizedPnl: position.realizedPnl,
            unrealizedPnl: position.unrealizedPnl,
            assetClass: position.assetClass,
            updatedAt: now,
          },
        });
    },

    positionsOf(userId?: string): Promise<PositionRow[]> {
      return db
        .select()
        .from(positions)
        .where(
          userId
            ? and(eq(positions.communityId, communityId), eq(positions.userId, userId))
            : eq(positions.communityId, communityId),
        )
        .orderBy(asc(positions.userId), asc(positions.symbol))
        .all();
    },

    async setSignalOutcome(
      signalId: string,
      status: (typeof signals.$inferSelect)["status"],
      reason: string | null,
      summary: Record<string, unknown> | null,
    ): Promise<void> {
      await db
        .update(signals)
        .set({ status, statusReason: reason, summary, updatedAt: Date.now() })
        .where(and(eq(signals.communityId, communityId), eq(signals.id, signalId)));
    },

    async getSignal(signalId: string) {
      return (
        (await db
          .select()
          .from(signals)
          .where(and(eq(signals.communityId, communityId), eq(signals.id, signalId)))
          .get()) ?? null
      );
    },

    /** Operator API: the events of many orders, each order's oldest first. */
    eventsOfOrders(orderIds: readonly string[]): Promise<OrderEventRow[]> {
      if (orderIds.length === 0) return Promise.resolve([]);
      return db
        .select()
        .from(orderEvents)
        .where(and(eq(orderEvents.communityId, communityId), inArray(orderEvents.orderId, anyOf(orderIds))))
        .orderBy(asc(orderEvents.orderId), asc(orderEvents.createdAt), asc(orderEvents.id))
        .all();
    },

    /** Operator API: the fills of many orders, each order's oldest first. */
    fillsOfOrders(orderIds: readonly string[]): Promise<FillRow[]> {
      if (orderIds.length === 0) return Promise.resolve([]);
      return db
        .select()
        .from(fills)
        .where(and(eq(fills.communityId, communityId), inArray(fills.orderId, anyOf(orderIds))))
        .orderBy(asc(fills.orderId), asc(fills.filledAt), asc(fills.id))
        .all();
    },

    /**
     * Operator API: a signal's orders for one page of followers (the next
     * `limit` follower ids after `afterUserId`), ordered by follower.
     */
    signalOrdersByFollower(signalId: string, page: { afterUserId?: string; limit: number }): Promise<OrderRow[]> {
      const ofSignal = and(eq(orders.communityId, communityId), eq(orders.signalId, signalId));
      const followerPage = db
        .selectDistinct({ userId: orders.userId })
        .from(orders)
        .where(and(ofSignal, page.afterUserId === undefined ? undefined : gt(orders.userId, page.afterUserId)))
        .orderBy(asc(orders.userId))
        .limit(page.limit);
      return db
        .select()
        .from(orders)
        .where(and(ofSignal, inArray(orders.userId, followerPage)))
        .orderBy(asc(orders.userId), asc(orders.createdAt), asc(orders.leg), asc(orders.id))
        .all();
    },

    /**
     * Operator API: members by role, providers (named, or holding the provider
     * role), followers with an enabled follow, signals received since `since`,
     * and open orders (not yet in a final state).
     */
    async activityCounts(since: number) {
      const namedProvider = and(
        eq(signalProviders.communityId, communityId),
        eq(signalProviders.userId, memberships.userId),
      );
      const [roles, named, roleOnlyProviders, following, signalsSince, open] = await db.batch([
        db
          .select({ role: memberships.role, n: count() })
          .from(memberships)
          .where(eq(memberships.communityId, communityId))
          .groupBy(memberships.role),
        db.select({ n: count() }).from(signalProviders).where(eq(signalProviders.communityId, communityId)),
        db
          .select({ n: count() })
          .from(memberships)
          .where(
            and(
              eq(memberships.communityId, communityId),
              eq(memberships.role, "provider"),
              notExists(db.select({ one: sql`1` }).from(signalProviders).where(namedProvider)),
            ),
          ),
        db
          .select({ followers: countDistinct(follows.followerUserId), follows: count() })
          .from(follows)
          .where(and(eq(follows.communityId, communityId), eq(follows.enabled, true))),
        db
          .select({ n: count() })
          .from(signals)
          .where(and(eq(signals.communityId, communityId), gte(signals.createdAt, since))),
        db
          .select({ n: count() })
          .from(orders)
          .where(and(eq(orders.communityId, communityId), inArray(orders.status, [...UNSETTLED_STATUSES]))),
      ]);
      return {
        membersByRole: Object.fromEntries(roles.map((r) => [r.role, r.n])) as Partial<
          Record<(typeof memberships.$inferSelect)["role"], number>
        >,
        providers: (named[0]?.n ?? 0) + (roleOnlyProviders[0]?.n ?? 0),
        followers: following[0]?.followers ?? 0,
        enabledFollows: following[0]?.follows ?? 0,
        signalsSince: signalsSince[0]?.n ?? 0,
        openOrders: open[0]?.n ?? 0,
      };
    },
  };
  return repository;
}

/** Any number of ids as one bound parameter (D1 allows at most 100 per statement). */
const anyOf = (ids: readonly string[]): SQL => sql`(select value from json_each(${JSON.stringify(ids)}))`;

/** An order's first event (stored with it) has an id derived from the order's: a batch stored twice writes it once. */
const queuedEventId = (orderId: string) => `${orderId}:queued`;
