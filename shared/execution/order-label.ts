/**
 * What an order is about and how a member reads it. An option order is about
 * its contract, not its underlying: it is matched by the contract's instrument
 * key and named with its expiration, strike and right, in contracts.
 */

import {
  formatQuantity,
  instrumentTitle,
  legLabel,
  type PricedOrderTerms,
  priceCurrency,
  priceTerms,
  quantityOf,
  sideDone,
  sideLabel,
  tradeLine,
} from "../discord/format";
import { type Instrument, instrumentKey, parseOccSymbol } from "../quotes/instrument";
import type { OptionContract } from "../risk/types";

export interface StoredOrderShape {
  assetClass: string;
  symbol: string;
  /** An option order's contract rides in its intent, as does a trailing stop's distance. */
  intent: { option?: OptionContract | null; trail?: PricedOrderTerms["trail"] };
}

/** The instrument an order trades (the option contract from its intent, for an option). */
export function orderInstrument(order: StoredOrderShape): Instrument {
  const option = order.intent.option ?? null;
  const assetClass = (order.assetClass === "option" || order.assetClass === "crypto" ? order.assetClass : "equity") as
    | "equity"
    | "option"
    | "crypto";
  return { assetClass, symbol: order.symbol, option: assetClass === "option" ? option : null };
}

/** The key positions and paper orders are matched by: "AAPL", "BTC/USDT", "AAPL261220C00190000". */
export function orderInstrumentKey(order: StoredOrderShape): string {
  return instrumentKey(orderInstrument(order));
}

/** "AAPL", "BTC/USDT", or "AAPL 20 Dec 2026 $190 Call". */
export function instrumentName(instrument: Pick<Instrument, "symbol" | "option">): string {
  return instrumentTitle(instrument);
}

/** A position row's instrument key as a member reads it ("AAPL261220C00190000" → "AAPL 20 Dec 2026 $190 Call"). */
export function positionName(key: string): string {
  const option = parseOccSymbol(key);
  return option ? instrumentName({ symbol: option.underlying, option }) : key;
}

export interface DescribableOrder extends StoredOrderShape {
  side: string;
  quantity: number;
  leg: string;
  orderType: string;
  limitPrice?: number | null;
  stopPrice?: number | null;
}

/** "sell 2 × AAPL 20 Dec 2026 $190 Call limit $3.10 (take-profit 1)", "buy 10 × AAPL at market". */
export function describeOrder(order: DescribableOrder): string {
  const instrument = orderInstrument(order);
  const leg = order.leg === "entry" ? "" : ` (${legLabel(order.leg)})`;
  const terms = priceTerms({ ...order, trail: order.intent.trail ?? null }, priceCurrency(instrument));
  return `${sideLabel(order.side)} ${quantityOf(instrument, order.quantity)} ${terms}${leg}`;
}

export interface FilledOrder extends DescribableOrder {
  status: string;
  filledQuantity: number;
  averageFillPrice: number | null;
}

/**
 * "✅ Filled: bought 2 × AAPL 20 Dec 2026 $190 Call @ $2.50, $500.00 total.", or for part of an order
 * "✅ Partly filled: bought 4 × AAPL @ $190.50, $762.00 total (4 of 10 so far)."
 */
export function fillSentence(order: FilledOrder): string {
  const done = order.status === "filled";
  const leg = order.leg === "entry" ? "" : ` (${legLabel(order.leg)})`;
  const sofar = done ? "" : ` (${formatQuantity(order.filledQuantity)} of ${formatQuantity(order.quantity)} so far)`;
  return `✅ ${done ? "Filled" : "Partly filled"}: ${sideDone(order.side)} ${filledPart(order)}${leg}${sofar}.`;
}

/** What has filled so far: "2 × AAPL 20 Dec 2026 $190 Call @ $2.50, $500.00 total". */
export function filledPart(order: Omit<FilledOrder, "status">): string {
  const instrument = orderInstrument(order);
  return order.averageFillPrice === null
    ? quantityOf(instrument, order.filledQuantity)
    : tradeLine(instrument, order.filledQuantity, order.averageFillPrice);
}
