/**
 * The paper broker, as pure functions over plain, JSON-serializable state: the
 * caller loads a `PaperAccountState`, applies a function, and stores the state
 * it gets back. Nothing here does I/O, reads a clock or mutates its input.
 *
 * Fill rules (each fill records the quote's source, timestamp and delay):
 * - market: buy at the ask (else the last price), sell at the bid (else last);
 * - limit: fills once the buy side's ask (else last) is at or below the limit,
 *   or the sell side's bid (else last) at or above it, at that better price;
 * - stop: triggers when the last price reaches the stop (buy: at or above,
 *   sell: at or below), then fills as a market order; stop-limit becomes a limit;
 * - trailing stop: its stop follows the best last price since it was placed
 *   (sell: the highest, less the trail; buy: the lowest, plus the trail), never
 *   moving back, and triggers like a stop; it must be reduce-only (an exit);
 * - no quote: the order waits (`waitingForPrice`); a price is never invented;
 * - an implausible quote is no quote: an option premium above its strike (a
 *   put) or above its underlying's price (a call), or a bid above the ask, is
 *   never filled at, and the order waits with a note saying why;
 * - reduce-only orders (every exit) may only shrink the position: one that
 *   would sell more than is held, or cover more than is short, is refused at
 *   submission and rejected if it comes to fill after the position shrank.
 * Whole quantity per fill. Options cost premium × 100 per contract; crypto
 * quantities may be fractional, equity shares and option contracts may not.
 * Buying power is equity less the gross value of all positions (no leverage)
 * less what open opening orders may need; closing never needs buying power.
 */

import { formatMoney, formatQuantity } from "../../discord/format";
import { nextRegularClose } from "../../market/new-york";
import {
  type AssetClass,
  contractMultiplier,
  type Instrument,
  instrumentKey,
  type OptionContract,
} from "../../quotes/instrument";
import type { Quote } from "../../quotes/quote";
import { utcDay } from "../../risk/daily-loss";
import {
  type BracketLegs,
  type BrokerAccount,
  type BrokerCapabilities,
  type BrokerFill,
  type BrokerOrder,
  type BrokerOrderIntent,
  type BrokerOrderStatus,
  type BrokerPosition,
  isOpenStatus,
  type OrderSide,
  type OrderType,
  parseOrderIntent,
  sideDirection,
  type TimeInForce,
  type TrailDistance,
  trailingStopLevel,
} from "../adapter";
import { PermanentError } from "../errors";

const PAPER_DEFAULTS = {
  startingCash: 100_000,
  currency: "USD",
  shortingEnabled: true,
} as const;

export const PAPER_CAPABILITIES: BrokerCapabilities = {
  broker: "paper",
  assetClasses: ["equity", "option", "crypto"],
  orderTypes: ["market", "limit", "stop", "stop_limit", "trailing_stop"],
  trailingStops: true,
  timeInForce: ["day", "gtc", "ioc", "fok"],
  brackets: true,
  fractional: false,
  shorting: true,
  // Runs inside the executor: no outside limit, so this only keeps a runaway loop in check.
  rateLimit: { requests: 1_000, periodMs: 1_000 },
  clientOrderIdLookup: true,
  clientOrderIdMaxLength: 128,
};

/**
 * The paper account as the risk engine sees it: what the broker above trades, with its exits placed by the
 * executor once the entry fills (the path brokers without brackets take too), never as a native bracket.
 */
export const PAPER_RISK_CAPABILITIES = {
  assetClasses: PAPER_CAPABILITIES.assetClasses,
  fractional: PAPER_CAPABILITIES.fractional,
  shorting: PAPER_CAPABILITIES.shorting,
  brackets: false,
} as const satisfies Pick<BrokerCapabilities, "assetClasses" | "fractional" | "shorting" | "brackets">;

interface PaperPosition extends Instrument {
  key: string;
  /** Signed: negative for a short. */
  quantity: number;
  averageCost: number;
  lastPrice: number;
  lastPriceAt: string;
  lastPriceSource: string;
}

interface PaperOrder {
  brokerOrderId: string;
  clientOrderId: string;
  key: string;
  assetClass: AssetClass;
  symbol: string;
  option: OptionContract | null;
  side: OrderSide;
  orderType: OrderType;
  quantity: number;
  limitPrice: number | null;
  stopPrice: number | null;
  timeInForce: TimeInForce;
  status: BrokerOrderStatus;
  filledQuantity: number;
  averageFillPrice: number | null;
  fills: BrokerFill[];
  submittedAt: string;
  updatedAt: string;
  rejectReason: string | null;
  waitingForPrice: boolean;
  note: string | null;
  /** A stop or stop-limit whose stop price has been reached. */
  triggered: boolean;
  /** When a `day` order expires (ISO), or null. */
  expiresAt: string | null;
  bracket: BracketLegs | null;
  parentOrderId: string | null;
  legIds: string[];
  /** Orders in the same group cancel each other when one fills (a bracket's exits). */
  ocoGroup: string | null;
  /** May only shrink the position (exits). Absent on orders stored before it existed: false. */
  reduceOnly?: boolean;
  /** A trailing stop's distance, and the best last price it has seen (its stop is that less or plus the trail). */
  trail?: TrailDistance | null;
  trailBest?: number | null;
  seq: number;
}

export interface PaperAccountState {
  version: 1;
  currency: string;
  startingCash: number;
  cash: number;
  realizedPnl: number;
  shortingEnabled: boolean;
  positions: Record<string, PaperPosition>;
  /** Every order, by broker order id. */
  orders: Record<string, PaperOrder>;
  /** Client order id → broker order id. */
  clientOrderIds: Record<string, string>;
  nextOrderSeq: number;
  /** Equity at 00:00 UTC of `date`, for the daily loss limit. */
  day: { date: string; startEquity: number } | null;
  createdAt: string;
}

export type PaperEvent =
  | { type: "accepted"; order: BrokerOrder }
  | { type: "waiting_for_price"; order: BrokerOrder }
  | { type: "triggered"; order: BrokerOrder }
  | { type: "filled"; order: BrokerOrder; fill: BrokerFill }
  | { type: "canceled"; order: BrokerOrder; reason: string }
  | { type: "expired"; order: BrokerOrder }
  | { type: "rejected"; order: BrokerOrder; reason: string };

interface PaperFillReport {
  order: BrokerOrder;
  fill: BrokerFill;
}

/** What else the engine may know about an instrument's price: the underlying's last price, for an option. */
export interface QuoteContext {
  underlyingLast?: number | null;
}

export interface PaperAccountOptions {
  startingCash?: number;
  currency?: string;
  shortingEnabled?: boolean;
}

type Now = number | Date;

export function createPaperAccount(options: PaperAccountOptions = {}, now: Now = 0): PaperAccountState {
  const startingCash = options.startingCash ?? PAPER_DEFAULTS.startingCash;
  if (!Number.isFinite(startingCash) || startingCash < 0) throw new RangeError("startingCash must be ≥ 0");
  return {
    version: 1,
    currency: options.currency ?? PAPER_DEFAULTS.currency,
    startingCash,
    cash: startingCash,
    realizedPnl: 0,
    shortingEnabled: options.shortingEnabled ?? PAPER_DEFAULTS.shortingEnabled,
    positions: {},
    orders: {},
    clientOrderIds: {},
    nextOrderSeq: 1,
    day: null,
    createdAt: iso(now),
  };
}

export interface SubmitResult {
  state: PaperAccountState;
  order: BrokerOrder;
  events: PaperEvent[];
  /** The client order id was already used: `order` is the existing order and nothing changed. */
  duplicate: boolean;
}

/**
 * Places an order. The same client order id twice returns the existing order
 * (never a second one). A refused order throws a PermanentError and changes
 * nothing: insufficient_funds, insufficient_position (selling more than held
 * with shorting off), invalid_order, unsupported.
 */
export function submitOrder(
  state: PaperAccountState,
  input: BrokerOrderIntent,
  quote: Quote | null,
  now: Now,
  context: QuoteContext = {},
): SubmitResult {
  const existingId = state.clientOrderIds[input.clientOrderId];
  const existing = existingId ? state.orders[existingId] : undefined;
  if (existing) return { state, order: toBrokerOrder(state, existing), events: [], duplicate: true };

  const intent = parseOrderIntent(input);
  const key = instrumentKey(intent);
  const next = copyFor(state, key);
  rollDay(next, now);
  const priced = usableQuote(key, quote);
  const implausible = priced ? implausibility(intent, priced, context) : null;
  const usable = implausible ? null : priced;
  checkSupported(intent);

  const order = newOrder(next, intent, key, now);
  const events: PaperEvent[] = [];
  const referencePrice = estimatePrice(order, usable, next);
  checkReduceOnly(next, order, order.quantity);
  checkShorting(next, order, order.quantity);
  if (referencePrice !== null) checkBuyingPower(next, order, order.quantity, referencePrice, null);

  if (usable) markPosition(next, key, usable);
  next.orders[order.brokerOrderId] = order;
  next.clientOrderIds[order.clientOrderId] = order.brokerOrderId;
  events.push({ type: "accepted", order: toBrokerOrder(next, order) });

  if (!usable) {
    order.waitingForPrice = true;
    order.note = implausible
      ? `Waiting for a plausible price: ${implausible}`
      : "Waiting for a price: no quote is available yet.";
    if (order.timeInForce === "ioc" || order.timeInForce === "fok") {
      finish(next, order, "canceled", now, "No price was available to fill this immediate order.", events);
    } else {
      events.push({ type: "waiting_for_price", order: toBrokerOrder(next, order) });
    }
    return { state: next, order: toBrokerOrder(next, order), events, duplicate: false };
  }

  tryFill(next, order, usable, now, events, true);
  if (isOpenStatus(order.status) && (order.timeInForce === "ioc" || order.timeInForce === "fok")) {
    finish(next, order, "canceled", now, "The price did not allow an immediate fill.", events);
  }
  return { state: next, order: toBrokerOrder(next, order), events, duplicate: false };
}

export interface QuoteResult {
  state: PaperAccountState;
  fills: PaperFillReport[];
  events: PaperEvent[];
}

/**
 * A new quote for one instrument (its `instrumentKey`): marks the position,
 * expires day orders past their time, and fills or triggers the open orders
 * the price reaches, oldest first.
 */
export function onQuote(
  state: PaperAccountState,
  symbol: string,
  quote: Quote,
  now: Now,
  context: QuoteContext = {},
): QuoteResult {
  return onQuotes(state, [{ symbol, quote, context }], now);
}

/**
 * Several instruments' quotes applied in turn, exactly as `onQuote` one after another would, on one copy of the
 * account: an account with many instruments is not copied once per quote. Nothing usable leaves `state` as it was.
 */
export function onQuotes(
  state: PaperAccountState,
  priced: ReadonlyArray<{ symbol: string; quote: Quote; context?: QuoteContext }>,
  now: Now,
): QuoteResult {
  let next: PaperAccountState | null = null;
  const events: PaperEvent[] = [];
  for (const { symbol, quote, context = {} } of priced) {
    const usable = usableQuote(symbol, quote);
    if (!usable) continue;
    const current = next ?? state;
    const sample = Object.values(current.orders).find((order) => order.key === symbol) ?? current.positions[symbol];
    const implausible = sample ? implausibility(sample, usable, context) : null;
    if (implausible) {
      if (!hasOpenOrders(current, symbol)) continue;
      next = copyFor(state, symbol, next);
      holdForPlausiblePrice(next, symbol, implausible);
      continue;
    }
    if (ordersUntouched(current, symbol, usable, now)) {
      if (current.day?.date === utcDay(toMs(now)) && !current.positions[symbol]) continue;
      // Only the day and the position's mark move: the instrument's orders stay shared with `state`.
      next = copyPosition(state, symbol, next);
      rollDay(next, now);
      markPosition(next, symbol, usable);
      continue;
    }
    next = copyFor(state, symbol, next);
    applyQuote(next, symbol, usable, now, events);
  }
  const fills = events.flatMap((event) =>
    event.type === "filled" ? [{ order: event.order, fill: event.fill } satisfies PaperFillReport] : [],
  );
  return { state: next ?? state, fills, events };
}

/**
 * A quote `applyQuote` would leave every open order of the instrument exactly as it is with: none expiring or waiting
 * for a price, each a limit the price has not reached or a stop (or a stop-limit's stop) it has not reached, or a
 * triggered stop-limit whose limit it has not reached. A member's resting limits and working exits are looked at on
 * every follow-up, and copying them (and, without a position to mark, storing the account) each time cost more than
 * everything else there. Then only the day and the position's mark can change; any other case is applied on a copy.
 */
function ordersUntouched(state: PaperAccountState, key: string, quote: Quote, now: Now): boolean {
  const nowMs = toMs(now);
  for (const order of Object.values(state.orders)) {
    if (order.key !== key || !isOpenStatus(order.status)) continue;
    if (order.waitingForPrice) return false;
    if (order.expiresAt !== null && Date.parse(order.expiresAt) <= nowMs) return false;
    if (!leftAlone(order, quote)) return false;
  }
  return true;
}

/** An open order `tryFill` would not change at this quote. A trailing stop's best price may move, so never. */
function leftAlone(order: PaperOrder, quote: Quote): boolean {
  switch (order.orderType) {
    case "limit":
      return limitUnreached(order, quote);
    case "stop":
      return !order.triggered && !stopReached(order, quote);
    case "stop_limit":
      return order.triggered ? limitUnreached(order, quote) : !stopReached(order, quote);
    default:
      return false;
  }
}

/** The last price has reached the stop: a buy's at or above it, a sell's at or below it. */
function stopReached(order: Pick<PaperOrder, "side" | "stopPrice">, quote: Quote): boolean {
  const stop = order.stopPrice as number;
  return sideDirection(order.side) === "buy" ? quote.last >= stop : quote.last <= stop;
}

/** The price a market order of this side would fill at now. */
function marketPriceFor(order: Pick<PaperOrder, "side">, quote: Quote): number {
  return sideDirection(order.side) === "buy" ? (quote.ask ?? quote.last) : (quote.bid ?? quote.last);
}

/** A limit the market has not reached: a buy's ask above it, a sell's bid below it. */
function limitUnreached(order: Pick<PaperOrder, "side" | "limitPrice">, quote: Quote): boolean {
  const price = marketPriceFor(order, quote);
  return sideDirection(order.side) === "buy"
    ? price > (order.limitPrice as number)
    : price < (order.limitPrice as number);
}

/** One usable, plausible quote applied to the account in place: expiries, the position's mark, then fills. */
function applyQuote(next: PaperAccountState, symbol: string, usable: Quote, now: Now, events: PaperEvent[]): void {
  rollDay(next, now);
  expireInto(next, now, events, symbol);
  markPosition(next, symbol, usable);
  const candidates = Object.values(next.orders)
    .filter((order) => order.key === symbol && isOpenStatus(order.status))
    .sort((a, b) => a.seq - b.seq);
  for (const order of candidates) {
    // A leg spawned by an earlier fill in this loop, or canceled by its sibling, waits for the next quote.
    if (!isOpenStatus(order.status)) continue;
    if (order.waitingForPrice) {
      order.waitingForPrice = false;
      order.note = null;
    }
    tryFill(next, order, usable, now, events, false);
  }
}

export interface CancelResult {
  state: PaperAccountState;
  order: BrokerOrder;
  events: PaperEvent[];
}

/** Cancels an open order: order_not_found when unknown, order_not_cancelable when already final. */
export function cancelOrder(state: PaperAccountState, brokerOrderId: string, now: Now): CancelResult {
  const current = state.orders[brokerOrderId];
  if (!current) throw new PermanentError("order_not_found", `No paper order ${brokerOrderId}.`);
  if (!isOpenStatus(current.status)) {
    throw new PermanentError("order_not_cancelable", `Order ${brokerOrderId} is already ${current.status}.`);
  }
  const next = copyFor(state, current.key);
  const order = next.orders[brokerOrderId] as PaperOrder;
  const events: PaperEvent[] = [];
  finish(next, order, "canceled", now, "Canceled on request.", events);
  return { state: next, order: toBrokerOrder(next, order), events };
}

/** Expires every `day` order whose time has passed. */
export function expireOrders(state: PaperAccountState, now: Now): { state: PaperAccountState; events: PaperEvent[] } {
  const due = Object.values(state.orders).some(
    (order) => isOpenStatus(order.status) && order.expiresAt !== null && Date.parse(order.expiresAt) <= toMs(now),
  );
  if (!due) return { state, events: [] };
  const next = clone(state);
  const events: PaperEvent[] = [];
  expireInto(next, now, events, null);
  return { state: next, events };
}

export interface MarkResult {
  state: PaperAccountState;
  account: BrokerAccount;
  positions: BrokerPosition[];
}

/** Marks positions at the quotes given (keyed by `instrumentKey` or as a list) and values the account. */
export function markToMarket(
  state: PaperAccountState,
  quotes: Readonly<Record<string, Quote>> | readonly Quote[],
  now: Now,
): MarkResult {
  const next = clone(state);
  rollDay(next, now);
  const list = Array.isArray(quotes) ? quotes : Object.values(quotes);
  for (const quote of list) {
    const usable = usableQuote(quote.symbol, quote);
    if (usable) markPosition(next, quote.symbol, usable);
  }
  return { state: next, account: accountOf(next), positions: positionsOf(next) };
}

/** The account's figures at the positions' last known prices. */
export function accountOf(state: PaperAccountState): BrokerAccount {
  const value = valuation(state);
  return {
    equity: money(value.equity),
    cash: money(state.cash),
    buyingPower: money(Math.max(0, value.equity - value.gross - reservedBuyingPower(state, null))),
    currency: state.currency,
    startOfDayEquity: state.day ? state.day.startEquity : null,
    realizedPnl: money(state.realizedPnl),
    unrealizedPnl: money(value.unrealized),
    tradingBlocked: false,
  };
}

export function positionsOf(state: PaperAccountState): BrokerPosition[] {
  return Object.values(state.positions).map((position) => {
    const multiplier = contractMultiplier(position);
    return {
      assetClass: position.assetClass,
      symbol: position.key,
      option: position.option,
      direction: position.quantity < 0 ? "short" : "long",
      quantity: Math.abs(position.quantity),
      averageCost: position.averageCost,
      marketPrice: position.lastPrice,
      marketValue: money(position.quantity * position.lastPrice * multiplier),
      unrealizedPnl: money((position.lastPrice - position.averageCost) * position.quantity * multiplier),
    };
  });
}

/**
 * How long a finished paper order (filled, canceled, expired, rejected) stays in the account after its last change.
 * The account is one document that every call reads and writes whole, so it must not keep every order a member ever
 * placed; the executor's order rows keep the history. A week is far beyond anything that asks the desk about a
 * finished order: follow-ups stop after 15 minutes, reconciliation runs every 5, queue retries end within minutes.
 */
export const FINISHED_ORDER_RETENTION_MS = 7 * 24 * 60 * 60_000;

/**
 * The account without the orders that finished over `FINISHED_ORDER_RETENTION_MS` before `now`, nor their client
 * order ids. An order stays while any order of its family (its parent, its legs, the other orders of its
 * one-cancels-other group) is open or recent, so a working exit never loses its bracket. Returns `state` itself when
 * nothing is that old.
 */
export function forgetFinishedOrders(state: PaperAccountState, now: number): PaperAccountState {
  const cutoff = now - FINISHED_ORDER_RETENTION_MS;
  const orders = Object.values(state.orders);
  const kept = new Set<string>();
  for (const order of orders) {
    if (isOpenStatus(order.status) || Date.parse(order.updatedAt) > cutoff) kept.add(order.brokerOrderId);
  }
  if (kept.size === orders.length) return state;
  // A bracket's parent, its legs and their one-cancels-other group share the parent's id.
  const familyOf = (order: PaperOrder) => order.ocoGroup ?? order.parentOrderId ?? order.brokerOrderId;
  const liveFamilies = new Set(orders.filter((order) => kept.has(order.brokerOrderId)).map(familyOf));
  const remaining: Record<string, PaperOrder> = {};
  for (const order of orders) if (liveFamilies.has(familyOf(order))) remaining[order.brokerOrderId] = order;
  if (Object.keys(remaining).length === orders.length) return state;
  const clientOrderIds: Record<string, string> = {};
  for (const [clientOrderId, brokerOrderId] of Object.entries(state.clientOrderIds)) {
    if (remaining[brokerOrderId]) clientOrderIds[clientOrderId] = brokerOrderId;
  }
  return { ...state, orders: remaining, clientOrderIds };
}

export function findOrder(state: PaperAccountState, brokerOrderId: string): BrokerOrder | null {
  const order = state.orders[brokerOrderId];
  return order ? toBrokerOrder(state, order) : null;
}

export function findOrderByClientId(state: PaperAccountState, clientOrderId: string): BrokerOrder | null {
  const id = state.clientOrderIds[clientOrderId];
  return id ? findOrder(state, id) : null;
}

export function openOrders(state: PaperAccountState): BrokerOrder[] {
  return Object.values(state.orders)
    .filter((order) => isOpenStatus(order.status))
    .sort((a, b) => a.seq - b.seq)
    .map((order) => toBrokerOrder(state, order));
}

/** Instruments with open orders: what needs a fresh quote to make progress. */
export function instrumentsAwaitingQuotes(state: PaperAccountState): Instrument[] {
  const byKey = new Map<string, Instrument>();
  for (const order of Object.values(state.orders)) {
    if (isOpenStatus(order.status)) {
      byKey.set(order.key, { assetClass: order.assetClass, symbol: order.symbol, option: order.option });
    }
  }
  return [...byKey.values()];
}

function toBrokerOrder(state: PaperAccountState, order: PaperOrder): BrokerOrder {
  const legs = order.legIds.flatMap((id) => {
    const leg = state.orders[id];
    return leg ? [toBrokerOrder(state, leg)] : [];
  });
  return {
    brokerOrderId: order.brokerOrderId,
    clientOrderId: order.clientOrderId,
    symbol: order.key,
    assetClass: order.assetClass,
    side: order.side,
    orderType: order.orderType,
    quantity: order.quantity,
    limitPrice: order.limitPrice,
    stopPrice: order.stopPrice,
    ...(order.trail ? { trail: { ...order.trail } } : {}),
    timeInForce: order.timeInForce,
    status: order.status,
    filledQuantity: order.filledQuantity,
    averageFillPrice: order.averageFillPrice,
    fills: order.fills.map((fill) => ({ ...fill })),
    submittedAt: order.submittedAt,
    updatedAt: order.updatedAt,
    rejectReason: order.rejectReason,
    ...(legs.length > 0 ? { legs } : {}),
    waitingForPrice: order.waitingForPrice,
    note: order.note,
  };
}

// ---------------------------------------------------------------------------

function checkSupported(intent: BrokerOrderIntent): void {
  if (intent.assetClass === "equity" && !Number.isInteger(intent.quantity)) {
    throw new PermanentError("unsupported", "Paper equity orders are in whole shares.");
  }
  if (intent.orderType === "trailing_stop") {
    const trail = intent.trail;
    const distance = trail ? ("percent" in trail ? trail.percent : trail.amount) : Number.NaN;
    if (!trail || !(distance > 0) || ("percent" in trail && distance >= 100)) {
      throw new PermanentError(
        "invalid_order",
        "A trailing stop needs a trail: a percent below 100 or an amount above 0.",
      );
    }
    if (!intent.reduceOnly) {
      throw new PermanentError("invalid_order", "A paper trailing stop is an exit: it must be reduce-only.");
    }
  }
}

function newOrder(state: PaperAccountState, intent: BrokerOrderIntent, key: string, now: Now): PaperOrder {
  const seq = state.nextOrderSeq++;
  const at = iso(now);
  return {
    brokerOrderId: `paper-${seq}`,
    clientOrderId: intent.clientOrderId,
    key,
    assetClass: intent.assetClass,
    symbol: intent.symbol,
    option: intent.option,
    side: intent.side,
    orderType: intent.orderType,
    quantity: intent.quantity,
    limitPrice: intent.orderType === "limit" || intent.orderType === "stop_limit" ? intent.limitPrice : null,
    stopPrice: intent.orderType === "stop" || intent.orderType === "stop_limit" ? intent.stopPrice : null,
    timeInForce: intent.timeInForce,
    status: "submitted",
    filledQuantity: 0,
    averageFillPrice: null,
    fills: [],
    submittedAt: at,
    updatedAt: at,
    rejectReason: null,
    waitingForPrice: false,
    note: null,
    triggered: false,
    expiresAt: intent.timeInForce === "day" ? dayOrderExpiry(intent.assetClass, toMs(now)) : null,
    bracket: intent.bracket ?? null,
    parentOrderId: null,
    legIds: [],
    ocoGroup: null,
    reduceOnly: intent.reduceOnly ?? false,
    ...(intent.orderType === "trailing_stop" ? { trail: intent.trail ?? null, trailBest: null } : {}),
    seq,
  };
}

/** Fills or triggers `order` if `quote` allows it. At submission a refusal throws; later it rejects the order. */
function tryFill(
  state: PaperAccountState,
  order: PaperOrder,
  quote: Quote,
  now: Now,
  events: PaperEvent[],
  atSubmission: boolean,
): void {
  const buying = sideDirection(order.side) === "buy";
  if (order.orderType === "trailing_stop" && !order.triggered && order.trail) {
    // The best price only ever improves, so the stop only ever tightens.
    const best =
      order.trailBest == null
        ? quote.last
        : buying
          ? Math.min(order.trailBest, quote.last)
          : Math.max(order.trailBest, quote.last);
    const level = trailingStopLevel(buying ? "buy" : "sell", best, order.trail);
    if (best !== order.trailBest || level !== order.stopPrice) {
      order.trailBest = best;
      order.stopPrice = level;
      order.updatedAt = iso(now);
    }
  }
  if (
    (order.orderType === "stop" || order.orderType === "stop_limit" || order.orderType === "trailing_stop") &&
    !order.triggered
  ) {
    if (!stopReached(order, quote)) return;
    order.triggered = true;
    order.updatedAt = iso(now);
    events.push({ type: "triggered", order: toBrokerOrder(state, order) });
  }
  const marketPrice = marketPriceFor(order, quote);
  const limited = order.orderType === "limit" || order.orderType === "stop_limit";
  if (limited && limitUnreached(order, quote)) return;

  const quantity = roundQuantity(order.quantity - order.filledQuantity);
  try {
    checkReduceOnly(state, order, quantity);
    checkShorting(state, order, quantity);
    checkBuyingPower(state, order, quantity, marketPrice, order.brokerOrderId);
  } catch (error) {
    if (atSubmission || !(error instanceof PermanentError)) throw error;
    finish(state, order, "rejected", now, error.message, events);
    return;
  }
  applyFill(state, order, quantity, marketPrice, quote, now, events);
}

function applyFill(
  state: PaperAccountState,
  order: PaperOrder,
  quantity: number,
  price: number,
  quote: Quote,
  now: Now,
  events: PaperEvent[],
): void {
  const multiplier = contractMultiplier(order);
  const buying = sideDirection(order.side) === "buy";
  const delta = buying ? quantity : -quantity;
  const held = state.positions[order.key]?.quantity ?? 0;
  const closing = Math.min(quantity, Math.max(0, buying ? -held : held));

  state.cash = money(state.cash - delta * price * multiplier);
  const position = state.positions[order.key];
  if (position && closing > 0) {
    const perUnit = buying ? position.averageCost - price : price - position.averageCost;
    state.realizedPnl = money(state.realizedPnl + perUnit * closing * multiplier);
  }

  const after = roundQuantity(held + delta);
  if (after === 0) {
    delete state.positions[order.key];
  } else {
    const opening = quantity - closing;
    const averageCost =
      !position || Math.sign(after) !== Math.sign(held)
        ? price
        : opening > 0
          ? (position.averageCost * Math.abs(held) + price * opening) / Math.abs(after)
          : position.averageCost;
    state.positions[order.key] = {
      key: order.key,
      assetClass: order.assetClass,
      symbol: order.symbol,
      option: order.option,
      quantity: after,
      averageCost: roundPrice(averageCost),
      lastPrice: quote.last,
      lastPriceAt: quote.timestamp,
      lastPriceSource: quote.source,
    };
  }

  const fill: BrokerFill = {
    fillId: `${order.brokerOrderId}-${order.fills.length + 1}`,
    price,
    quantity,
    at: iso(now),
    quoteSource: quote.source,
    quoteTimestamp: quote.timestamp,
    delayed: quote.delayed,
  };
  const filledBefore = order.filledQuantity;
  order.fills.push(fill);
  order.filledQuantity = roundQuantity(filledBefore + quantity);
  order.averageFillPrice = roundPrice(
    ((order.averageFillPrice ?? 0) * filledBefore + price * quantity) / order.filledQuantity,
  );
  order.status = order.filledQuantity >= order.quantity ? "filled" : "partially_filled";
  order.waitingForPrice = false;
  order.note = quote.note ?? null;
  order.updatedAt = iso(now);
  events.push({ type: "filled", order: toBrokerOrder(state, order), fill: { ...fill } });

  if (order.status !== "filled") return;
  if (order.ocoGroup) {
    for (const sibling of Object.values(state.orders)) {
      if (sibling.ocoGroup === order.ocoGroup && sibling !== order && isOpenStatus(sibling.status)) {
        finish(state, sibling, "canceled", now, "The other exit of this bracket filled.", events);
      }
    }
  }
  if (order.bracket) placeBracketLegs(state, order, now, events);
}

function placeBracketLegs(state: PaperAccountState, parent: PaperOrder, now: Now, events: PaperEvent[]): void {
  const legs = parent.bracket as BracketLegs;
  const exitSide: OrderSide = sideDirection(parent.side) === "buy" ? "sell" : "buy_to_cover";
  const timeInForce: TimeInForce = parent.timeInForce === "day" ? "day" : "gtc";
  const base = {
    ...parent,
    side: exitSide,
    timeInForce,
    quantity: parent.filledQuantity,
    bracket: null,
    reduceOnly: true,
  };
  const specs: Array<{ suffix: string; orderType: OrderType; limitPrice: number | null; stopPrice: number | null }> =
    [];
  if (legs.takeProfit) {
    specs.push({ suffix: "tp", orderType: "limit", limitPrice: legs.takeProfit.limitPrice, stopPrice: null });
  }
  if (legs.stopLoss) {
    const { stopPrice, limitPrice } = legs.stopLoss;
    specs.push({ suffix: "sl", orderType: limitPrice === null ? "stop" : "stop_limit", limitPrice, stopPrice });
  }
  for (const spec of specs) {
    const intent: BrokerOrderIntent = {
      ...base,
      clientOrderId: `${parent.clientOrderId}:${spec.suffix}`,
      orderType: spec.orderType,
      limitPrice: spec.limitPrice,
      stopPrice: spec.stopPrice,
    };
    const leg = newOrder(state, intent, parent.key, now);
    leg.parentOrderId = parent.brokerOrderId;
    leg.ocoGroup = specs.length > 1 ? parent.brokerOrderId : null;
    state.orders[leg.brokerOrderId] = leg;
    state.clientOrderIds[leg.clientOrderId] = leg.brokerOrderId;
    parent.legIds.push(leg.brokerOrderId);
    events.push({ type: "accepted", order: toBrokerOrder(state, leg) });
  }
}

function finish(
  state: PaperAccountState,
  order: PaperOrder,
  status: "canceled" | "expired" | "rejected",
  now: Now,
  reason: string,
  events: PaperEvent[],
): void {
  order.status = status;
  order.waitingForPrice = false;
  order.note = reason;
  order.updatedAt = iso(now);
  if (status === "rejected") order.rejectReason = reason;
  const snapshot = toBrokerOrder(state, order);
  if (status === "expired") events.push({ type: "expired", order: snapshot });
  else if (status === "rejected") events.push({ type: "rejected", order: snapshot, reason });
  else events.push({ type: "canceled", order: snapshot, reason });
}

function expireInto(state: PaperAccountState, now: Now, events: PaperEvent[], symbol: string | null): void {
  const nowMs = toMs(now);
  for (const order of Object.values(state.orders)) {
    if (symbol !== null && order.key !== symbol) continue;
    if (!isOpenStatus(order.status) || order.expiresAt === null || Date.parse(order.expiresAt) > nowMs) continue;
    finish(state, order, "expired", now, "The day order expired unfilled.", events);
  }
}

/** A reduce-only order may close what is held in the other direction, never more: the rest would flip the position. */
function checkReduceOnly(state: PaperAccountState, order: PaperOrder, quantity: number): void {
  if (!order.reduceOnly) return;
  const held = state.positions[order.key]?.quantity ?? 0;
  const buying = sideDirection(order.side) === "buy";
  const closable = Math.max(0, buying ? -held : held);
  if (quantity <= closable + 1e-9) return;
  const holding = held === 0 ? "no position" : `${held > 0 ? "long" : "short"} ${formatQuantity(Math.abs(held))}`;
  throw new PermanentError(
    "insufficient_position",
    `Reduce-only: this exit would ${buying ? "buy" : "sell"} ${formatQuantity(quantity)} ${order.key} but the account holds ${holding}; it would ${held === 0 ? "open" : "flip"} a position instead of closing one.`,
  );
}

/**
 * Why a quote cannot be a real price for the instrument, or null when it can:
 * an option is worth less than its strike (a put) and less than its underlying
 * (a call), and a bid is never above the ask.
 */
function implausibility(
  instrument: Pick<Instrument, "assetClass" | "option">,
  quote: Quote,
  context: QuoteContext = {},
): string | null {
  if (quote.bid !== undefined && quote.ask !== undefined && quote.bid > quote.ask) {
    return `the quote for ${quote.symbol} is crossed (bid ${quote.bid} above ask ${quote.ask}).`;
  }
  const option = instrument.assetClass === "option" ? instrument.option : null;
  if (!option) return null;
  const premium = Math.max(quote.last, quote.ask ?? 0, quote.bid ?? 0);
  const label = `${option.underlying} ${option.expiration} ${option.strike} ${option.right}`;
  if (option.right === "put" && premium > option.strike) {
    return `the quote ${premium} for ${label} is above its strike, which no put is worth.`;
  }
  const underlying = context.underlyingLast;
  if (option.right === "call" && underlying && premium > underlying) {
    return `the quote ${premium} for ${label} is above its underlying's ${underlying}, which no call is worth.`;
  }
  return null;
}

function hasOpenOrders(state: PaperAccountState, key: string): boolean {
  return Object.values(state.orders).some((order) => order.key === key && isOpenStatus(order.status));
}

/** Open orders of an instrument whose only quote is implausible wait, and say why (in place). */
function holdForPlausiblePrice(state: PaperAccountState, key: string, reason: string): void {
  for (const order of Object.values(state.orders)) {
    if (order.key !== key || !isOpenStatus(order.status)) continue;
    order.waitingForPrice = true;
    order.note = `Waiting for a plausible price: ${reason}`;
  }
}

function checkShorting(state: PaperAccountState, order: PaperOrder, quantity: number): void {
  if (sideDirection(order.side) === "buy" || state.shortingEnabled) return;
  const held = state.positions[order.key]?.quantity ?? 0;
  if (quantity > held + 1e-9) {
    throw new PermanentError(
      "insufficient_position",
      `You hold ${formatQuantity(Math.max(0, held))} ${order.key}; selling ${formatQuantity(quantity)} would open a short, and shorting is off for this account.`,
    );
  }
}

/** Refuses an order whose opening part needs more than the buying power left (excluding the order's own reservation). */
function checkBuyingPower(
  state: PaperAccountState,
  order: PaperOrder,
  quantity: number,
  price: number,
  excludeOrderId: string | null,
): void {
  const opening = openingQuantity(state, order, quantity);
  if (opening <= 0) return;
  const needed = opening * price * contractMultiplier(order);
  const value = valuation(state);
  const available = value.equity - value.gross - reservedBuyingPower(state, excludeOrderId);
  if (needed > available + 1e-6) {
    throw new PermanentError(
      "insufficient_funds",
      `Insufficient buying power: this order needs ${formatMoney(needed, state.currency)}, ${formatMoney(Math.max(0, available), state.currency)} is available.`,
    );
  }
}

/** The part of `quantity` that opens or adds to a position (the rest closes one). */
function openingQuantity(state: PaperAccountState, order: PaperOrder, quantity: number): number {
  const held = state.positions[order.key]?.quantity ?? 0;
  const closable = Math.max(0, sideDirection(order.side) === "buy" ? -held : held);
  return Math.max(0, roundQuantity(quantity - closable));
}

/** What open orders may still need: their opening part at their limit, stop or last known price. */
function reservedBuyingPower(state: PaperAccountState, excludeOrderId: string | null): number {
  let reserved = 0;
  for (const order of Object.values(state.orders)) {
    if (order.brokerOrderId === excludeOrderId || !isOpenStatus(order.status)) continue;
    const price = order.limitPrice ?? order.stopPrice ?? state.positions[order.key]?.lastPrice ?? null;
    if (price === null) continue;
    const remaining = order.quantity - order.filledQuantity;
    reserved += openingQuantity(state, order, remaining) * price * contractMultiplier(order);
  }
  return reserved;
}

function valuation(state: PaperAccountState): { equity: number; gross: number; unrealized: number } {
  let net = 0;
  let gross = 0;
  let unrealized = 0;
  for (const position of Object.values(state.positions)) {
    const multiplier = contractMultiplier(position);
    net += position.quantity * position.lastPrice * multiplier;
    gross += Math.abs(position.quantity) * position.lastPrice * multiplier;
    unrealized += (position.lastPrice - position.averageCost) * position.quantity * multiplier;
  }
  return { equity: state.cash + net, gross, unrealized };
}

/** The price an order would likely trade at now, for the buying-power check at submission. */
function estimatePrice(order: PaperOrder, quote: Quote | null, state: PaperAccountState): number | null {
  const buying = sideDirection(order.side) === "buy";
  const market = quote ? (buying ? (quote.ask ?? quote.last) : (quote.bid ?? quote.last)) : null;
  if (order.orderType === "limit" || order.orderType === "stop_limit") return order.limitPrice;
  if (order.orderType === "stop") return order.stopPrice;
  return market ?? state.positions[order.key]?.lastPrice ?? null;
}

function markPosition(state: PaperAccountState, key: string, quote: Quote): void {
  const position = state.positions[key];
  if (!position) return;
  if (Date.parse(quote.timestamp) < Date.parse(position.lastPriceAt)) return;
  position.lastPrice = quote.last;
  position.lastPriceAt = quote.timestamp;
  position.lastPriceSource = quote.source;
}

function rollDay(state: PaperAccountState, now: Now): void {
  const date = utcDay(toMs(now));
  if (state.day?.date === date) return;
  state.day = { date, startEquity: money(valuation(state).equity) };
}

/** A quote is used only for its own instrument and with a real price. */
function usableQuote(key: string, quote: Quote | null): Quote | null {
  if (!quote || quote.symbol !== key || !Number.isFinite(quote.last) || quote.last <= 0) return null;
  if (Number.isNaN(Date.parse(quote.timestamp))) return null;
  return quote;
}

/**
 * Equities and options: the next regular close (16:00 New York time);
 * crypto trades around the clock, so its day ends at the next 00:00 UTC.
 */
export function dayOrderExpiry(assetClass: AssetClass, nowMs: number): string {
  if (assetClass === "crypto") {
    const midnight = new Date(nowMs);
    midnight.setUTCHours(24, 0, 0, 0);
    return midnight.toISOString();
  }
  return new Date(nextRegularClose(nowMs)).toISOString();
}

function clone(state: PaperAccountState): PaperAccountState {
  return structuredClone(state);
}

/**
 * A copy of the account to change for one instrument: its own maps, scalars and day, and its own copies of that
 * instrument's open orders (with any open order sharing a bracket with them) and position; every other order and
 * position, finished orders included (nothing changes an order once it finished), is shared with `state`, which is
 * never changed. A call touches one instrument or a few, so it no longer copies the member's whole history (the
 * executor's follow-ups copied every account on every look). `copy`: one already made from `state` in this call,
 * given its own copies of this instrument's too.
 */
function copyFor(state: PaperAccountState, key: string, copy: PaperAccountState | null = null): PaperAccountState {
  const next = copyPosition(state, key, copy);
  const open = Object.entries(state.orders).filter(([, order]) => isOpenStatus(order.status));
  const brackets = new Set<string>();
  for (const [, order] of open) if (order.key === key && order.ocoGroup) brackets.add(order.ocoGroup);
  for (const [id, order] of open) {
    const mine = order.key === key || (order.ocoGroup !== null && brackets.has(order.ocoGroup));
    if (mine && next.orders[id] === order) next.orders[id] = structuredClone(order);
  }
  return next;
}

/** A copy of the account with its own maps, scalars and day, and its own copy of one instrument's position. */
function copyPosition(state: PaperAccountState, key: string, copy: PaperAccountState | null = null): PaperAccountState {
  const next = copy ?? {
    ...state,
    positions: { ...state.positions },
    orders: { ...state.orders },
    clientOrderIds: { ...state.clientOrderIds },
    day: state.day ? { ...state.day } : null,
  };
  const position = state.positions[key];
  if (position && next.positions[key] === position) next.positions[key] = structuredClone(position);
  return next;
}

function toMs(now: Now): number {
  return typeof now === "number" ? now : now.getTime();
}

function iso(now: Now): string {
  return new Date(toMs(now)).toISOString();
}

function money(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function roundPrice(value: number): number {
  return Math.round(value * 1e8) / 1e8;
}

function roundQuantity(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
