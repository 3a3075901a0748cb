/**
 * Instrument arithmetic: lot steps, rounding, contract multipliers and the
 * keys that tell whether a position and a signal are the same instrument.
 *
 * Quantities are counted in whole lots of the instrument's lot step, in
 * integers: a step is an exact decimal (`units` of 10^-decimals), so 2.3 BTC
 * at a 0.0001 step is 23,000 lots, never 22,999.99999 of them, and a quantity
 * rebuilt from lots is the exact decimal (2.3, not 2.29999999).
 */
import { instrumentKey as quoteInstrumentKey } from "../quotes/instrument";
import type { AssetClass, OptionContract, RiskCapabilities } from "./types";

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

/**
 * Same key ⇔ same instrument: the equity symbol, the crypto pair as BASE/QUOTE,
 * an option's OCC contract symbol (never its underlying). The paper broker,
 * the quote sources and recorded positions use the same key.
 */
export function instrumentKey(instrument: InstrumentRef): string {
  return quoteInstrumentKey(instrument);
}

/** One position: an instrument held in one direction ("AAPL:long"). Entries in flight are counted per position. */
export function positionKey(instrument: InstrumentRef, direction: "long" | "short"): string {
  return `${instrumentKey(instrument)}:${direction}`;
}

/** Currency per unit of price: 100 for an option contract, 1 otherwise. */
export function unitMultiplier(assetClass: AssetClass, contractMultiplier = OPTION_CONTRACT_MULTIPLIER): number {
  return assetClass === "option" ? contractMultiplier : 1;
}

/** The smallest quantity increment the broker accepts. */
export function lotStep(
  assetClass: AssetClass,
  capabilities: Pick<RiskCapabilities, "fractional">,
  cryptoLotStep = DEFAULT_CRYPTO_LOT_STEP,
): number {
  if (assetClass === "crypto") return cryptoLotStep;
  if (assetClass === "equity" && capabilities.fractional) return FRACTIONAL_SHARE_STEP;
  return 1;
}

/** A lot step as an exact decimal: `unitsPerLot` units of 10^-`decimals`. */
interface LotGrid {
  scale: number;
  decimals: number;
  unitsPerLot: number;
}

function gridOf(step: number): LotGrid {
  if (!(step > 0) || !Number.isFinite(step)) throw new RangeError(`invalid lot step ${step}`);
  const places = decimals(step);
  const scale = 10 ** places;
  return { scale, decimals: places, unitsPerLot: Math.max(1, Math.round(step * scale)) };
}

/** A quantity in whole units of the grid: the nearest one when float noise is all that separates them, else down. */
function unitsOf(quantity: number, grid: LotGrid): number {
  const scaled = quantity * grid.scale;
  const nearest = Math.round(scaled);
  return Math.abs(scaled - nearest) <= Math.max(1e-9, Math.abs(scaled) * 1e-12) ? nearest : Math.floor(scaled);
}

/** A quantity as a whole number of lots, rounded down (2.9999999999 shares are 3, 2.99 are 2). */
export function toLots(quantity: number, step: number): number {
  if (!(quantity > 0) || !Number.isFinite(quantity)) return 0;
  const grid = gridOf(step);
  return Math.floor(unitsOf(quantity, grid) / grid.unitsPerLot);
}

/** The exact decimal quantity of `lots` lots. */
export function fromLots(lots: number, step: number): number {
  if (!(lots > 0)) return 0;
  const grid = gridOf(step);
  return Number(((Math.floor(lots) * grid.unitsPerLot) / grid.scale).toFixed(grid.decimals));
}

export function roundDownToLot(quantity: number, step: number): number {
  return fromLots(toLots(quantity, step), step);
}

/** floor(lots × numerator ÷ denominator) in exact integer arithmetic (the product may pass 2^53). */
export function scaleLots(lots: number, numerator: number, denominator: number): number {
  if (!(lots > 0) || !(numerator > 0) || !(denominator > 0)) return 0;
  if (numerator >= denominator) return lots;
  return Number((BigInt(Math.floor(lots)) * BigInt(Math.floor(numerator))) / BigInt(Math.floor(denominator)));
}

/** `quantity` scaled by `filled / ordered`, rounded down to whole lots: an exit for the part of its entry that filled. */
export function scaleQuantity(quantity: number, filled: number, ordered: number, step: number): number {
  return fromLots(scaleLots(toLots(quantity, step), toLots(filled, step), toLots(ordered, step)), step);
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
