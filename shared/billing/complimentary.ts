import { TRADER_PLAN_IDS, type TraderPlanId } from "./plans";

/**
 * Operators' complimentary trader plans: which plans may be granted and how long for. Whether a grant applies at a
 * moment is `applyingTraderPlan()` (entitlements.ts).
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** Free is what everyone has without paying, so it is never granted. */
export const GRANTABLE_TRADER_PLANS = TRADER_PLAN_IDS.filter((plan) => plan !== "free") as Exclude<
  TraderPlanId,
  "free"
>[];

/** A grant ends at most two years (730 days) from when it is made; a longer gift is a decision to make again later. */
export const MAX_GRANT_MS = 730 * DAY_MS;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * When a grant given as `until` stops applying (ms, exclusive): a date (`2027-01-31`) covers that whole UTC day, so
 * the grant ends at the next midnight UTC; a timestamp ends it at that instant. NaN when the text is neither.
 */
export function grantEndOf(until: string): number {
  if (DATE_ONLY.test(until)) return Date.parse(`${until}T00:00:00Z`) + DAY_MS;
  return Date.parse(until);
}
