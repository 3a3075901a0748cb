/**
 * Inputs and outputs of the risk engine. Everything here is plain data so the
 * CommunityExecutor can build it from D1 rows and store the result as JSON.
 */
import type { BrokerCapabilities } from "../brokers/adapter";
import type { NormalizedSignal } from "../signals/schema";
import type { RiskLimits } from "./limits";
import type { SkipReason } from "./skip-reasons";

export type AssetClass = NormalizedSignal["assetClass"];
export type SignalAction = NormalizedSignal["action"];
export type SignalOrderType = NormalizedSignal["orderType"];
export type TimeInForce = NonNullable<NormalizedSignal["timeInForce"]>;
export type OptionContract = NonNullable<NormalizedSignal["option"]>;

/** The normalized signal (docs/architecture.md §5) as the engine reads it; `leverage` may be left out. */
export type RiskSignal = Omit<NormalizedSignal, "leverage"> & { leverage?: NormalizedSignal["leverage"] };

/** A follow's sizing. `null` on the follow means the product default (see `defaultSizing`). */
export type Sizing =
  | { mode: "fixed_quantity"; quantity: number }
  | { mode: "fixed_notional"; notional: number }
  | { mode: "percent_of_equity"; percent: number }
  | { mode: "risk_percent"; percent: number }
  | { mode: "multiplier"; multiplier: number };

export type SizingMode = Sizing["mode"];

/** What the engine reads of a broker connection's capabilities (`BrokerCapabilities`, which the adapter declares). */
export type RiskCapabilities = Pick<BrokerCapabilities, "assetClasses" | "fractional" | "shorting" | "brackets">;

export type PositionDirection = "long" | "short";

export interface RiskPosition {
  assetClass: AssetClass;
  symbol: string;
  option: OptionContract | null;
  direction: PositionDirection;
  /** Units held, always positive (shares, contracts, coins). */
  quantity: number;
  /** Last known price per unit (option premium per share), for exposure. */
  marketPrice: number;
}

/** The account's figures as the executor last saw them (from positions, fills and the broker's balances). */
export interface AccountSnapshot {
  /** Current equity: cash plus positions at their last price (realized and unrealized P&L both in it). */
  equity: number;
  /** Equity at 00:00 UTC; the daily loss limit is measured from it (`observeEquity`). */
  startOfDayEquity: number;
  buyingPower: number;
  positions: readonly RiskPosition[];
  /** Orders this member placed on this account since 00:00 UTC. */
  ordersToday: number;
}

export interface RiskAccount {
  id: string;
  broker: string;
  mode: "paper" | "live";
  status: "active" | "expired" | "revoked" | "error";
  capabilities: RiskCapabilities;
  snapshot: AccountSnapshot;
}

/**
 * Exposure the executor has already promised to decisions whose orders are
 * not reflected in the snapshot yet (queued or unfilled). Add each decision's
 * `reservation` to it; release it when the order fills or ends.
 */
export interface Reserved {
  notional: number;
  openPositions: number;
  ordersToday: number;
  /** Symbols (underlying for options) with an opening order in flight. */
  symbols: readonly string[];
  /** Units already being closed per instrument key (`instrumentKey`). */
  closing: Readonly<Record<string, number>>;
  /** Notional of entries in flight per position (`positionKey`: instrument key and direction). */
  entries?: Readonly<Record<string, number>>;
}

/**
 * Why the executor holds a member's new entries: a pause until 00:00 UTC after the daily loss limit or the
 * circuit breaker, or the breaker's lock until the member or an admin unlocks. Exits are never held.
 */
export interface TradingHold {
  reason: "daily_loss_limit" | "circuit_breaker" | "account_locked";
  message: string;
}

export interface DecideInput {
  signal: RiskSignal;
  /** The follow's sizing, or null for the default. */
  sizing: Sizing | null;
  /** Effective limits for this member (`effectiveLimits(...).limits`). */
  limits: RiskLimits;
  member: {
    /** What the member chose with /paper. */
    tradingMode: "paper" | "live";
    /** From entitlements: the member's plan allows paper trading only. */
    paperOnly: boolean;
  };
  /** Every account of the member, including the paper account. */
  accounts: readonly RiskAccount[];
  /** Current price per unit of the instrument (option premium per share), or null when unknown. */
  quotePrice: number | null;
  /** Whether the regular session is open now (equities and options). */
  marketOpen: boolean;
  /** Lot step for crypto (per symbol, e.g. 0.00001 BTC). Default 0.0001. */
  cryptoLotStep?: number;
  /** Units per option contract. Default 100. */
  contractMultiplier?: number;
  reserved?: Reserved;
  /** A pause or lock the executor keeps for this member: new entries are skipped with its reason. */
  hold?: TradingHold | null;
  /**
   * Whether the personal circuit breaker may trip now. The executor disarms it while the account is locked
   * and for the rest of a day on which it already tripped, so an unlock does not trip it again at once.
   */
  circuitBreakerArmed?: boolean;
  /**
   * The signal is a same-direction add the provider posted within the double-post window of an entry in the
   * same instrument: where the member holds or has in flight that position, it adds to it as one position.
   */
  addsToRecentEntry?: boolean;
  /**
   * Whose units an exit's `quantity` is in. A followed signal's quantity is part of the provider's position
   * (as their signals stated it; null when not known): each follower closes the same fraction of theirs.
   * A member's own trade names their own units. Left out, a quantity is treated as the provider's, unknown.
   */
  exitQuantityOf?: { kind: "provider"; position: number | null } | { kind: "own" };
  now: number;
}

export type OrderSide = "buy" | "sell" | "sell_short" | "buy_to_cover";
export type Leg = "entry" | "exit" | "stop" | `tp${number}`;
export type BrokerOrderType = "market" | "limit" | "stop" | "stop_limit" | "trailing_stop";

export interface OrderIntent {
  leg: Leg;
  /** buy: open or add to a long; sell: reduce a long; sell_short: open a short; buy_to_cover: reduce a short. */
  side: OrderSide;
  /** Whether the order opens or closes a position (options adapters need it: BUY_TO_OPEN, SELL_TO_CLOSE...). */
  positionEffect: "open" | "close";
  assetClass: AssetClass;
  symbol: string;
  option: OptionContract | null;
  orderType: BrokerOrderType;
  quantity: number;
  limitPrice: number | null;
  stopPrice: number | null;
  timeInForce: TimeInForce;
  /** The exit is attached to the entry as one native bracket/OTO order. */
  nativeBracket: boolean;
  /** The engine submits this exit itself once the entry has filled. */
  placeAfterFill: boolean;
  /** The lot step the quantity is counted in (exits are scaled to a fill in whole lots of it). */
  lotStep?: number;
  /** Exits: the signal's own level, or a default distance from the entry (re-priced from the fill). */
  priceSource?: "signal" | "default";
  /** A default exit's distance from the entry, in percent. */
  defaultPercent?: number;
  /** Take-profits: the share of the position the target closes (null: an even share of what the others leave). */
  targetPercent?: number | null;
  /** Why the engine changed this exit from the decision (re-priced from the fill, sent at market...). */
  adjustments?: string[];
  /** A trailing stop's distance (orderType trailing_stop): a percent of the best price since placed, or an amount. */
  trail?: { percent: number } | { amount: number } | null;
}

export interface Reduction {
  reason: "max_position_size" | "max_notional" | "max_total_exposure" | "insufficient_buying_power";
  from: number;
  to: number;
  message: string;
}

export interface Reservation {
  notional: number;
  openPositions: number;
  ordersToday: number;
  symbol: string | null;
  closing: { instrument: string; quantity: number } | null;
  /** An entry: the position (`positionKey`) it opens or adds to, whose notional it holds in flight. */
  position: string | null;
}

export interface PlaceDecision {
  kind: "place";
  accountId: string;
  /** simple: one order; bracket/oto: the entry carries its exits natively; engine: exits follow the fill. */
  orderClass: "simple" | "bracket" | "oto" | "engine";
  intents: OrderIntent[];
  reductions: Reduction[];
  notes: string[];
  /** How an entry was sized; null for an exit. */
  sizing: {
    mode: SizingMode;
    source: "follow" | "default";
    referencePrice: number;
    /** The sizing in words, for the member: "2% of equity (the default sizing) comes to 55 shares at $190.50 …". */
    explanation: string;
  } | null;
  /** For an exit: the position it reduces. Resize or cancel that position's stop and take-profits to match. */
  closes: {
    instrument: string;
    direction: PositionDirection;
    positionQuantity: number;
    remainingQuantity: number;
  } | null;
  /** Add to the executor's `Reserved` until the orders fill or end. */
  reservation: Reservation;
}

export interface SkipDecision {
  kind: "skip";
  reason: SkipReason;
  message: string;
  details: Record<string, unknown>;
  /** Set for the daily loss limit and the circuit breaker: flatten the account and pause until this time. */
  flattenAndPauseUntil?: number;
  /** Set for the circuit breaker: lock the account until the member or an admin unlocks it, and alert the admins. */
  lockAccount?: boolean;
}

export type Decision = PlaceDecision | SkipDecision;
