/**
 * Instrument arithmetic: lot steps, rounding, contract multipliers and the
 * keys that tell whether a position and a signal are the same instrument.
 */
import type { AssetClass, BrokerCapabilities, OptionContract } from "./types";

export const OPTION_CONTRACT_MULTIPLIER = 100;
export const DEFAULT_CRYPTO_LOT_STEP = 0.0001;
export const FRACTIONAL_SHARE_STEP = 0.0001;

interface InstrumentRef {
  assetClass: AssetClass;
  symbol: string;
  option: OptionContract | null;
}

/** The symbol limits and lists apply to: the underlying for options. */
export function underlyingSymbol(instrument: InstrumentRef): string {
  return (instrument.option?.underlying ?? instrument.symbol).trim().toUpperCase();
}

/** Same key ⇔ same instrument (an option is its contract, not its underlying). */
export function instrumentKey(instrument: InstrumentRef): string {
  const { option } = instrument;
  if (instrument.assetClass === "option" && option) {
    return `option:${option.underlying.toUpperCase()}:${option.expiration}:${option.strike}:${option.right}`;
  }
  return `${instrument.assetClass}:${instrument.symbol.trim().toUpperCase()}`;
}

/** Currency per unit of price: 100 for an option contract, 1 otherwise. */
export function unitMultiplier(assetClass: AssetClass, contractMultiplier = OPTION_CONTRACT_MULTIPLIER): number {
  return assetClass === "option" ? contractMultiplier : 1;
}

/** The smallest quantity increment the broker accepts. */
export function lotStep(
  assetClass: AssetClass,
  capabilities: Pick<BrokerCapabilities, "fractional">,
  cryptoLotStep = DEFAULT_CRYPTO_LOT_STEP,
): number {
  if (assetClass === "crypto") return cryptoLotStep;
  if (assetClass === "equity" && capabilities.fractional) return FRACTIONAL_SHARE_STEP;
  return 1;
}

/** A quantity as a whole number of lots, rounded down (tolerating float noise such as 2.9999999999). */
export function toLots(quantity: number, step: number): number {
  if (!(quantity > 0) || !Number.isFinite(quantity)) return 0;
  return Math.floor(quantity / step + 1e-9);
}

export function fromLots(lots: number, step: number): number {
  return Number((lots * step).toFixed(decimals(step)));
}

export function roundDownToLot(quantity: number, step: number): number {
  return fromLots(toLots(quantity, step), step);
}

/** Decimal places of a step such as 0.0001 or 1e-8. */
export function decimals(step: number): number {
  let places = 0;
  while (places < 12 && Math.abs(Math.round(step * 10 ** places) - step * 10 ** places) > 1e-9) places++;
  return places;
}

/** Rounds a computed price (a default stop or target) to a tick the broker accepts. */
export function roundPrice(price: number, assetClass: AssetClass): number {
  if (price >= 1) return Math.round(price * 100) / 100;
  if (assetClass === "crypto") return Number(price.toPrecision(4));
  return Math.round(price * 10_000) / 10_000;
}
