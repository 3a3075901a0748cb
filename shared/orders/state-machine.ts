/**
 * Order states (design.md §7) and the transitions between them. Every status
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

export const ORDER_STATES = [
  "queued",
  "submitted",
  "partially_filled",
  "filled",
  "rejected",
  "canceled",
  "expired",
  "failed",
] as const;

export type OrderState = (typeof ORDER_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<OrderState> = new Set([
  "filled",
  "rejected",
  "canceled",
  "expired",
  "failed",
]);

export const OPEN_STATES: ReadonlySet<OrderState> = new Set(["queued", "submitted", "partially_filled"]);

/** Ordinary transitions. `partially_filled → partially_filled` records another partial fill. */
export const ORDER_TRANSITIONS: Readonly<Record<OrderState, readonly OrderState[]>> = {
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
export const LATE_FILL_TRANSITIONS: Readonly<Partial<Record<OrderState, readonly OrderState[]>>> = {
  canceled: ["partially_filled", "filled"],
  // A dead-lettered order whose last attempt reached the broker after all (an unknown outcome).
  failed: ["submitted", "partially_filled", "filled"],
};

export interface TransitionOptions {
  adoptLateFill?: boolean;
}

export function isOrderState(value: string): value is OrderState {
  return (ORDER_STATES as readonly string[]).includes(value);
}

export function isTerminal(state: OrderState): boolean {
  return TERMINAL_STATES.has(state);
}

export function canTransition(from: OrderState, to: OrderState, options: TransitionOptions = {}): boolean {
  if (ORDER_TRANSITIONS[from].includes(to)) return true;
  return options.adoptLateFill === true && (LATE_FILL_TRANSITIONS[from]?.includes(to) ?? false);
}

export class IllegalOrderTransitionError extends ConflictError {
  readonly from: OrderState;
  readonly to: OrderState;
  constructor(from: OrderState, to: OrderState) {
    super(`An order cannot go from ${from} to ${to}.`, "ILLEGAL_ORDER_TRANSITION");
    this.from = from;
    this.to = to;
  }
}

/** Throws a 409 `ILLEGAL_ORDER_TRANSITION` unless `from → to` is allowed. */
export function assertTransition(from: OrderState, to: OrderState, options: TransitionOptions = {}): void {
  if (!canTransition(from, to, options)) throw new IllegalOrderTransitionError(from, to);
}
