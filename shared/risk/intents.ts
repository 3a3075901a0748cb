/**
 * Order intents for an entry and its exits, and whether they travel as one
 * native bracket/OTO order or the engine places the exits after the fill.
 */
import { allocateTakeProfits, type ResolvedStop, type ResolvedTakeProfit } from "./exits";
import { fromLots, toLots } from "./instruments";
import type {
  BrokerOrderType,
  OrderIntent,
  PlaceDecision,
  PositionDirection,
  RiskCapabilities,
  RiskSignal,
  TimeInForce,
} from "./types";

export function entryIntents(
  signal: RiskSignal,
  direction: PositionDirection,
  quantity: number,
  step: number,
  stop: ResolvedStop | null,
  targets: ResolvedTakeProfit[],
): OrderIntent[] {
  const buying = direction === "long";
  const base = {
    assetClass: signal.assetClass,
    symbol: signal.symbol,
    option: signal.option,
    nativeBracket: false,
    placeAfterFill: false,
    lotStep: step,
  };
  const exitSide = buying ? "sell" : "buy_to_cover";
  const intents: OrderIntent[] = [
    {
      ...base,
      leg: "entry",
      side: buying ? "buy" : "sell_short",
      positionEffect: "open",
      quantity,
      ...orderPrices(signal, buying),
      timeInForce: signal.timeInForce ?? defaultTimeInForce(signal),
    },
  ];
  if (stop) {
    intents.push({
      ...base,
      leg: "stop",
      side: exitSide,
      positionEffect: "close",
      orderType: stop.trail ? "trailing_stop" : "stop",
      quantity,
      limitPrice: null,
      stopPrice: stop.price,
      timeInForce: "gtc",
      priceSource: stop.source,
      ...(stop.percent !== undefined ? { defaultPercent: stop.percent } : {}),
      ...(stop.trail ? { trail: stop.trail } : {}),
    });
  }
  const lots = allocateTakeProfits(
    toLots(quantity, step),
    targets.map((target) => target.percent),
  );
  targets.forEach((target, i) => {
    const legQuantity = fromLots(lots[i] ?? 0, step);
    if (legQuantity <= 0) return;
    intents.push({
      ...base,
      leg: `tp${target.index}`,
      side: exitSide,
      positionEffect: "close",
      orderType: "limit",
      quantity: legQuantity,
      limitPrice: target.price,
      stopPrice: null,
      timeInForce: "gtc",
      priceSource: target.source,
      targetPercent: target.percent,
      ...(target.defaultPercent !== undefined ? { defaultPercent: target.defaultPercent } : {}),
    });
  });
  return intents;
}

/**
 * A native bracket carries a fixed stop and one take-profit for the whole entry
 * (OTO: just one of them); anything else (a trailing stop, several targets, a
 * fractional share quantity) is placed by the engine after the fill. Marks each
 * intent accordingly.
 */
export function assignOrderClass(
  intents: OrderIntent[],
  capabilities: Pick<RiskCapabilities, "brackets">,
): PlaceDecision["orderClass"] {
  const [entry, ...exits] = intents;
  if (!entry || exits.length === 0) return "simple";
  const takeProfits = exits.filter((intent) => intent.leg.startsWith("tp"));
  const native =
    capabilities.brackets &&
    takeProfits.length <= 1 &&
    takeProfits.every((intent) => intent.quantity === entry.quantity) &&
    exits.every((intent) => intent.orderType !== "trailing_stop") &&
    (entry.assetClass !== "equity" || Number.isInteger(entry.quantity));
  for (const intent of intents) {
    intent.nativeBracket = native;
    intent.placeAfterFill = intent !== entry && !native;
  }
  if (!native) return "engine";
  return exits.length === 2 ? "bracket" : "oto";
}

/**
 * The order's type and prices. A zone's worst side is the limit (high when
 * buying, low when selling); a stop-limit zone triggers at the other side.
 * A priced order type without a price becomes a market order.
 */
export function orderPrices(
  signal: Pick<RiskSignal, "orderType" | "entry">,
  buying: boolean,
): { orderType: BrokerOrderType; limitPrice: number | null; stopPrice: number | null } {
  const { entry } = signal;
  if (signal.orderType === "market" || !entry) return { orderType: "market", limitPrice: null, stopPrice: null };
  const worst = "price" in entry ? entry.price : buying ? entry.high : entry.low;
  const best = "price" in entry ? entry.price : buying ? entry.low : entry.high;
  switch (signal.orderType) {
    case "limit":
      return { orderType: "limit", limitPrice: worst, stopPrice: null };
    case "stop":
      return { orderType: "stop", limitPrice: null, stopPrice: worst };
    case "stop_limit":
      return { orderType: "stop_limit", limitPrice: worst, stopPrice: best };
  }
}

/** Day orders for equities and options; crypto trades around the clock. */
export function defaultTimeInForce(signal: Pick<RiskSignal, "assetClass">): TimeInForce {
  return signal.assetClass === "crypto" ? "gtc" : "day";
}

/** A native bracket's attached exits, in the shape broker adapters take (`BracketLegs`). */
export interface NativeBracket {
  takeProfit: { limitPrice: number } | null;
  stopLoss: { stopPrice: number; limitPrice: number | null } | null;
}

/**
 * The legs an entry carries as one native bracket or OTO order: its stop and
 * its take-profit, from the exits the decision marked `nativeBracket`. Null
 * when the entry is not a native bracket. Throws when a stop was decided but
 * cannot ride on the order, so a bracket is never sent without its stop.
 */
export function nativeBracketOf(
  entry: Pick<OrderIntent, "nativeBracket">,
  exits: readonly OrderIntent[],
): NativeBracket | null {
  if (!entry.nativeBracket) return null;
  const attached = exits.filter((exit) => exit.nativeBracket);
  const stop = attached.find((exit) => exit.leg === "stop");
  const target = attached.find((exit) => exit.leg.startsWith("tp"));
  const decidedStop = exits.some((exit) => exit.leg === "stop");
  if (decidedStop && !stop?.stopPrice) throw new Error("A native bracket must carry the stop that was decided for it.");
  const legs: NativeBracket = {
    takeProfit: target?.limitPrice ? { limitPrice: target.limitPrice } : null,
    stopLoss: stop?.stopPrice ? { stopPrice: stop.stopPrice, limitPrice: null } : null,
  };
  return legs.takeProfit || legs.stopLoss ? legs : null;
}
