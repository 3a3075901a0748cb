import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { type EventSink, orderUpdated } from "../../shared/execution/events";
import type { OrderRow } from "../../shared/execution/orders";
import type { OrderSubmissionOutcome } from "../../shared/execution/outcomes";
import type { Logger } from "../../shared/logging";
import { nextFollowUpAt } from "../../shared/orders/timing";
import type { ExecutorLocalState } from "./local-state";
import { type OrderBadges, subjectOf } from "./order-badges";
import { type OrderFlowContext, publishOrder } from "./order-flow";
import { sendOrderMessages } from "./outbox";
import type { PaperDesk } from "./paper-desk";

export interface OrderFlowParts {
  env(): Env;
  events: EventSink;
  local: ExecutorLocalState;
  paper: PaperDesk;
  badges: OrderBadges;
  logger: Logger;
  scheduleAlarm(): Promise<void>;
  /** Keeps the object alive for work that finishes after the call (the alarm's rescheduling). */
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * What an order's life (`order-flow.ts`) needs from the executor, for one member: their paper broker, the
 * reservations, fill tracking, the queues and the member's order messages (badged, through the one DM sender).
 * Also keeps the sends under way in this object's memory, so a second copy of an order's message waits for the
 * first instead of sending again.
 */
export class OrderFlows {
  private readonly sending = new Map<string, Promise<OrderSubmissionOutcome>>();

  constructor(private readonly parts: OrderFlowParts) {}

  for(communityId: string, tenant: TenantRepository, userId: string): OrderFlowContext {
    const { local, paper } = this.parts;
    const logger = this.parts.logger.child({ communityId });
    return {
      communityId,
      tenant,
      adapter: paper.adapterFor(userId),
      guard: null,
      logger,
      sink: this.parts.events,
      release: (ids) => local.release(ids),
      track: (order) => this.track(order),
      untrack: (orderId) => local.untrack(orderId),
      sendOnce: (orderId, send) => this.sendOnce(orderId, send),
      enqueue: (orders) => sendOrderMessages(this.parts.env().ORDER_QUEUE, communityId, orders),
      notifyMember: (order, event, text) => this.parts.badges.tell(communityId, subjectOf(order), event, text),
      now: () => Date.now(),
    };
  }

  /** Publishes an order's change to its member's audience. */
  publish(tenant: TenantRepository, order: OrderRow): Promise<void> {
    return publishOrder(this.for(tenant.communityId, tenant, order.userId), order);
  }

  /** Publishes each order's change to its member's audience, as one batch: after a bulk cancel. */
  publishAll(tenant: TenantRepository, orders: readonly OrderRow[]): Promise<void> {
    const now = Date.now();
    return this.parts.events.publishMany(orders.map((order) => orderUpdated(tenant.communityId, order, now)));
  }

  /** Settles once every send under way in this object now has settled (however it ended). */
  async sendsSettled(): Promise<void> {
    await Promise.allSettled([...this.sending.values()]);
  }

  /** Schedules the order's next follow-up (1, 2, 5, 10, 30 s, then each minute), or ends its tracking. */
  private track(order: OrderRow): void {
    const submittedAt = order.submittedAt ?? Date.now();
    const next = nextFollowUpAt(submittedAt, Date.now());
    if (next === null) {
      this.parts.local.untrack(order.id);
      return;
    }
    this.parts.local.track(order, submittedAt, next);
    this.parts.waitUntil(this.parts.scheduleAlarm());
  }

  private async sendOnce(
    orderId: string,
    send: () => Promise<OrderSubmissionOutcome>,
  ): Promise<OrderSubmissionOutcome> {
    const running = this.sending.get(orderId);
    if (running) {
      await running.catch(() => undefined);
      return { outcome: "done", note: "sent by another delivery of the same order" };
    }
    const sent = send();
    this.sending.set(orderId, sent);
    try {
      return await sent;
    } finally {
      this.sending.delete(orderId);
    }
  }
}
