import type { Audience, EventType } from "../realtime/protocol";

/**
 * Events the execution engine publishes to a community's RealtimeHub
 * (docs/architecture.md §7.5; `shared/realtime/protocol.ts` says where each
 * goes). `audience` says who may see it: the order's owner, the community's
 * admins for aggregates, or every member.
 */
export type ExecutionEventType = EventType;

export interface ExecutionEvent {
  type: ExecutionEventType;
  communityId: string;
  audience: Audience;
  data: Record<string, unknown>;
  at: number;
}

/**
 * Where execution events go. Publishing never waits for delivery and never
 * fails: a lost dashboard update must not slow or break the money path.
 */
export interface EventSink {
  publish(event: ExecutionEvent): Promise<void>;
  /** Many events at once (a fan-out's orders): one call to the hub, in this order. */
  publishMany(events: readonly ExecutionEvent[]): Promise<void>;
}

/** The fields of an order that its `order.updated` event shows. */
export interface OrderSnapshot {
  id: string;
  userId: string;
  status: string;
  symbol: string;
  leg: string;
  filledQuantity: number;
  averageFillPrice: number | null;
}

/** `order.updated` for the order's owner (design: a member's own orders go to that member only). */
export function orderUpdated(communityId: string, order: OrderSnapshot, at: number): ExecutionEvent {
  return {
    type: "order.updated",
    communityId,
    audience: { userId: order.userId },
    data: {
      orderId: order.id,
      status: order.status,
      symbol: order.symbol,
      leg: order.leg,
      filledQuantity: order.filledQuantity,
      averageFillPrice: order.averageFillPrice,
    },
    at,
  };
}
