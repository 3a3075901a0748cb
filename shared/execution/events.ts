/**
 * Events the execution engine publishes to a community's RealtimeHub
 * (docs/architecture.md §7.5). `audience` says who may see it: the order's owner, or the
 * community's admins for aggregates.
 */
export type ExecutionEventType =
  | "order.updated"
  | "position.updated"
  | "signal.accepted"
  | "killswitch.changed"
  | "notification";

export interface ExecutionEvent {
  type: ExecutionEventType;
  communityId: string;
  audience: { userId: string } | "admins" | "community";
  data: Record<string, unknown>;
  at: number;
}

export interface EventSink {
  publish(event: ExecutionEvent): Promise<void>;
}
