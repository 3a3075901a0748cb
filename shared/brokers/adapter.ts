/**
 * The broker adapter interface: what the execution engine (the order-submissions
 * consumer and the CommunityExecutor) calls, whichever broker is behind it.
 *
 * Using an adapter
 * - `capabilities` says what the broker accepts: asset classes, order types,
 *   `brackets` (native bracket/OTO: pass `bracket` on the entry intent; otherwise
 *   the engine places exits itself after the fill), `fractional` (equity shares;
 *   crypto is always fractional), `shorting`, `clientOrderIdLookup`,
 *   `clientOrderIdMaxLength`, and the broker's published `rateLimit`.
 *   `throttlePolicy(capabilities)` is the RATE_LIMITER policy with 50% headroom.
 * - `placeOrder(intent)`: the intent carries `clientOrderId`; placing the same id
 *   twice never makes a second order (the adapter returns the existing one).
 *   `reduceOnly` marks an exit: it may only shrink the position (the paper
 *   broker refuses one that would flip it; see each adapter for live brokers).
 * - `getOrder(brokerOrderId)` (PermanentError `order_not_found` when unknown),
 *   `getOrderByClientId(clientOrderId)` (null when not found), `cancelOrder(id)`,
 *   `listOpenOrders()`, `getAccount()`, `getPositions()`, `getQuote(instrument)`.
 * - Orders come back normalized (`BrokerOrder`) with our states: submitted,
 *   partially_filled, filled, canceled, rejected, expired.
 *
 * Failures (./errors.ts) are one of three kinds:
 * - `TransientError` (retry with backoff and jitter, at least `retryAfterMs`),
 * - `PermanentError` with a `reason` from `PERMANENT_REASONS` (mark the order
 *   rejected with that reason; `duplicate_client_order_id` means "look it up"),
 * - `UnknownOutcomeError` (the request may have been sent: resolve it with
 *   `getOrderByClientId`, and only if that answers null send it again with the
 *   same client order id).
 *
 * Adapters: `AlpacaAdapter` (./alpaca.ts) over Alpaca's Trading API v2, and
 * `PaperBrokerAdapter` (./paper/adapter.ts) over the pure paper engine
 * (./paper/engine.ts), for which the executor supplies storage.
 */
import { z } from "zod";
import { isWorking, type OrderStatus } from "../orders/state-machine";
import { type AssetClass, type Instrument, instrumentSchema, optionContractSchema } from "../quotes/instrument";
import type { Quote } from "../quotes/quote";
import type { RateLimitPolicy } from "../rate-limit";
import { PermanentError } from "./errors";
import type { BrokerId } from "./ids";

export type { AssetClass, Instrument, OptionContract } from "../quotes/instrument";
export type { Quote } from "../quotes/quote";
export {
  BrokerError,
  PERMANENT_REASONS,
  PermanentError,
  type PermanentReason,
  TransientError,
  UnknownOutcomeError,
} from "./errors";

export type OrderType = "market" | "limit" | "stop" | "stop_limit" | "trailing_stop";
/**
 * A trailing stop's distance behind the best price since it was placed (for a sell, the highest; for a buy, the
 * lowest): a percent of that price, or an amount in the quote currency.
 */
export type TrailDistance = { percent: number } | { amount: number };
export type TimeInForce = "day" | "gtc" | "ioc" | "fok";
/** buy: open or add to a long; sell: reduce a long; sell_short: open a short; buy_to_cover: reduce a short. */
export type OrderSide = "buy" | "sell" | "sell_short" | "buy_to_cover";

export interface RateLimit {
  requests: number;
  periodMs: number;
}

/**
 * Published limits (requests per period); throttles use half of each. IBKR publishes 10/s (Web API pacing,
 * per username) and, on an older page, 50/s: the lower one counts, because a breach can put the platform's
 * shared egress IP in IBKR's 10-minute penalty box (trade-execution spec).
 */
export const PUBLISHED_RATE_LIMITS = {
  alpaca: { requests: 200, periodMs: 60_000 },
  schwab: { requests: 120, periodMs: 60_000 },
  ibkr: { requests: 10, periodMs: 1_000 },
} as const satisfies Partial<Record<BrokerId, RateLimit>>;

export interface BrokerCapabilities {
  broker: BrokerId;
  assetClasses: readonly AssetClass[];
  orderTypes: readonly OrderType[];
  timeInForce: readonly TimeInForce[];
  /** Native bracket/OTO: an entry with an attached stop and/or take-profit, sent as one order. */
  brackets: boolean;
  /** Fractional equity shares (crypto quantities are always fractional). */
  fractional: boolean;
  shorting: boolean;
  rateLimit: RateLimit;
  /** The broker can find an order by our client order id (how unknown outcomes are resolved). */
  clientOrderIdLookup: boolean;
  clientOrderIdMaxLength: number;
  /**
   * Trailing stop orders (`orderType` trailing_stop with `trail`): the stop follows the best price and triggers
   * reduce-only. Without it a trailing stop is refused for that account, never replaced by a fixed stop.
   */
  trailingStops: boolean;
  /** The asset classes trailing stops are taken for, when fewer than `assetClasses` (see `takesTrailingStops`). */
  trailingStopAssetClasses?: readonly AssetClass[];
}

/** Whether the broker takes a trailing stop on this asset class (a fixed stop is never sent in its place). */
export function takesTrailingStops(
  capabilities: Pick<BrokerCapabilities, "trailingStops" | "trailingStopAssetClasses">,
  assetClass: AssetClass,
): boolean {
  return capabilities.trailingStops && (capabilities.trailingStopAssetClasses?.includes(assetClass) ?? true);
}

/**
 * A trailing stop's trigger level from the best price it has seen: for a sell (a long's exit) the best is the
 * highest and the stop sits the trail below it; for a buy (a short's exit) the lowest, with the stop above it.
 */
export function trailingStopLevel(side: "buy" | "sell", best: number, trail: TrailDistance): number {
  const distance = "percent" in trail ? (best * trail.percent) / 100 : trail.amount;
  const level = side === "sell" ? best - distance : best + distance;
  return Math.round(level * 1e8) / 1e8;
}

/** The broker throttle's policy: half the published limit, so bursts never reach the broker's own 429s. */
export function throttlePolicy(capabilities: Pick<BrokerCapabilities, "rateLimit">): RateLimitPolicy {
  return {
    limit: Math.max(1, Math.floor(capabilities.rateLimit.requests / 2)),
    periodMs: capabilities.rateLimit.periodMs,
  };
}

export interface BracketLegs {
  takeProfit: { limitPrice: number } | null;
  stopLoss: { stopPrice: number; limitPrice: number | null } | null;
}

/**
 * One order to place. The fields match the risk engine's order intent plus the
 * client order id and, for a native bracket, the attached exits.
 */
export interface BrokerOrderIntent extends Instrument {
  clientOrderId: string;
  side: OrderSide;
  orderType: OrderType;
  /** Shares, coins, or option contracts. */
  quantity: number;
  limitPrice: number | null;
  stopPrice: number | null;
  timeInForce: TimeInForce;
  bracket?: BracketLegs | null;
  /**
   * Reduce-only (every exit: stops, take-profits, closes): the order may only
   * shrink the position. A broker that supports it refuses the part that
   * would flip the position instead of opening the opposite side.
   */
  reduceOnly?: boolean;
  /** A trailing stop's distance (orderType trailing_stop); `stopPrice` is then ignored. */
  trail?: TrailDistance | null;
}

/** The order statuses a broker reports (ours, without `queued` and `failed`, which only we know). */
export type BrokerOrderStatus = Exclude<OrderStatus, "queued" | "failed">;

/** Whether the broker is still working the order (the state machine's `WORKING_STATUSES`). */
export function isOpenStatus(status: BrokerOrderStatus): boolean {
  return isWorking(status);
}

export interface BrokerFill {
  fillId: string;
  price: number;
  quantity: number;
  /** When the fill happened (ISO 8601). */
  at: string;
  /** The quote the price came from (paper fills). */
  quoteSource?: string;
  quoteTimestamp?: string;
  delayed?: boolean;
}

export interface BrokerOrder {
  brokerOrderId: string;
  clientOrderId: string;
  symbol: string;
  assetClass: AssetClass;
  side: OrderSide;
  orderType: OrderType;
  quantity: number;
  limitPrice: number | null;
  stopPrice: number | null;
  timeInForce: TimeInForce;
  status: BrokerOrderStatus;
  filledQuantity: number;
  averageFillPrice: number | null;
  fills?: BrokerFill[];
  submittedAt: string;
  updatedAt: string;
  rejectReason: string | null;
  /** A bracket's exit orders, when the broker reports them with the entry. */
  legs?: BrokerOrder[];
  /** A trailing stop's distance; `stopPrice` is its current trigger level (null before a price was seen). */
  trail?: TrailDistance | null;
  /** Paper: the order waits because no price can be had yet ("waiting for a price"). */
  waitingForPrice?: boolean;
  note?: string | null;
}

export interface BrokerAccount {
  equity: number;
  cash: number;
  buyingPower: number;
  currency: string;
  /** Equity at the start of the trading day (the broker's last close, or 00:00 UTC for paper), when known. */
  startOfDayEquity: number | null;
  realizedPnl?: number;
  unrealizedPnl?: number;
  /** The broker blocks trading on this account. */
  tradingBlocked?: boolean;
}

export interface BrokerPosition extends Instrument {
  direction: "long" | "short";
  /** Units held, always positive. */
  quantity: number;
  averageCost: number;
  /** Last known price per unit (a quote, or the last fill). */
  marketPrice: number;
  marketValue: number;
  unrealizedPnl: number;
}

export interface BrokerAdapter {
  readonly capabilities: BrokerCapabilities;
  getAccount(): Promise<BrokerAccount>;
  getPositions(): Promise<BrokerPosition[]>;
  placeOrder(intent: BrokerOrderIntent): Promise<BrokerOrder>;
  getOrder(brokerOrderId: string): Promise<BrokerOrder>;
  getOrderByClientId(clientOrderId: string): Promise<BrokerOrder | null>;
  cancelOrder(brokerOrderId: string): Promise<void>;
  listOpenOrders(): Promise<BrokerOrder[]>;
  getQuote(instrument: Instrument): Promise<Quote | null>;
}

const price = z.number().finite().positive();

const bracketSchema = z
  .object({
    takeProfit: z.object({ limitPrice: price }).nullable().default(null),
    stopLoss: z
      .object({ stopPrice: price, limitPrice: price.nullable().default(null) })
      .nullable()
      .default(null),
  })
  .refine((legs) => legs.takeProfit !== null || legs.stopLoss !== null, "a bracket needs a take-profit or a stop");

export const orderIntentSchema = z
  .object({
    clientOrderId: z.string().min(1).max(128),
    assetClass: z.enum(["equity", "option", "crypto"]),
    symbol: z.string().trim().toUpperCase().min(1).max(32),
    option: optionContractSchema.nullable().default(null),
    side: z.enum(["buy", "sell", "sell_short", "buy_to_cover"]),
    orderType: z.enum(["market", "limit", "stop", "stop_limit", "trailing_stop"]),
    quantity: z.number().finite().positive(),
    limitPrice: price.nullable().default(null),
    stopPrice: price.nullable().default(null),
    timeInForce: z.enum(["day", "gtc", "ioc", "fok"]),
    bracket: bracketSchema.nullable().default(null),
    reduceOnly: z.boolean().default(false),
    trail: z
      .union([z.object({ percent: z.number().positive().lt(100) }).strict(), z.object({ amount: price }).strict()])
      .nullable()
      .default(null),
  })
  .superRefine((intent, ctx) => {
    const instrument = instrumentSchema.safeParse(intent);
    for (const issue of instrument.error?.issues ?? []) {
      ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
    }
    const needsLimit = intent.orderType === "limit" || intent.orderType === "stop_limit";
    const needsStop = intent.orderType === "stop" || intent.orderType === "stop_limit";
    if (needsLimit && intent.limitPrice === null)
      ctx.addIssue({ code: "custom", message: "a limit price is required" });
    if (needsStop && intent.stopPrice === null) ctx.addIssue({ code: "custom", message: "a stop price is required" });
    if ((intent.orderType === "trailing_stop") !== (intent.trail !== null)) {
      ctx.addIssue({ code: "custom", message: "a trail goes with a trailing_stop order, and only with one" });
    }
    if (intent.assetClass === "option" && !Number.isInteger(intent.quantity)) {
      ctx.addIssue({ code: "custom", message: "option quantities are whole contracts" });
    }
    const legs = intent.bracket;
    if (legs?.takeProfit && legs.stopLoss) {
      const buying = intent.side === "buy" || intent.side === "buy_to_cover";
      const ordered = buying
        ? legs.takeProfit.limitPrice > legs.stopLoss.stopPrice
        : legs.takeProfit.limitPrice < legs.stopLoss.stopPrice;
      if (!ordered) ctx.addIssue({ code: "custom", message: "the take-profit and the stop are on the wrong sides" });
    }
  });

/** Validates an intent; a malformed one is a PermanentError `invalid_order` naming the problems. */
export function parseOrderIntent(input: unknown): BrokerOrderIntent {
  const parsed = orderIntentSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
  );
  throw new PermanentError("invalid_order", `Invalid order: ${problems.join("; ")}.`);
}

/** Whether the side buys (buy, buy_to_cover) or sells (sell, sell_short). */
export function sideDirection(side: OrderSide): "buy" | "sell" {
  return side === "buy" || side === "buy_to_cover" ? "buy" : "sell";
}
