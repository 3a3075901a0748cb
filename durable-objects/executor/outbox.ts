import { MAX_SEND_BATCH, type OrderSubmission } from "../../shared/execution/messages";
import type { NewOrder, OrderRow } from "../../shared/execution/orders";
import { clientOrderId } from "../../shared/orders/client-order-id";

/** An order as the executor decided it; its client order id is derived (deterministically) unless already known. */
export type PlannedOrder = Omit<NewOrder, "clientOrderId"> & { clientOrderId?: string };

/** A member whose daily loss limit or circuit breaker tripped while an order batch was planned. */
export interface PausedMember {
  userId: string;
  reason: string;
  until: number;
  /** The circuit breaker locked the account: audited, and the community's admins are alerted. */
  locked?: boolean;
  /** The day's loss when it tripped, in % of start-of-day equity. */
  lossPercent?: number;
  /** The limit that tripped, in %. */
  limitPercent?: number;
}

/** A direct message a member is owed about a decision (a copy not made), sent badged. */
export interface MemberNotice {
  userId: string;
  /** Idempotency key of the DM. */
  key: string;
  text: string;
  /** The account the copy would have traded in (for the badge). */
  mode?: "paper" | "live";
}

/**
 * One unit of the transactional outbox: orders decided (and reserved) but not
 * yet both stored in D1 (`planned`) and announced on ORDER_QUEUE (`stored`).
 * The batch is written in the same synchronous step as the reservations, and
 * removed only once every message is sent, so a failure or restart in between
 * leaves it here for the sweeper instead of stranding its orders.
 */
export interface OutboxBatch {
  id: number;
  communityId: string;
  signalId: string | null;
  phase: "planned" | "stored";
  orders: PlannedOrder[];
  paused: PausedMember[];
  notices: MemberNotice[];
  createdAt: number;
  dueAt: number;
}

/** Batches with whether they were marked stored after staging. */
const BATCHES = "select o.*, s.id is not null as stored from outbox o left join outbox_stored s on s.id = o.id";

/** How long a batch belongs to the call that wrote it before the sweeper takes it over. */
export const OUTBOX_GRACE_MS = 30_000;

export class OrderOutbox {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      `create table if not exists outbox (id integer primary key autoincrement, community_id text not null,
        signal_id text, phase text not null, orders text not null, paused text not null default '[]',
        created_at integer not null, due_at integer not null)`,
    );
    sql.exec("create index if not exists outbox_due on outbox (due_at)");
    const columns = sql
      .exec<{ name: string }>("pragma table_info(outbox)")
      .toArray()
      .map((c) => c.name);
    if (!columns.includes("notices")) sql.exec("alter table outbox add column notices text not null default '[]'");
    sql.exec("create table if not exists resent (order_id text primary key, at integer not null)");
    // A batch's orders are one large row: marking it stored there would rewrite the whole row, so it is marked here.
    sql.exec("create table if not exists outbox_stored (id integer primary key)");
  }

  /** Of these orders, those that were sent another message after `since` (by the reconciliation backstop). */
  resentSince(orderIds: readonly string[], since: number): Set<string> {
    const resent = new Set<string>();
    for (const id of orderIds) {
      const [row] = this.sql.exec<{ at: number }>("select at from resent where order_id = ?", id).toArray();
      if (row && row.at >= since) resent.add(id);
    }
    return resent;
  }

  recordResent(orderIds: readonly string[], now: number): void {
    for (const id of orderIds) {
      this.sql.exec(
        "insert into resent (order_id, at) values (?, ?) on conflict(order_id) do update set at = excluded.at",
        id,
        now,
      );
    }
    this.sql.exec("delete from resent where at < ?", now - 7 * 24 * 3600_000);
  }

  /** Records orders just decided; call it in the same synchronous step as their reservations. */
  stage(
    batch: Pick<OutboxBatch, "communityId" | "signalId" | "phase" | "orders" | "paused"> &
      Partial<Pick<OutboxBatch, "notices">>,
    now: number,
  ): OutboxBatch {
    const dueAt = now + OUTBOX_GRACE_MS;
    const notices = batch.notices ?? [];
    const [row] = this.sql
      .exec<{ id: number }>(
        "insert into outbox (community_id, signal_id, phase, orders, paused, notices, created_at, due_at) values (?, ?, ?, ?, ?, ?, ?, ?) returning id",
        batch.communityId,
        batch.signalId,
        batch.phase,
        JSON.stringify(batch.orders),
        JSON.stringify(batch.paused),
        JSON.stringify(notices),
        now,
        dueAt,
      )
      .toArray();
    return { ...batch, notices, id: row?.id ?? 0, createdAt: now, dueAt };
  }

  markStored(id: number): void {
    this.sql.exec("insert or ignore into outbox_stored (id) values (?)", id);
  }

  replaceOrders(id: number, orders: readonly PlannedOrder[]): void {
    this.sql.exec("update outbox set orders = ? where id = ?", JSON.stringify(orders), id);
  }

  remove(id: number): void {
    this.sql.exec("delete from outbox where id = ?", id);
    this.sql.exec("delete from outbox_stored where id = ?", id);
  }

  /** Puts a batch back for a later sweep (after a failed attempt). */
  postpone(id: number, until: number): void {
    this.sql.exec("update outbox set due_at = ? where id = ?", until, id);
  }

  /** Batches of one signal, oldest first (a resumed fan-out finishes them before planning more). */
  ofSignal(signalId: string): OutboxBatch[] {
    return this.rows(`${BATCHES} where o.signal_id = ? order by o.id`, signalId);
  }

  due(now: number, limit = 50): OutboxBatch[] {
    return this.rows(`${BATCHES} where o.due_at <= ? order by o.due_at limit ?`, now, limit);
  }

  nextDue(): number | null {
    const [row] = this.sql.exec<{ due: number | null }>("select min(due_at) as due from outbox").toArray();
    return row?.due ?? null;
  }

  private rows(query: string, ...bindings: unknown[]): OutboxBatch[] {
    return this.sql
      .exec<{
        id: number;
        community_id: string;
        signal_id: string | null;
        phase: string;
        stored: number;
        orders: string;
        paused: string;
        notices: string;
        created_at: number;
        due_at: number;
      }>(query, ...bindings)
      .toArray()
      .map((r) => ({
        id: r.id,
        communityId: r.community_id,
        signalId: r.signal_id,
        phase: r.phase === "stored" || r.stored === 1 ? "stored" : "planned",
        orders: JSON.parse(r.orders) as PlannedOrder[],
        paused: JSON.parse(r.paused) as PausedMember[],
        notices: JSON.parse(r.notices) as MemberNotice[],
        createdAt: r.created_at,
        dueAt: r.due_at,
      }));
  }
}

/** Client order ids for planned orders: derived from community, signal, member and leg, so every retry agrees. */
export function withClientOrderIds(communityId: string, orders: readonly PlannedOrder[]): Promise<NewOrder[]> {
  return Promise.all(
    orders.map(async (order) => ({
      ...order,
      clientOrderId:
        order.clientOrderId ??
        (await clientOrderId({
          communityId,
          signalId: order.signalId ?? order.id,
          followerId: order.userId,
          leg: order.leg,
        })),
    })),
  );
}

/** One ORDER_QUEUE message per order, in `sendBatch` calls of at most 100, ten calls at a time. */
export async function sendOrderMessages(
  queue: Queue,
  communityId: string,
  orders: readonly Pick<NewOrder, "id" | "clientOrderId">[],
): Promise<void> {
  const batches: MessageSendRequest<OrderSubmission>[][] = [];
  for (let i = 0; i < orders.length; i += MAX_SEND_BATCH) {
    batches.push(
      orders
        .slice(i, i + MAX_SEND_BATCH)
        .map((o) => ({ body: { communityId, orderId: o.id, clientOrderId: o.clientOrderId }, contentType: "json" })),
    );
  }
  const PARALLEL = 10;
  for (let i = 0; i < batches.length; i += PARALLEL) {
    await Promise.all(batches.slice(i, i + PARALLEL).map((batch) => queue.sendBatch(batch)));
  }
}

/** A stored order the member just confirmed, as an outbox entry to send (no longer awaiting confirmation). */
export function confirmedEntry(order: OrderRow): PlannedOrder {
  return {
    id: order.id,
    clientOrderId: order.clientOrderId,
    signalId: order.signalId,
    userId: order.userId,
    accountRef: order.accountRef,
    broker: order.broker,
    leg: order.leg,
    parentOrderId: order.parentOrderId,
    symbol: order.symbol,
    assetClass: order.assetClass,
    intent: { ...order.intent, awaitingConfirmation: false },
    side: order.side,
    orderType: order.orderType,
    quantity: order.quantity,
    limitPrice: order.limitPrice,
    stopPrice: order.stopPrice,
    cause: "confirmed_by_member",
  };
}
