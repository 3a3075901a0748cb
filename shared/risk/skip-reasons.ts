import { REGULAR_SESSION } from "../market/new-york";
import type { SkipDecision } from "./types";

/**
 * The closed list of reasons a follower's order is not placed, with the words
 * a member reads. `SkipDecision.message` adds the specifics (amounts, limits).
 */
export const SKIP_REASONS = {
  member_suspended: "An admin suspended your copy trading in this server.",
  access_role_missing: "Copy trading in this server needs its access role, which you do not hold.",
  daily_loss_limit: "Your daily loss limit is reached: positions are closed and trading pauses until 00:00 UTC.",
  circuit_breaker:
    "Your personal circuit breaker tripped: positions are closed and your account is locked until you unlock it with /risk unlock or an admin does (not before 00:00 UTC).",
  account_locked:
    "Your account is locked since your circuit breaker tripped: unlock it with /risk unlock, or ask an admin.",
  max_open_positions: "You already hold the maximum number of open positions.",
  max_positions_per_symbol: "You already hold the maximum number of positions in this symbol.",
  max_position_size: "Not even the smallest lot fits within your maximum position size.",
  max_notional: "Not even the smallest lot fits within your maximum notional per position.",
  max_total_exposure: "Not even the smallest lot fits within your maximum total exposure.",
  min_balance: "Your account balance is below the minimum required to trade.",
  insufficient_buying_power: "Your account does not have enough buying power for this order.",
  asset_class_not_allowed: "Your risk settings do not allow this asset class.",
  symbol_not_allowed: "This symbol is not on your allow list.",
  symbol_denied: "This symbol is on your deny list.",
  outside_regular_hours: `The market is closed (regular hours are ${REGULAR_SESSION}). Orders are not held for the next open, so nothing was placed; you may opt into extended hours with /risk hours.`,
  below_min_price: "The price is below your minimum price.",
  max_orders_per_day: "You reached your maximum number of orders for today.",
  no_position_to_close: "You hold no position that this signal could close.",
  exit_quantity_unknown:
    "The exit names a number of units, but the provider's position it is part of is not known, so it cannot be scaled to yours.",
  live_not_allowed: "Your plan allows paper trading only; switch to paper with /paper or upgrade your plan.",
  no_broker_account: "None of your connected brokers can trade this asset class.",
  quantity_rounds_to_zero: "The order size rounds down to zero for this instrument.",
  no_price: "No current price is available to size a market order.",
  short_not_supported: "Your broker account does not support short selling.",
  stop_required: "Risk-based sizing needs a stop, and this signal has none (your default stop is off).",
  invalid_stop: "The stop is on the wrong side of the entry price.",
  invalid_take_profit: "A take-profit is on the wrong side of the entry price.",
} as const;

export type SkipReason = keyof typeof SKIP_REASONS;

/** Reasons decided before the risk engine, from the member's standing (`shared/membership/standing.ts`). */
export const STANDING_SKIP_REASONS = [
  "member_suspended",
  "access_role_missing",
] as const satisfies readonly SkipReason[];
export type StandingSkipReason = (typeof STANDING_SKIP_REASONS)[number];

export const SKIP_REASON_CODES = Object.keys(SKIP_REASONS) as SkipReason[];

export function skip(
  reason: SkipReason,
  message: string = SKIP_REASONS[reason],
  details: Record<string, unknown> = {},
  flattenAndPauseUntil?: number,
): SkipDecision {
  return {
    kind: "skip",
    reason,
    message,
    details,
    ...(flattenAndPauseUntil !== undefined ? { flattenAndPauseUntil } : {}),
  };
}
