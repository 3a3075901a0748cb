/**
 * What an order is about and how a member reads it. An option order is about
 * its contract, not its underlying: it is matched by the contract's instrument
 * key and named with its expiration, strike and right, in contracts.
 */
import { type Instrument, instrumentKey, parseOccSymbol } from "../quotes/instrument";
import { instrumentLabel } from "../risk/format";
import type { OptionContract } from "../risk/types";

export interface StoredOrderShape {
  assetClass: string;
  symbol: string;
  /** An option order's contract rides in its intent. */
  intent: { option?: OptionContract | null };
}

/** The instrument an order trades (the option contract from its intent, for an option). */
function orderInstrument(order: StoredOrderShape): Instrument {
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

/** "AAPL", "BTC/USDT", or "AAPL 2026-12-20 190 call contracts". */
export function instrumentName(instrument: Pick<Instrument, "symbol" | "option">): string {
  return instrument.option ? `${instrumentLabel(instrument)} contracts` : instrument.symbol;
}

/** A position row's instrument key as a member reads it ("AAPL261220C00190000" → "AAPL 2026-12-20 190 call contracts"). */
export function positionName(key: string): string {
  const option = parseOccSymbol(key);
  return option ? instrumentName({ symbol: option.underlying, option }) : key;
}

export interface DescribableOrder extends StoredOrderShape {
  side: string;
  quantity: number;
  leg: string;
  orderType: string;
}

/** "sell 2 AAPL 2026-12-20 190 call contracts limit (tp1)". */
export function describeOrder(order: DescribableOrder): string {
  const leg = order.leg === "entry" ? "" : ` (${order.leg})`;
  return `${order.side.replaceAll("_", " ")} ${order.quantity} ${instrumentName(orderInstrument(order))} ${order.orderType}${leg}`;
}
