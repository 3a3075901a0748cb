/**
 * How many units a follower's order is for, before lot rounding and limits.
 * All figures are in the instrument's price currency; an option's price is its
 * premium per share, so one contract costs price × 100.
 */
import { DEFAULT_EQUITY_PERCENT, DEFAULT_RISK_PERCENT } from "./limits";
import type { PositionDirection, RiskSignal, Sizing } from "./types";

/** A follow without sizing: 1% risk when the signal names a stop (fixed or trailing), otherwise 2% of equity. */
export function defaultSizing(signalHasStop: boolean): Sizing {
  return signalHasStop
    ? { mode: "risk_percent", percent: DEFAULT_RISK_PERCENT }
    : { mode: "percent_of_equity", percent: DEFAULT_EQUITY_PERCENT };
}

export interface ResolvedSizing {
  sizing: Sizing;
  source: "follow" | "default";
  note?: string;
}

export function resolveSizing(
  follow: Sizing | null,
  signal: Pick<RiskSignal, "stopLoss" | "trailingStop" | "quantity">,
): ResolvedSizing {
  const fallback = defaultSizing(signal.stopLoss !== null || signal.trailingStop != null);
  if (!follow) return { sizing: fallback, source: "default" };
  if (follow.mode === "multiplier" && !(signal.quantity !== null && signal.quantity > 0)) {
    return {
      sizing: fallback,
      source: "default",
      note: `The signal has no quantity to multiply, so the default sizing (${describeSizing(fallback)}) applies.`,
    };
  }
  return { sizing: follow, source: "follow" };
}

export interface ReferencePrice {
  price: number;
  source: "quote" | "entry" | "zone_worst_side";
}

/**
 * The price an order is sized and limited at: the current quote for a market
 * order, the entry price otherwise, and a zone's worst side (its high for a
 * long, its low for a short). Each falls back to the other when missing.
 */
export function referencePrice(
  signal: Pick<RiskSignal, "orderType" | "entry">,
  direction: PositionDirection,
  quotePrice: number | null,
): ReferencePrice | null {
  const quote = quotePrice !== null && quotePrice > 0 ? ({ price: quotePrice, source: "quote" } as const) : null;
  const entry = entryReference(signal.entry, direction);
  return signal.orderType === "market" ? (quote ?? entry) : (entry ?? quote);
}

function entryReference(entry: RiskSignal["entry"], direction: PositionDirection): ReferencePrice | null {
  if (!entry) return null;
  if ("price" in entry) return entry.price > 0 ? { price: entry.price, source: "entry" } : null;
  return { price: direction === "long" ? entry.high : entry.low, source: "zone_worst_side" };
}

export interface SizingContext {
  equity: number;
  referencePrice: number;
  /** The stop in force (the signal's or the default one), or null. */
  stopPrice: number | null;
  /** 100 for option contracts, 1 otherwise. */
  unitMultiplier: number;
  signalQuantity: number | null;
}

export type SizingResult = { ok: true; quantity: number } | { ok: false; reason: "stop_required" };

/** The unrounded quantity a sizing asks for. */
export function sizeQuantity(sizing: Sizing, context: SizingContext): SizingResult {
  const unitCost = context.referencePrice * context.unitMultiplier;
  switch (sizing.mode) {
    case "fixed_quantity":
      return { ok: true, quantity: sizing.quantity };
    case "fixed_notional":
      return { ok: true, quantity: sizing.notional / unitCost };
    case "percent_of_equity":
      return { ok: true, quantity: (context.equity * sizing.percent) / 100 / unitCost };
    case "risk_percent": {
      if (context.stopPrice === null) return { ok: false, reason: "stop_required" };
      const riskPerUnit = Math.abs(context.referencePrice - context.stopPrice) * context.unitMultiplier;
      return { ok: true, quantity: (context.equity * sizing.percent) / 100 / riskPerUnit };
    }
    case "multiplier":
      return { ok: true, quantity: (context.signalQuantity ?? 0) * sizing.multiplier };
  }
}

export function describeSizing(sizing: Sizing): string {
  switch (sizing.mode) {
    case "fixed_quantity":
      return `fixed quantity ${sizing.quantity}`;
    case "fixed_notional":
      return `fixed notional ${sizing.notional}`;
    case "percent_of_equity":
      return `${sizing.percent}% of equity`;
    case "risk_percent":
      return `${sizing.percent}% of equity at risk`;
    case "multiplier":
      return `${sizing.multiplier}× the provider's quantity`;
  }
}
