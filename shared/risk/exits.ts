/**
 * Exits attached to an entry: the stop (the signal's or a default distance),
 * the take-profits (the signal's or one default target), and how the entry
 * quantity is split across the take-profits.
 */
import { type TrailDistance, trailingStopLevel } from "../brokers/adapter";
import { roundPrice } from "./instruments";
import type { AssetClass, PositionDirection, RiskSignal } from "./types";

export interface ResolvedStop {
  /** The stop's level; for a trailing stop, where it starts (the trail away from the entry). */
  price: number;
  source: "signal" | "default";
  /** The default distance, in percent, when `source` is default. */
  percent?: number;
  /** The signal's trailing stop: the stop follows the best price by this distance. */
  trail?: TrailDistance;
}

export interface ResolvedTakeProfit {
  /** 1-based, as written in the signal. */
  index: number;
  price: number;
  percent: number | null;
  source: "signal" | "default";
  /** The default distance, in percent, when `source` is default. */
  defaultPercent?: number;
}

/**
 * The signal's stop, else its trailing stop (starting the trail away from the entry), else `defaultPercent` below a
 * long entry / above a short one; null when off. A trailing stop is the signal's protection: no default is added.
 */
export function resolveStop(
  signalStop: number | null,
  reference: number,
  direction: PositionDirection,
  defaultPercent: number | null,
  assetClass: AssetClass,
  trailingStop: TrailDistance | null = null,
): ResolvedStop | null {
  if (signalStop !== null) return { price: signalStop, source: "signal" };
  if (trailingStop) {
    const level = roundPrice(trailingStopLevel(exitSideOf(direction), reference, trailingStop), assetClass);
    return { price: level, source: "signal", trail: trailingStop };
  }
  if (defaultPercent === null) return null;
  const factor = direction === "long" ? 1 - defaultPercent / 100 : 1 + defaultPercent / 100;
  return { price: roundPrice(reference * factor, assetClass), source: "default", percent: defaultPercent };
}

/** The signal's targets, else one target `defaultPercent` beyond the entry; none when off. */
export function resolveTakeProfits(
  signalTargets: RiskSignal["takeProfits"],
  reference: number,
  direction: PositionDirection,
  defaultPercent: number | null,
  assetClass: AssetClass,
): ResolvedTakeProfit[] {
  if (signalTargets.length > 0) {
    return signalTargets.map((target, i) => ({
      index: i + 1,
      price: target.price,
      percent: target.percent,
      source: "signal",
    }));
  }
  if (defaultPercent === null) return [];
  const factor = direction === "long" ? 1 + defaultPercent / 100 : 1 - defaultPercent / 100;
  return [
    {
      index: 1,
      price: roundPrice(reference * factor, assetClass),
      percent: null,
      source: "default",
      defaultPercent,
    },
  ];
}

/** A long's stop is below the entry and its targets above; a short's the other way round. */
export function isProtectiveSide(
  kind: "stop" | "target",
  price: number,
  reference: number,
  direction: PositionDirection,
) {
  const below = price < reference;
  const above = price > reference;
  if (kind === "stop") return direction === "long" ? below : above;
  return direction === "long" ? above : below;
}

/**
 * Splits `totalLots` across targets by their `percent` (targets without one
 * share what the others leave, evenly; all without one split evenly). Each
 * leg is rounded down to whole lots and the rounding leftover goes to the last
 * target, so the legs never add up to more than the entry. When the percents
 * add up to less than 100, the rest stays open under the stop (a runner).
 */
export function allocateTakeProfits(totalLots: number, percents: ReadonlyArray<number | null>): number[] {
  if (percents.length === 0 || totalLots <= 0) return percents.map(() => 0);
  const given = percents.reduce<number>((sum, percent) => sum + (percent ?? 0), 0);
  const unspecified = percents.filter((percent) => percent === null).length;
  const shareOfRest = unspecified > 0 ? Math.max(0, 100 - given) / unspecified : 0;
  const weights = percents.map((percent) => Math.max(0, percent ?? shareOfRest));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  if (total <= 0) return percents.map(() => 0);
  const scale = total > 100 ? 100 / total : 1;
  const allocatedLots = Math.floor((totalLots * Math.min(total, 100)) / 100 + 1e-9);

  let used = 0;
  return weights.map((weight, i) => {
    const isLast = i === weights.length - 1;
    const share = isLast ? allocatedLots - used : Math.floor((totalLots * weight * scale) / 100 + 1e-9);
    const lots = Math.max(0, Math.min(share, allocatedLots - used));
    used += lots;
    return lots;
  });
}

/** The side of the order that closes a position: a long is sold, a short bought back. */
export function exitSideOf(direction: PositionDirection): "buy" | "sell" {
  return direction === "long" ? "sell" : "buy";
}
