/**
 * When the engine looks at an open order again, and when a market order's
 * unfilled remainder is given up.
 */
import { isWorking, type OrderStatus } from "./state-machine";

/** How long after we cancel (or fail) an order a late fill at the broker is still looked for. */
export const LATE_FILL_WINDOW_MS = 24 * 3600_000;

/** A queued order untouched this long may have lost its message: reconciliation sends it another. */
export const QUEUED_WITHOUT_MESSAGE_MS = 10 * 60_000;

/** A market order still (partly) unfilled this long after submission has its remainder canceled. */
export const MARKET_REMAINDER_TIMEOUT_MS = 5 * 60_000;

export function isMarketRemainderExpired(
  order: { orderType: string; status: OrderStatus; submittedAt: number | null },
  now: number,
): boolean {
  if (order.orderType !== "market" || order.submittedAt === null) return false;
  if (!isWorking(order.status)) return false;
  return now - order.submittedAt >= MARKET_REMAINDER_TIMEOUT_MS;
}

/** 1, 2, 5, 10 and 30 s after submission, then every minute up to 15 minutes (docs/architecture.md §7). */
export const FOLLOW_UP_OFFSETS_MS: readonly number[] = [
  1_000,
  2_000,
  5_000,
  10_000,
  30_000,
  ...Array.from({ length: 15 }, (_, i) => (i + 1) * 60_000),
];

/** The next follow-up strictly after `now`, or null once the schedule is over (the reconciliation cron takes over). */
export function nextFollowUpAt(submittedAt: number, now: number): number | null {
  for (const offset of FOLLOW_UP_OFFSETS_MS) {
    if (submittedAt + offset > now) return submittedAt + offset;
  }
  return null;
}
