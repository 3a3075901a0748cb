/**
 * Order statuses (docs/architecture.md §7) and the transitions between them. Every status
 * write goes through `assertTransition`, so an out-of-order broker update or
 * a redelivered message cannot move an order backwards.
 *
 *   queued ──► submitted ──► partially_filled ──► filled
 *     │            │                │
 *     │            ├──► rejected    ├──► canceled (the remainder)
 *     │            ├──► canceled    └──► expired  (a day order's remainder)
 *     │            └──► expired
 *     ├──► canceled   (kill switch, before it reached the broker)
 *     ├──► rejected   (a permanent error from the broker on submission)
 *     └──► failed     (retries exhausted, dead-lettered)
 *
 * Adopting a late fill: a cancel can race a fill at the broker. When
 * reconciliation finds that an order we recorded as canceled in fact (partly)
 * filled, it records the truth with `{ adoptLateFill: true }`, allowing
 * canceled → partially_filled | filled. Only reconciliation passes that flag.
 */
import { ConflictError } from "../errors";

/** Every status an order can have: the one list (the D1 schema's `orders.status` column takes it from here). */
export const ORDER_STATUSES = [
  "queued",
  "submitted",
  "partially_filled",
  "filled",
  "rejected",
  "canceled",
  "expired",
  "failed",
] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Final: nothing moves the order any more (but reconciliation adopting a late fill, below). */
export const TERMINAL_STATUSES: readonly OrderStatus[] = ["filled", "rejected", "canceled", "expired", "failed"];

/**
 * Not final yet: queued here (engine-placed exits waiting for their entry's fill included) or working at the broker.
 * What holds a reservation, what `/orders open` lists, what a position's exits are fitted among.
 */
export const UNSETTLED_STATUSES: readonly OrderStatus[] = ["queued", "submitted", "partially_filled"];

/** Working at the broker: sent and not final. What fill tracking and reconciliation poll, what a cancel reaches. */
export const WORKING_STATUSES: readonly OrderStatus[] = ["submitted", "partially_filled"];

/** Ordinary transitions. `partially_filled → partially_filled` records another partial fill. */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  queued: ["submitted", "canceled", "rejected", "failed"],
  submitted: ["partially_filled", "filled", "canceled", "expired", "rejected"],
  partially_filled: ["partially_filled", "filled", "canceled", "expired"],
  filled: [],
  rejected: [],
  canceled: [],
  expired: [],
  failed: [],
};

/** Only with `{ adoptLateFill: true }`, used by reconciliation. */
export const LATE_FILL_TRANSITIONS: Readonly<Partial<Record<OrderStatus, readonly OrderStatus[]>>> = {
  canceled: ["partially_filled", "filled"],
  // A dead-lettered order whose last attempt reached the broker after all (an unknown outcome).
  failed: ["submitted", "partially_filled", "filled"],
};

export interface TransitionOptions {
  adoptLateFill?: boolean;
}

export function isOrderStatus(value: string): value is OrderStatus {
  return (ORDER_STATUSES as readonly string[]).includes(value);
}

export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function isUnsettled(status: OrderStatus): boolean {
  return UNSETTLED_STATUSES.includes(status);
}

export function isWorking(status: OrderStatus): boolean {
  return WORKING_STATUSES.includes(status);
}

export function canTransition(from: OrderStatus, to: OrderStatus, options: TransitionOptions = {}): boolean {
  if (ORDER_TRANSITIONS[from].includes(to)) return true;
  return options.adoptLateFill === true && (LATE_FILL_TRANSITIONS[from]?.includes(to) ?? false);
}

export class IllegalOrderTransitionError extends ConflictError {
  readonly from: OrderStatus;
  readonly to: OrderStatus;
  constructor(from: OrderStatus, to: OrderStatus) {
    super(`An order cannot go from ${from} to ${to}.`, "ILLEGAL_ORDER_TRANSITION");
    this.from = from;
    this.to = to;
  }
}

/** Throws a 409 `ILLEGAL_ORDER_TRANSITION` unless `from → to` is allowed. */
export function assertTransition(from: OrderStatus, to: OrderStatus, options: TransitionOptions = {}): void {
  if (!canTransition(from, to, options)) throw new IllegalOrderTransitionError(from, to);
}
