/**
 * shared/risk — the risk engine. Pure: no bindings, no clock (pass `now`), no I/O.
 *
 * For the CommunityExecutor, per follower of a signal:
 *
 *   const { limits, clamped } = effectiveLimits(communityLimits, memberSettings);  // clamped: loosening attempts
 *   const decision = decide({
 *     signal,                       // a NormalizedSignal (RiskSignal: the same type, leverage optional)
 *     sizing: follow.sizing,        // or null → 1% risk with a signal stop, else 2% of equity
 *     limits,
 *     member: { tradingMode, paperOnly },   // paperOnly from entitlements (free trader plan)
 *     accounts,                     // every connection incl. the paper one (PAPER_RISK_CAPABILITIES), each with a snapshot
 *     quotePrice, marketOpen, cryptoLotStep, now,
 *     reserved,                     // what earlier in-flight decisions of this member already hold
 *     exitQuantityOf,               // an exit's quantity: {kind: "provider", position} (a fraction of it) or {kind: "own"}
 *     hold, circuitBreakerArmed,    // a pause or lock the executor keeps; whether the breaker may trip now
 *     addsToRecentEntry,            // a same-direction add within 5 s: joins the position it adds to
 *   });
 *
 *   decision.kind === "skip":  { reason (SKIP_REASONS code), message (for the member), details }.
 *     With `flattenAndPauseUntil` (daily_loss_limit, circuit_breaker): close the account's positions
 *     and refuse its new entries until that time (next 00:00 UTC); with `lockAccount` (circuit_breaker)
 *     also lock the account until the member or an admin unlocks it. `dailyLossStatus` gives the same
 *     answer on its own, e.g. for a check after each fill.
 *   decision.kind === "place": write `intents` as orders for `accountId`, in order (entry first).
 *     Exits (sell, cover, close) are never blocked by the limits that cap new risk.
 *     - orderClass "bracket"/"oto": send the entry with its exits as one native order (`nativeBracket`).
 *     - orderClass "engine": submit the exits (`placeAfterFill: true`) once the entry fills, sized to the fill.
 *     - `reductions` say how a quantity was cut to fit a limit; `notes` explain defaults and fallbacks.
 *     - `closes` (exits only): the position being reduced; store it with the exit order, whose fill fits that
 *       position's stops and take-profits to what is left (`fitExitsToPosition`).
 *     - after an entry fills, `exitsAfterFill` sizes its engine-placed exits to the fill (in whole lots of the
 *       intents' `lotStep`) and prices default levels from the average fill price.
 *     - `reservation`: `addReservation(reserved, decision.reservation)` before deciding the next signal for
 *       this member, and `releaseReservation` when the orders fill (the snapshot then shows them) or end,
 *       so two in-flight signals cannot both pass a limit only one of them fits (buying power, open
 *       positions, per symbol, orders today, closes). Do it synchronously, with no await in between.
 *
 * Order sides: buy (open/add long), sell (reduce long), sell_short (open short), buy_to_cover (reduce short);
 * `positionEffect` tells options adapters open vs close. Quantities are units: shares, contracts, coins.
 * Prices are per unit; an option's is its premium per share, so its notional is price × 100 × contracts.
 *
 * Member settings: validate input with `memberRiskSettingsSchema` / `parseMemberRiskSettings` (400 with details),
 * community defaults with `communityRiskSettingsSchema` (missing fields take RISK_DEFAULTS).
 */

export {
  type DailyLossState,
  type DailyLossStatus,
  dailyLossStatus,
  type EquityDay,
  nextUtcMidnight,
  observeEquity,
  utcDay,
} from "./daily-loss";
export { decide, EMPTY_RESERVED, skip } from "./decide";
export { allocateTakeProfits, resolveStop, resolveTakeProfits } from "./exits";
export { type EntryFill, type ExitsAfterFill, exitsAfterFill } from "./exits-after-fill";
export { type ExitFit, fitExitsToPosition, type HeldPosition, type WorkingExit } from "./exits-to-position";
export {
  DEFAULT_CRYPTO_LOT_STEP,
  FRACTIONAL_SHARE_STEP,
  fromLots,
  instrumentKey,
  lotStep,
  OPTION_CONTRACT_MULTIPLIER,
  positionKey,
  roundDownToLot,
  scaleQuantity,
  toLots,
  underlyingSymbol,
  unitMultiplier,
} from "./instruments";
export {
  ASSET_CLASSES,
  type ClampedSetting,
  communityRiskSettingsSchema,
  DAILY_LOSS_RANGE,
  DEFAULT_EQUITY_PERCENT,
  DEFAULT_RISK_PERCENT,
  type EffectiveLimits,
  effectiveLimits,
  type MemberRiskSettings,
  memberRiskSettingsSchema,
  parseMemberRiskSettings,
  RISK_DEFAULTS,
  type RiskLimits,
  type SettingsIssue,
  validateCommunityRiskSettings,
  validateMemberRiskSettings,
} from "./limits";
export {
  afterSignal,
  namesExitQuantity,
  type ProviderPosition,
  positionClosedBy,
  unknownExitQuantityMessage,
} from "./provider-positions";
export { addReservation, emptyReserved, releaseReservation } from "./reservations";
export { type RouteResult, routeAccount } from "./routing";
export { defaultSizing, referencePrice, resolveSizing, sizeQuantity } from "./sizing";
export {
  SKIP_REASON_CODES,
  SKIP_REASONS,
  type SkipReason,
  STANDING_SKIP_REASONS,
  type StandingSkipReason,
} from "./skip-reasons";
export type * from "./types";
