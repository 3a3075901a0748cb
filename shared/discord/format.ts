/**
 * How numbers, instruments and order terms read in every message the bot
 * sends: money with its currency and two decimals, prices that keep their
 * zeros, option contracts by name, and plain words for legs, sides and
 * statuses. The one formatter: commands, direct messages and the risk
 * engine's sentences all come through here (openspec discord-interactions,
 * "Style guide").
 */
import type { OrderStatus } from "../orders/state-machine";
import type { Instrument, OptionContract } from "../quotes/instrument";

/** Units per option contract: a premium is quoted per share, a contract covers 100. */
const OPTION_MULTIPLIER = 100;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

const currencyFormats = new Map<string, Intl.NumberFormat>();
/** One formatter per precision: `toLocaleString` with options builds a new one at every call, on the fan-out's path. */
const groupedFormats = new Map<string, Intl.NumberFormat>();

function grouped(value: number, minimumFractionDigits: number, maximumFractionDigits: number): string {
  const key = `${minimumFractionDigits}:${maximumFractionDigits}`;
  let format = groupedFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat("en-US", { minimumFractionDigits, maximumFractionDigits, useGrouping: true });
    groupedFormats.set(key, format);
  }
  return format.format(value);
}

/** "$10,000.00", "-$12.50"; a code that is not ISO 4217 (USDT) follows the figure: "1,250.00 USDT". */
export function formatMoney(value: number, currency = "USD"): string {
  if (!/^[A-Z]{3}$/.test(currency)) return `${grouped(value, 2, 2)} ${currency}`;
  let format = currencyFormats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat("en-US", { style: "currency", currency, minimumFractionDigits: 2 });
    currencyFormats.set(currency, format);
  }
  return format.format(value);
}

/**
 * A price per unit that keeps its zeros: two decimals at least ("$190.50"), more when the price has them
 * ("$0.000123", "$2.125"), never float noise.
 */
export function formatPrice(value: number, currency = "USD"): string {
  const decimals = Math.min(8, Math.max(2, decimalsOf(value)));
  const figure = grouped(Math.abs(value), 2, decimals);
  const sign = value < 0 ? "-" : "";
  return currency === "USD" ? `${sign}$${figure}` : `${sign}${figure} ${currency}`;
}

/** Significant decimals of a price, without float noise (190.5 → 1, 0.000123 → 6). */
function decimalsOf(value: number): number {
  const fixed = Number(Math.abs(value).toPrecision(12)).toFixed(10).replace(/0+$/, "");
  return fixed.split(".")[1]?.length ?? 0;
}

/** A quantity without float noise: "1,000", "0.5", "0.00012". */
export function formatQuantity(value: number): string {
  return grouped(Number(value.toFixed(8)), 0, 8);
}

/** "2%", "1.5%". */
export function formatPercent(value: number): string {
  return `${grouped(Number(value.toFixed(4)), 0, 4)}%`;
}

/** "20 Dec 2026" from "2026-12-20". */
export function formatDate(isoDate: string): string {
  const [year, month, day] = isoDate.split("-").map(Number);
  if (!year || !month || !day) return isoDate;
  return `${day} ${MONTHS[month - 1] ?? month} ${year}`;
}

/** "AAPL 20 Dec 2026 $190 Call". */
export function optionContractName(option: OptionContract): string {
  const strike = Number.isInteger(option.strike) ? `$${option.strike}` : formatPrice(option.strike);
  return `${option.underlying} ${formatDate(option.expiration)} ${strike} ${option.right === "call" ? "Call" : "Put"}`;
}

/**
 * The short reference members see and type for an order: "#dd0db49e", "#dd0db49e:stop" (the first 8 characters of
 * its id, and its leg when the id carries one). `/cancel` takes it where it is unique among the member's orders.
 */
export function orderRef(orderId: string): string {
  const at = orderId.indexOf(":");
  const base = at === -1 ? orderId : orderId.slice(0, at);
  const leg = at === -1 ? "" : orderId.slice(at);
  return `#${base.slice(0, 8).toLowerCase()}${leg}`;
}

type Named = Pick<Instrument, "symbol" | "option"> & { assetClass?: Instrument["assetClass"] | string };

/** What an order or position is about: "AAPL", "BTC/USDT", "AAPL 20 Dec 2026 $190 Call". */
export function instrumentTitle(instrument: Named): string {
  return instrument.option ? optionContractName(instrument.option) : instrument.symbol;
}

/** The currency an instrument is priced in: a crypto pair's quote currency, US dollars otherwise. */
export function priceCurrency(instrument: Pick<Named, "symbol" | "assetClass">): string {
  if (instrument.assetClass === "crypto" || instrument.symbol.includes("/")) {
    return instrument.symbol.split("/")[1] ?? "USD";
  }
  return "USD";
}

/** "2 × AAPL 20 Dec 2026 $190 Call", "10 × AAPL", "0.5 × BTC/USD". */
export function quantityOf(instrument: Named, quantity: number): string {
  return `${formatQuantity(quantity)} × ${instrumentTitle(instrument)}`;
}

/** A trade at a price, with what it comes to: "2 × AAPL 20 Dec 2026 $190 Call @ $2.50, $500.00 total". */
export function tradeLine(instrument: Named, quantity: number, price: number): string {
  const currency = priceCurrency(instrument);
  const multiplier = instrument.option ? OPTION_MULTIPLIER : 1;
  const total = quantity * price * multiplier;
  return `${quantityOf(instrument, quantity)} @ ${formatPrice(price, currency)}, ${formatMoney(total, currency)} total`;
}

/** Plain words for an order's leg: "take-profit 1", "stop-loss", "closing order". */
export function legLabel(leg: string): string {
  if (leg === "entry") return "entry";
  if (leg === "exit") return "exit";
  if (leg === "stop") return "stop-loss";
  const target = /^tp(\d+)$/.exec(leg);
  if (target) return `take-profit ${target[1]}`;
  if (leg.startsWith("flatten")) return "closing order";
  return leg.replaceAll("_", " ");
}

const SIDE_WORDS: Record<string, string> = {
  buy: "buy",
  sell: "sell",
  sell_short: "sell short",
  buy_to_cover: "buy to cover",
};

const SIDE_DONE: Record<string, string> = {
  buy: "bought",
  sell: "sold",
  sell_short: "sold short",
  buy_to_cover: "bought to cover",
};

/** A filled side in the past tense: "bought", "sold short". */
export function sideDone(side: string): string {
  return SIDE_DONE[side] ?? sideLabel(side);
}

/** "buy", "sell short", "buy to cover". */
export function sideLabel(side: string): string {
  return SIDE_WORDS[side] ?? side.replaceAll("_", " ");
}

const STATUS_WORDS: Record<OrderStatus, string> = {
  queued: "queued",
  submitted: "sent to broker",
  partially_filled: "partly filled",
  filled: "filled",
  canceled: "canceled",
  rejected: "rejected",
  expired: "expired",
  failed: "failed",
};

/** An order status as a member reads it ("submitted" → "sent to broker"). */
export function statusLabel(status: string): string {
  return (STATUS_WORDS as Record<string, string>)[status] ?? status.replaceAll("_", " ");
}

export interface PricedOrderTerms {
  orderType: string;
  limitPrice?: number | null;
  /** A trailing stop's is the level it triggers at now (it follows the best price). */
  stopPrice?: number | null;
  trail?: { percent: number } | { amount: number } | null;
}

/**
 * How an order is priced: "at market", "limit $2.50", "stop $185.00", "stop $185.00, limit $184.50",
 * "trailing stop 2%, stop now $186.20".
 */
export function priceTerms(order: PricedOrderTerms, currency = "USD"): string {
  const limit = order.limitPrice != null ? `limit ${formatPrice(order.limitPrice, currency)}` : null;
  const stop = order.stopPrice != null ? `stop ${formatPrice(order.stopPrice, currency)}` : null;
  if (order.orderType === "market") return "at market";
  if (order.orderType === "trailing_stop") return trailingStopTerms(order, currency);
  if (order.orderType === "stop_limit") return [stop, limit].filter(Boolean).join(", ") || "stop limit";
  if (order.orderType === "stop") return stop ?? "stop";
  if (order.orderType === "limit") return limit ?? "limit";
  return order.orderType.replaceAll("_", " ");
}

/** "trailing stop 2%, stop now $186.20", "trailing stop $1.50" (before a price was seen), "trailing stop". */
function trailingStopTerms(order: PricedOrderTerms, currency: string): string {
  const trail = order.trail ?? null;
  const distance = trail
    ? ` ${"percent" in trail ? formatPercent(trail.percent) : formatPrice(trail.amount, currency)}`
    : "";
  const level = order.stopPrice != null ? `, stop now ${formatPrice(order.stopPrice, currency)}` : "";
  return `trailing stop${distance}${level}`;
}
