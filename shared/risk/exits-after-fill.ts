/**
 * The exits the engine places once an entry has filled (every exit that does
 * not ride on a native bracket): sized to the part that filled, in whole lots
 * of the entry's lot step, and priced from the entry's own fill.
 *
 * - A default stop or take-profit (2% / 4%, or the member's distances) is
 *   measured from the entry's average fill price, not from the signal's.
 * - A level the signal gave stays as written. When it is already through the
 *   market at the fill (a long's stop at or above the fill, a target at or
 *   below it; the other way round for a short), it is sent as the equivalent
 *   market order now, and the exit says so: never dropped in silence.
 * - The stop covers everything that filled; the take-profits split it by
 *   their percents, exactly as the decision split the whole entry.
 * - A trailing stop starts its trail away from the fill. On an account that
 *   cannot place one for the asset class it becomes a fixed stop at that same
 *   level (the same loss at worst; it does not follow the price), and the
 *   exit says so: protection is never dropped.
 */
import { trailingStopLevel } from "../brokers/adapter";
import { allocateTakeProfits } from "./exits";
import { price } from "./format";
import { fromLots, lotStep, roundPrice, scaleLots, toLots } from "./instruments";
import { defaultTimeInForce } from "./intents";
import type { OrderIntent } from "./types";

export interface EntryFill {
  /** What the entry asked for and what of it filled, in units. */
  orderedQuantity: number;
  filledQuantity: number;
  /** The entry's average fill price; null when the broker did not say. */
  averagePrice: number | null;
}

export interface ExitsAfterFill {
  intents: OrderIntent[];
  /** Exits left out, and why (a take-profit with no lots left for it). */
  skipped: { leg: string; reason: string }[];
  /** Signal levels already through the market at the fill, sent as market orders, and why. */
  atMarket: { leg: string; reason: string }[];
  /** Trailing stops the account cannot place, sent as fixed stops at the trail's distance, and why. */
  trailAsFixed: { leg: string; reason: string }[];
}

export function exitsAfterFill(
  entry: Pick<OrderIntent, "side" | "assetClass" | "lotStep">,
  exits: readonly OrderIntent[],
  fill: EntryFill,
  /** Whether the account's broker places trailing stops for this asset class (`takesTrailingStops`). */
  takesTrailingStops = true,
): ExitsAfterFill {
  const step = entry.lotStep ?? exits[0]?.lotStep ?? lotStep(entry.assetClass, { fractional: false });
  const filledLots = Math.min(toLots(fill.filledQuantity, step), toLots(fill.orderedQuantity, step));
  const long = entry.side === "buy";
  const takeProfitLots = takeProfitShares(exits, filledLots, toLots(fill.orderedQuantity, step), step);

  const intents: OrderIntent[] = [];
  const skipped: ExitsAfterFill["skipped"] = [];
  const atMarket: ExitsAfterFill["atMarket"] = [];
  const trailAsFixed: ExitsAfterFill["trailAsFixed"] = [];
  exits.forEach((exit, i) => {
    const lots = exit.leg === "stop" ? filledLots : (takeProfitLots[i] ?? 0);
    if (lots <= 0) {
      skipped.push({ leg: exit.leg, reason: `no whole lot of the ${fill.filledQuantity} filled is left for it` });
      return;
    }
    const sized = { ...exit, quantity: fromLots(lots, step), lotStep: step };
    if (exit.orderType === "trailing_stop") {
      const trailing = trailFromFill(sized, long, fill.averagePrice);
      if (takesTrailingStops) {
        intents.push(trailing);
        return;
      }
      const fixed = fixedInPlaceOfTrail(trailing);
      trailAsFixed.push({ leg: exit.leg, reason: fixed.adjustments?.at(-1) ?? "sent as a fixed stop" });
      intents.push(fixed);
      return;
    }
    const priced = pricedFromFill(sized, long, fill.averagePrice);
    if (priced.orderType === "market" && exit.orderType !== "market") {
      atMarket.push({ leg: exit.leg, reason: priced.adjustments?.at(-1) ?? "sent as a market order" });
    }
    intents.push(priced);
  });
  return { intents, skipped, atMarket, trailAsFixed };
}

/** A trailing stop's starting level, the trail away from the fill (a trail is never through the market). */
function trailFromFill(exit: OrderIntent, long: boolean, fillPrice: number | null): OrderIntent {
  if (!exit.trail || fillPrice === null || !(fillPrice > 0)) return exit;
  const level = roundPrice(trailingStopLevel(long ? "sell" : "buy", fillPrice, exit.trail), exit.assetClass);
  return {
    ...exit,
    stopPrice: level,
    adjustments: [
      ...(exit.adjustments ?? []),
      `Trailing from the fill at ${price(fillPrice)}: starts at ${price(level)}.`,
    ],
  };
}

/** The fixed stop sent where a trailing stop cannot be: at the level the trail starts at. */
function fixedInPlaceOfTrail(exit: OrderIntent): OrderIntent {
  const { trail, ...rest } = exit;
  const distance = trail ? ("percent" in trail ? `${trail.percent}%` : price(trail.amount)) : "";
  const level = exit.stopPrice === null ? "" : ` at ${price(exit.stopPrice)}`;
  return {
    ...rest,
    orderType: "stop",
    adjustments: [
      ...(exit.adjustments ?? []),
      `your broker account does not take trailing stops for ${ASSET_CLASS_WORDS[exit.assetClass]}, so the ${distance} trailing stop is a fixed stop${level}, the trail's distance from your entry: it protects the same amount but will not follow the price.`,
    ],
  };
}

const ASSET_CLASS_WORDS: Record<OrderIntent["assetClass"], string> = {
  equity: "stocks",
  option: "options",
  crypto: "crypto",
};

/** Lots per exit (by index; stops get none here): the targets' percents over what filled, else each scaled. */
function takeProfitShares(
  exits: readonly OrderIntent[],
  filledLots: number,
  orderedLots: number,
  step: number,
): number[] {
  const targets = exits.flatMap((exit, i) => (exit.leg.startsWith("tp") ? [{ exit, i }] : []));
  const shares: number[] = exits.map(() => 0);
  if (targets.every(({ exit }) => exit.targetPercent !== undefined)) {
    const lots = allocateTakeProfits(
      filledLots,
      targets.map(({ exit }) => exit.targetPercent ?? null),
    );
    targets.forEach(({ i }, n) => {
      shares[i] = lots[n] ?? 0;
    });
  } else {
    for (const { exit, i } of targets) shares[i] = scaleLots(toLots(exit.quantity, step), filledLots, orderedLots);
  }
  return shares;
}

function pricedFromFill(exit: OrderIntent, long: boolean, fillPrice: number | null): OrderIntent {
  if (fillPrice === null || !(fillPrice > 0)) return exit;
  const isStop = exit.leg === "stop";
  if (exit.priceSource === "default" && exit.defaultPercent !== undefined) {
    const away = isStop === long ? -1 : 1;
    const level = roundPrice(fillPrice * (1 + (away * exit.defaultPercent) / 100), exit.assetClass);
    return {
      ...exit,
      ...(isStop ? { stopPrice: level } : { limitPrice: level }),
      adjustments: [
        ...(exit.adjustments ?? []),
        `${exit.defaultPercent}% from the fill at ${price(fillPrice)}: ${price(level)}.`,
      ],
    };
  }
  const level = isStop ? exit.stopPrice : exit.limitPrice;
  if (level === null) return exit;
  // A long's stop at or above the fill, or its target at or below it, is already through the market (mirrored for a short).
  const through = isStop
    ? long
      ? level >= fillPrice
      : level <= fillPrice
    : long
      ? level <= fillPrice
      : level >= fillPrice;
  if (!through) return exit;
  return {
    ...exit,
    orderType: "market",
    limitPrice: null,
    stopPrice: null,
    timeInForce: defaultTimeInForce(exit),
    adjustments: [
      ...(exit.adjustments ?? []),
      `The ${isStop ? "stop" : "target"} ${price(level)} was already through the market at the fill (${price(fillPrice)}), so it is sent as a market order.`,
    ],
  };
}
