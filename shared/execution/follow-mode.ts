/**
 * Whether a follow places its orders at once (`auto`) or asks the member to
 * confirm each one (`confirm`). A member's explicit choice wins; without one,
 * paper accounts trade automatically and live accounts confirm (auto-trading
 * is off for real money until the member turns it on with `/follow mode:auto`).
 * Resolved at each signal, so switching to live with `/paper` changes the
 * default at once.
 */
import type { ExitMode, FollowMode, TradingMode } from "../db/schema";

/**
 * How long a confirm-mode member has to confirm an order (the original's 30 s). Longer would act on a signal
 * older than the 60 s maximum age the executor enforces everywhere else, at a price the member never saw.
 */
export const CONFIRM_WINDOW_SECONDS = 30;

export function effectiveFollowMode(chosen: FollowMode | null, tradingMode: TradingMode): FollowMode {
  return chosen ?? (tradingMode === "live" ? "confirm" : "auto");
}

/**
 * Whether an order waits for its member's answer. Only what opens exposure asks in confirm mode: an exit of a
 * copied position follows the provider at once (a member who would not be asked could be left holding a position
 * the provider closed), unless the follow asks for exits too (`/follow exits:confirm`).
 */
export function awaitsConfirmation(
  follow: { mode: FollowMode | null; exits?: ExitMode | null; tradingMode: TradingMode },
  opensExposure: boolean,
): boolean {
  if (effectiveFollowMode(follow.mode, follow.tradingMode) !== "confirm") return false;
  return opensExposure || follow.exits === "confirm";
}
