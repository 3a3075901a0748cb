import { z } from "zod";
import { fromLots, roundDownToLot, toLots } from "../risk/instruments";

/**
 * A provider's trade-management message as the executor takes it
 * (`CommunityExecutor.manageTrades`), what it answers, and the pure rules for
 * how much a management close or a moved stop may hold. Specified in
 * openspec/specs/trade-management/spec.md.
 */

const StopLevelSchema = z.union([
  z.object({ price: z.number().positive().finite() }).strict(),
  z.object({ breakeven: z.literal(true) }).strict(),
]);

const TrailDistanceSchema = z.union([
  z.object({ percent: z.number().positive().lt(100) }).strict(),
  z.object({ amount: z.number().positive().finite() }).strict(),
]);

export const TradeManagementSchema = z.object({
  stop: StopLevelSchema.nullable(),
  trail: TrailDistanceSchema.nullish(),
  cancelEntries: z.boolean(),
  closePercent: z.number().gt(0).max(100).nullable(),
  symbol: z.string().max(40).nullable(),
  reported: z.boolean(),
});

export const ManageTradesInputSchema = z.object({
  communityId: z.string().min(1),
  providerUserId: z.string().min(1),
  /** The management message's id: the idempotency key (a replayed dispatch never acts twice). */
  sourceId: z.string().min(1).max(200),
  sourceTimestamp: z.number().int().nonnegative(),
  /**
   * The provider's signal whose trades it manages (the message replied to); null when the management names only
   * its symbol: the executor then finds the provider's one open trade on it (after the duplicate checks).
   */
  signalId: z.string().min(1).nullable(),
  /**
   * A webhook body without a time: `<webhook id>:<digest of the body>`. The same key within the double-post window
   * answers as a duplicate of the first, before any trade is looked up.
   */
  doublePostKey: z.string().min(1).max(200).nullish(),
  management: TradeManagementSchema,
});
export type ManageTradesInput = z.infer<typeof ManageTradesInputSchema>;

export const MANAGEMENT_REFUSALS = [
  "INVALID_INPUT",
  "UNKNOWN_SIGNAL",
  "NOT_YOUR_SIGNAL",
  "NOT_AN_ENTRY",
  "SYMBOL_MISMATCH",
  "NO_OPEN_TRADE",
  "AMBIGUOUS_TRADE",
  "STOP_THROUGH_MARKET",
  "TRAIL_TOO_WIDE",
  "NO_QUOTE",
] as const;
export type ManagementRefusal = (typeof MANAGEMENT_REFUSALS)[number];

export interface ManagementCounts {
  /** Followers something was done for (each told by DM). */
  followers: number;
  canceledEntries: number;
  stopsMoved: number;
  closesQueued: number;
  /** Followers the instruction did not apply to, by reason (e.g. `entry_not_filled`, `close_rounds_to_zero`). */
  skipped: Record<string, number>;
}

export type ManagementOutcome =
  /** `signalId`: the signal whose trades were managed (the one found by symbol when none was named). */
  | ({ ok: true; duplicate: boolean; message: string; signalId: string | null } & ManagementCounts)
  | { ok: false; code: ManagementRefusal; message: string };

/** One follower's trade from a signal, as far as a close may act on it. */
export interface TradeHolding {
  /** Units the signal's entry filled for this follower. */
  filledUnits: number;
  /** The follower's position in the instrument, on the entry's side (0 when flat or on the other side). */
  heldUnits: number;
  /** Units of it already being closed by exits in flight. */
  closingUnits: number;
  lotStep: number;
}

/**
 * Units a management close sends for one follower: `percent` of the trade
 * (what the signal's entry filled, never more than is held and not already
 * being closed), in whole lots rounded down, so half of 1 share is 0 (nothing
 * sent) and all is the whole trade. Never negative, never more than held: the
 * exit cannot flip the position.
 */
export function managementCloseUnits(holding: TradeHolding, percent: number): number {
  const { lotStep } = holding;
  const availableLots =
    toLots(Math.max(0, holding.heldUnits), lotStep) - toLots(Math.max(0, holding.closingUnits), lotStep);
  const tradeLots = Math.min(toLots(Math.max(0, holding.filledUnits), lotStep), Math.max(0, availableLots));
  if (tradeLots <= 0 || !(percent > 0)) return 0;
  const trade = fromLots(tradeLots, lotStep);
  return percent >= 100 ? trade : roundDownToLot((trade * percent) / 100, lotStep);
}

/** A moved stop covers what it covered, never more than is held (a stop larger than the position could flip it). */
export function movedStopUnits(stopUnits: number, heldUnits: number, lotStep: number): number {
  return roundDownToLot(Math.max(0, Math.min(stopUnits, heldUnits)), lotStep);
}

/**
 * Whether a stop at `stopPrice` would trigger at once: a long's stop sells at or above the market, a short's buys
 * at or below it. Such a move is refused, never sent as a surprise market exit.
 */
export function stopThroughMarket(direction: "long" | "short", stopPrice: number, marketPrice: number): boolean {
  return direction === "long" ? stopPrice >= marketPrice : stopPrice <= marketPrice;
}

/** A trail's distance as a percent of the market price (an amount is measured against it). */
export function trailPercentOf(trail: { percent: number } | { amount: number }, marketPrice: number): number {
  return "percent" in trail ? trail.percent : (trail.amount / marketPrice) * 100;
}

/**
 * Whether a trail is wider than the risk limits allow: a trailing stop may let the price fall (or, for a short,
 * rise) from its best by at most the community's daily loss limit, as a percent of the price. A wider one could
 * give back more of the position than a whole day's loss limit before it triggers, so it is refused
 * (`TRAIL_TOO_WIDE`), as is one at 100% or more of the price, which could never trigger.
 */
export function trailTooWide(
  trail: { percent: number } | { amount: number },
  marketPrice: number,
  maxPercent: number,
): boolean {
  const percent = trailPercentOf(trail, marketPrice);
  return !(percent > 0) || percent >= 100 || percent > maxPercent;
}
