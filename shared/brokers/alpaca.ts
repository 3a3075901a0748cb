import { z } from "zod";
import { type AssetClass, type Instrument, instrumentKey, parseOccSymbol } from "../quotes/instrument";
import type { FetchLike, Quote, QuoteSource } from "../quotes/quote";
import {
  type BrokerAccount,
  type BrokerAdapter,
  type BrokerCapabilities,
  type BrokerOrder,
  type BrokerOrderIntent,
  type BrokerOrderStatus,
  type BrokerPosition,
  type OrderSide,
  type OrderType,
  PUBLISHED_RATE_LIMITS,
  parseOrderIntent,
  sideDirection,
  type TimeInForce,
  type TrailDistance,
  takesTrailingStops,
  trailingStopLevel,
} from "./adapter";
import {
  type BrokerErrorContext,
  PermanentError,
  type ReasonMapper,
  TransientError,
  UnknownOutcomeError,
} from "./errors";
import { requestJson } from "./http";

/**
 * Alpaca Trading API v2 (live: ALPACA_API_BASE, paper: ALPACA_PAPER_API_BASE).
 * POST /v2/orders (with `client_order_id`; `order_class` bracket or oto with
 * `take_profit.limit_price` / `stop_loss.stop_price`), GET /v2/orders/{id},
 * GET /v2/orders:by_client_order_id, DELETE /v2/orders/{id},
 * GET /v2/orders?status=open, GET /v2/account, GET /v2/positions.
 * Quantities and prices travel as decimal strings, as Alpaca's own clients send them.
 * A trailing stop is `type: "trailing_stop"` with `trail_percent` or `trail_price`; Alpaca reports the best price
 * since it was placed as `hwm` and the level it now triggers at as `stop_price`.
 */

type AlpacaCredentials = { kind: "api_key"; keyId: string; secretKey: string } | { kind: "oauth"; accessToken: string };

export interface AlpacaAdapterOptions {
  baseUrl: string;
  credentials: AlpacaCredentials;
  /** Market data for `getQuote` (the Trading API serves none). Without it, `getQuote` answers null. */
  quotes?: QuoteSource;
  timeoutMs?: number;
  fetch?: FetchLike;
  clock?: () => number;
}

export const ALPACA_CAPABILITIES: BrokerCapabilities = {
  broker: "alpaca",
  assetClasses: ["equity", "option", "crypto"],
  orderTypes: ["market", "limit", "stop", "stop_limit", "trailing_stop"],
  trailingStops: true,
  // Alpaca's order types by asset class: trailing_stop is listed for equities only (options: market, limit, stop,
  // stop_limit; crypto: market, limit, stop_limit).
  trailingStopAssetClasses: ["equity"],
  timeInForce: ["day", "gtc", "ioc", "fok"],
  brackets: true,
  fractional: true,
  shorting: true,
  rateLimit: PUBLISHED_RATE_LIMITS.alpaca,
  clientOrderIdLookup: true,
  // Alpaca long allowed 48 characters; keeping to that fits every version of the API.
  clientOrderIdMaxLength: 48,
};

interface AlpacaOrder {
  id: string;
  client_order_id: string;
  created_at: string;
  updated_at?: string | null;
  submitted_at?: string | null;
  symbol: string;
  asset_class?: string | null;
  qty?: string | null;
  filled_qty: string;
  filled_avg_price?: string | null;
  type?: string | null;
  order_type?: string | null;
  side: string;
  position_intent?: string | null;
  time_in_force: string;
  limit_price?: string | null;
  stop_price?: string | null;
  trail_percent?: string | null;
  trail_price?: string | null;
  /** A trailing stop's best price since it was placed (the high water mark; the lowest, for a buy). */
  hwm?: string | null;
  status: string;
  legs?: AlpacaOrder[] | null;
}

const decimal = z.union([z.string(), z.number()]).transform(String);

const alpacaOrderSchema: z.ZodType<AlpacaOrder> = z.lazy(() =>
  z.object({
    id: z.string(),
    client_order_id: z.string(),
    created_at: z.string(),
    updated_at: z.string().nullish(),
    submitted_at: z.string().nullish(),
    symbol: z.string(),
    asset_class: z.string().nullish(),
    qty: decimal.nullish(),
    filled_qty: decimal,
    filled_avg_price: decimal.nullish(),
    type: z.string().nullish(),
    order_type: z.string().nullish(),
    side: z.string(),
    position_intent: z.string().nullish(),
    time_in_force: z.string(),
    limit_price: decimal.nullish(),
    stop_price: decimal.nullish(),
    trail_percent: decimal.nullish(),
    trail_price: decimal.nullish(),
    hwm: decimal.nullish(),
    status: z.string(),
    legs: z.array(alpacaOrderSchema).nullish(),
  }),
);

const accountSchema = z.object({
  equity: decimal,
  cash: decimal,
  buying_power: decimal,
  currency: z.string().default("USD"),
  last_equity: decimal.nullish(),
  trading_blocked: z.boolean().optional(),
  account_blocked: z.boolean().optional(),
});

const positionSchema = z.object({
  symbol: z.string(),
  asset_class: z.string().nullish(),
  qty: decimal,
  side: z.string().nullish(),
  avg_entry_price: decimal,
  current_price: decimal.nullish(),
  market_value: decimal.nullish(),
  unrealized_pl: decimal.nullish(),
});

/** Alpaca's statuses onto ours: anything still working is `submitted`. */
const STATUS_MAP: Readonly<Record<string, BrokerOrderStatus>> = {
  new: "submitted",
  accepted: "submitted",
  pending_new: "submitted",
  accepted_for_bidding: "submitted",
  held: "submitted",
  calculated: "submitted",
  done_for_day: "submitted",
  stopped: "submitted",
  suspended: "submitted",
  pending_cancel: "submitted",
  pending_replace: "submitted",
  partially_filled: "partially_filled",
  filled: "filled",
  canceled: "canceled",
  replaced: "canceled",
  expired: "expired",
  rejected: "rejected",
};

const ASSET_CLASSES: Readonly<Record<string, AssetClass>> = {
  us_equity: "equity",
  us_option: "option",
  crypto: "crypto",
};

const POSITION_INTENT_SIDES: Readonly<Record<string, OrderSide>> = {
  buy_to_open: "buy",
  buy_to_close: "buy_to_cover",
  sell_to_open: "sell_short",
  sell_to_close: "sell",
};

const alpacaReasons: ReasonMapper = (_status, message) => {
  if (/could not find asset|asset .*not found|not tradable|not an active asset/i.test(message)) return "invalid_symbol";
  if (/wash trade/i.test(message)) return "invalid_order";
  return undefined;
};

export class AlpacaAdapter implements BrokerAdapter {
  readonly capabilities = ALPACA_CAPABILITIES;
  private readonly baseUrl: string;

  constructor(private readonly options: AlpacaAdapterOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  async placeOrder(input: BrokerOrderIntent): Promise<BrokerOrder> {
    const intent = parseOrderIntent(input);
    if (intent.clientOrderId.length > this.capabilities.clientOrderIdMaxLength) {
      throw new PermanentError(
        "invalid_order",
        `client order id is longer than Alpaca's ${this.capabilities.clientOrderIdMaxLength} characters`,
      );
    }
    if (intent.orderType === "trailing_stop") refuseUntakenTrailingStop(intent, this.capabilities);
    try {
      const { body } = await this.call("POST", "/v2/orders", "placeOrder", false, { body: orderBody(intent) });
      return this.order(body, "placeOrder", false);
    } catch (error) {
      // A retried submission that Alpaca already has: answer with that order, never a second one.
      if (error instanceof PermanentError && error.reason === "duplicate_client_order_id") {
        const existing = await this.getOrderByClientId(intent.clientOrderId);
        if (existing) return existing;
      }
      throw error;
    }
  }

  async getOrder(brokerOrderId: string): Promise<BrokerOrder> {
    const { body } = await this.call("GET", `/v2/orders/${encodeURIComponent(brokerOrderId)}?nested=true`, "getOrder");
    return this.order(body, "getOrder");
  }

  async getOrderByClientId(clientOrderId: string): Promise<BrokerOrder | null> {
    const query = new URLSearchParams({ client_order_id: clientOrderId, nested: "true" });
    const { status, body } = await this.call(
      "GET",
      `/v2/orders:by_client_order_id?${query}`,
      "getOrderByClientId",
      true,
      {
        allow: [404],
      },
    );
    return status === 404 ? null : this.order(body, "getOrderByClientId");
  }

  async cancelOrder(brokerOrderId: string): Promise<void> {
    await this.call("DELETE", `/v2/orders/${encodeURIComponent(brokerOrderId)}`, "cancelOrder");
  }

  async listOpenOrders(): Promise<BrokerOrder[]> {
    const { body } = await this.call("GET", "/v2/orders?status=open&limit=500&nested=true", "listOpenOrders");
    const parsed = z.array(alpacaOrderSchema).safeParse(body);
    if (!parsed.success) throw this.unexpected("listOpenOrders", true);
    return parsed.data.map(toBrokerOrder);
  }

  async getAccount(): Promise<BrokerAccount> {
    const { body } = await this.call("GET", "/v2/account", "getAccount");
    const parsed = accountSchema.safeParse(body);
    if (!parsed.success) throw this.unexpected("getAccount", true);
    const account = parsed.data;
    const lastEquity = account.last_equity != null ? Number(account.last_equity) : Number.NaN;
    return {
      equity: Number(account.equity),
      cash: Number(account.cash),
      buyingPower: Number(account.buying_power),
      currency: account.currency,
      startOfDayEquity: Number.isFinite(lastEquity) ? lastEquity : null,
      tradingBlocked: Boolean(account.trading_blocked || account.account_blocked),
    };
  }

  async getPositions(): Promise<BrokerPosition[]> {
    const { body } = await this.call("GET", "/v2/positions", "getPositions");
    const parsed = z.array(positionSchema).safeParse(body);
    if (!parsed.success) throw this.unexpected("getPositions", true);
    return parsed.data.map(toBrokerPosition);
  }

  async getQuote(instrument: Instrument): Promise<Quote | null> {
    if (!this.options.quotes) return null;
    try {
      return await this.options.quotes.getQuote(instrument);
    } catch {
      return null;
    }
  }

  private async call(
    method: string,
    path: string,
    operation: string,
    idempotent = true,
    extra: { body?: unknown; allow?: readonly number[] } = {},
  ) {
    const headers: Record<string, string> = { accept: "application/json", ...authHeaders(this.options.credentials) };
    if (extra.body !== undefined) headers["content-type"] = "application/json";
    return requestJson(
      `${this.baseUrl}${path}`,
      { method, headers, ...(extra.body !== undefined ? { body: JSON.stringify(extra.body) } : {}) },
      {
        broker: "alpaca",
        operation,
        idempotent,
        mapReason: alpacaReasons,
        timeoutMs: this.options.timeoutMs,
        fetch: this.options.fetch,
        nowMs: this.options.clock?.(),
        ...(extra.allow ? { allow: extra.allow } : {}),
      },
    );
  }

  private order(body: unknown, operation: string, idempotent = true): BrokerOrder {
    const parsed = alpacaOrderSchema.safeParse(body);
    if (!parsed.success) throw this.unexpected(operation, idempotent);
    return toBrokerOrder(parsed.data);
  }

  /** A 2xx whose body is not what Alpaca documents: for an order placement, the order may exist. */
  private unexpected(operation: string, idempotent: boolean): Error {
    const context: BrokerErrorContext = { broker: "alpaca", operation };
    const message = `alpaca ${operation} answered with an unexpected body`;
    return idempotent ? new TransientError(message, context) : new UnknownOutcomeError(message, context);
  }
}

function authHeaders(credentials: AlpacaCredentials): Record<string, string> {
  return credentials.kind === "oauth"
    ? { authorization: `Bearer ${credentials.accessToken}` }
    : { "APCA-API-KEY-ID": credentials.keyId, "APCA-API-SECRET-KEY": credentials.secretKey };
}

/** The Alpaca symbol: the equity ticker, "BASE/QUOTE" for crypto, the OCC symbol for options. */
function alpacaSymbol(instrument: Instrument): string {
  return instrumentKey(instrument);
}

/** Alpaca's time in force values for trailing stops. */
const TRAILING_STOP_TIME_IN_FORCE: readonly TimeInForce[] = ["day", "gtc"];

/** A trailing stop Alpaca would refuse is refused here, before any request: nothing is sent in its place. */
function refuseUntakenTrailingStop(intent: BrokerOrderIntent, capabilities: BrokerCapabilities): void {
  if (!takesTrailingStops(capabilities, intent.assetClass)) {
    throw new PermanentError(
      "unsupported",
      `Alpaca does not take trailing stops for ${intent.assetClass} orders (only for stocks and ETFs).`,
    );
  }
  if (!TRAILING_STOP_TIME_IN_FORCE.includes(intent.timeInForce)) {
    throw new PermanentError(
      "unsupported",
      `Alpaca takes trailing stops good for the day or until canceled, not ${intent.timeInForce}.`,
    );
  }
}

function orderBody(intent: BrokerOrderIntent): Record<string, unknown> {
  const body: Record<string, unknown> = {
    symbol: alpacaSymbol(intent),
    qty: decimalString(intent.quantity),
    side: sideDirection(intent.side),
    type: intent.orderType,
    time_in_force: intent.timeInForce,
    client_order_id: intent.clientOrderId,
  };
  if (intent.limitPrice !== null && (intent.orderType === "limit" || intent.orderType === "stop_limit")) {
    body.limit_price = decimalString(intent.limitPrice);
  }
  if (intent.stopPrice !== null && (intent.orderType === "stop" || intent.orderType === "stop_limit")) {
    body.stop_price = decimalString(intent.stopPrice);
  }
  if (intent.orderType === "trailing_stop" && intent.trail) {
    if ("percent" in intent.trail) body.trail_percent = decimalString(intent.trail.percent);
    else body.trail_price = decimalString(intent.trail.amount);
  }
  if (intent.assetClass === "option") {
    const intents: Record<OrderSide, string> = {
      buy: "buy_to_open",
      sell: "sell_to_close",
      sell_short: "sell_to_open",
      buy_to_cover: "buy_to_close",
    };
    body.position_intent = intents[intent.side];
  }
  const legs = intent.bracket;
  if (legs && (legs.takeProfit || legs.stopLoss)) {
    body.order_class = legs.takeProfit && legs.stopLoss ? "bracket" : "oto";
    if (legs.takeProfit) body.take_profit = { limit_price: decimalString(legs.takeProfit.limitPrice) };
    if (legs.stopLoss) {
      body.stop_loss = {
        stop_price: decimalString(legs.stopLoss.stopPrice),
        ...(legs.stopLoss.limitPrice !== null ? { limit_price: decimalString(legs.stopLoss.limitPrice) } : {}),
      };
    }
  }
  return body;
}

function toBrokerOrder(order: AlpacaOrder): BrokerOrder {
  const status = STATUS_MAP[order.status] ?? "submitted";
  const submittedAt = order.submitted_at ?? order.created_at;
  const filled = Number(order.filled_qty);
  const average = order.filled_avg_price != null ? Number(order.filled_avg_price) : Number.NaN;
  const type = (order.order_type ?? order.type ?? "market") as string;
  const plainSide: OrderSide = order.side === "sell" ? "sell" : "buy";
  const intended = POSITION_INTENT_SIDES[order.position_intent ?? ""];
  const side = intended && sideDirection(intended) === plainSide ? intended : plainSide;
  const trail = trailOf(order);
  return {
    brokerOrderId: order.id,
    clientOrderId: order.client_order_id,
    symbol: order.symbol,
    assetClass: ASSET_CLASSES[order.asset_class ?? ""] ?? (parseOccSymbol(order.symbol) ? "option" : "equity"),
    side,
    orderType: (ALPACA_CAPABILITIES.orderTypes.includes(type as OrderType) ? type : "stop") as OrderType,
    quantity: order.qty != null ? Number(order.qty) : filled,
    limitPrice: order.limit_price != null ? Number(order.limit_price) : null,
    stopPrice: stopLevel(order, plainSide, trail),
    ...(trail ? { trail } : {}),
    timeInForce: (["day", "gtc", "ioc", "fok"].includes(order.time_in_force)
      ? order.time_in_force
      : "day") as TimeInForce,
    status,
    filledQuantity: Number.isFinite(filled) ? filled : 0,
    averageFillPrice: Number.isFinite(average) && average > 0 ? average : null,
    submittedAt,
    updatedAt: order.updated_at ?? submittedAt,
    rejectReason: status === "rejected" ? "Rejected by Alpaca." : null,
    ...(order.legs && order.legs.length > 0 ? { legs: order.legs.map(toBrokerOrder) } : {}),
  };
}

/** A trailing stop's distance as Alpaca reports it (`trail_percent` or `trail_price`), else null. */
function trailOf(order: AlpacaOrder): TrailDistance | null {
  const percent = Number(order.trail_percent ?? Number.NaN);
  if (percent > 0) return { percent };
  const amount = Number(order.trail_price ?? Number.NaN);
  return amount > 0 ? { amount } : null;
}

/**
 * The level the order triggers at: `stop_price`, which Alpaca moves with a trailing stop's high water mark; for a
 * trailing stop reported without it, the level its `hwm` and trail give.
 */
function stopLevel(order: AlpacaOrder, side: "buy" | "sell", trail: TrailDistance | null): number | null {
  if (order.stop_price != null) return Number(order.stop_price);
  const best = Number(order.hwm ?? Number.NaN);
  return trail && best > 0 ? trailingStopLevel(side, best, trail) : null;
}

function toBrokerPosition(position: z.infer<typeof positionSchema>): BrokerPosition {
  const quantity = Math.abs(Number(position.qty));
  const short = position.side === "short" || Number(position.qty) < 0;
  const assetClass = ASSET_CLASSES[position.asset_class ?? ""] ?? "equity";
  const averageCost = Number(position.avg_entry_price);
  const marketPrice = position.current_price != null ? Number(position.current_price) : averageCost;
  const option = assetClass === "option" ? parseOccSymbol(position.symbol) : null;
  const symbol = assetClass === "crypto" ? cryptoPair(position.symbol) : position.symbol;
  const multiplier = assetClass === "option" ? 100 : 1;
  const signed = short ? -quantity : quantity;
  return {
    assetClass,
    symbol,
    option,
    direction: short ? "short" : "long",
    quantity,
    averageCost,
    marketPrice,
    marketValue: position.market_value != null ? Number(position.market_value) : signed * marketPrice * multiplier,
    unrealizedPnl:
      position.unrealized_pl != null
        ? Number(position.unrealized_pl)
        : (marketPrice - averageCost) * signed * multiplier,
  };
}

/** Alpaca lists crypto positions as "BTCUSD"; our key is "BTC/USD". */
function cryptoPair(symbol: string): string {
  if (symbol.includes("/")) return symbol;
  const quote = ["USDT", "USDC", "USD", "BTC"].find(
    (suffix) => symbol.endsWith(suffix) && symbol.length > suffix.length,
  );
  return quote ? `${symbol.slice(0, -quote.length)}/${quote}` : symbol;
}

/** A plain decimal string (never exponent notation), at most 9 decimals. */
function decimalString(value: number): string {
  return value.toFixed(9).replace(/\.?0+$/, "");
}
