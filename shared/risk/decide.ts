/**
 * The risk engine's decision for one follower of one signal: the orders to
 * place (entry and exits, reduced to fit every limit) or the reason to skip.
 */
import { isProtectiveSide, type ResolvedStop, resolveStop, resolveTakeProfits } from "./exits";
import { type Cap, fitToLimits } from "./fit";
import { accountLabel, amount, instrumentLabel, money, price, unitName } from "./format";
import { entryGate } from "./gates";
import {
  fromLots,
  instrumentKey,
  lotStep,
  positionKey,
  roundDownToLot,
  toLots,
  underlyingSymbol,
  unitMultiplier,
} from "./instruments";
import { assignOrderClass, defaultTimeInForce, entryIntents, orderPrices } from "./intents";
import { routeAccount } from "./routing";
import { describeSizing, referencePrice, resolveSizing, sizeQuantity } from "./sizing";
import { SKIP_REASONS, skip } from "./skip-reasons";
import type {
  DecideInput,
  Decision,
  OrderIntent,
  PositionDirection,
  Reserved,
  RiskAccount,
  RiskPosition,
  RiskSignal,
  SkipDecision,
} from "./types";

export { skip } from "./skip-reasons";

export const EMPTY_RESERVED: Readonly<Reserved> = Object.freeze({
  notional: 0,
  openPositions: 0,
  ordersToday: 0,
  symbols: [],
  closing: {},
  entries: {},
});

export function decide(input: DecideInput): Decision {
  const { signal } = input;
  const opening = signal.action === "buy" || signal.action === "short";
  const route = routeAccount({
    accounts: input.accounts,
    assetClass: signal.assetClass,
    tradingMode: input.member.tradingMode,
    paperOnly: input.member.paperOnly,
    prefer: opening ? undefined : (account) => findPositionToClose(account, signal) !== undefined,
  });
  if (!route.ok) return skip(route.reason, route.message, route.details);
  const reserved = input.reserved ?? EMPTY_RESERVED;
  return opening ? decideEntry(input, route.account, reserved) : decideExit(input, route.account, reserved);
}

/** buy opens or adds to a long, short opens a short. Every limit that caps new risk applies. */
function decideEntry(input: DecideInput, account: RiskAccount, reserved: Reserved): Decision {
  const { signal, limits } = input;
  const { snapshot, capabilities } = account;
  const direction: PositionDirection = signal.action === "short" ? "short" : "long";
  const key = instrumentKey(signal);
  const existing = snapshot.positions.find(
    (position) => instrumentKey(position) === key && position.direction === direction,
  );
  const position = positionKey(signal, direction);
  const inFlight = reserved.entries?.[position] ?? 0;
  const joinsPosition = input.addsToRecentEntry === true && (existing !== undefined || inFlight > 0);
  const refused = entryGate(input, account, reserved, direction, {
    opensNewPosition: existing === undefined && !joinsPosition,
    joinsPosition,
  });
  if (refused) return refused;

  const reference = referencePrice(signal, direction, input.quotePrice);
  if (!reference) {
    return skip(
      "no_price",
      `No current price for ${instrumentLabel(signal)}, so the ${signal.orderType} order cannot be sized.`,
      { symbol: signal.symbol },
    );
  }
  const notes: string[] = [];
  if (signal.orderType === "market" && reference.source !== "quote") {
    notes.push(`No quote was available; sized at the signal's entry price ${price(reference.price)}.`);
  }
  if (signal.orderType !== "market" && !signal.entry) {
    notes.push(`The ${signal.orderType} order has no price, so it is sent as a market order.`);
  }
  if (joinsPosition) {
    notes.push(
      `Combined with the provider's ${instrumentLabel(signal)} entry of a moment ago: this adds to that one position.`,
    );
  }
  if (reference.source === "zone_worst_side") {
    notes.push(`Sized at the entry zone's worst side, ${price(reference.price)}.`);
  }
  if (signal.assetClass === "equity" && reference.price < limits.minPrice) {
    return skip(
      "below_min_price",
      `${underlyingSymbol(signal)} at ${price(reference.price)} is below your minimum price ${price(limits.minPrice)}.`,
      { price: reference.price, minPrice: limits.minPrice },
    );
  }

  const towardsLoss = direction === "long" ? "below" : "above";
  const towardsProfit = direction === "long" ? "above" : "below";
  const stop = resolveStop(
    signal.stopLoss,
    reference.price,
    direction,
    limits.defaultStopPercent,
    signal.assetClass,
    signal.trailingStop ?? null,
  );
  if (stop && !isProtectiveSide("stop", stop.price, reference.price, direction)) {
    return skip(
      "invalid_stop",
      `The stop ${price(stop.price)} must be ${towardsLoss} the entry ${price(reference.price)} for a ${direction}.`,
      { stop: stop.price, reference: reference.price, direction },
    );
  }
  if (stop?.trail && !(stop.price > 0)) {
    return skip(
      "invalid_stop",
      `The signal's trailing stop of ${trailText(stop.trail)} is as wide as the entry ${price(reference.price)} or wider: it would start at or below zero.`,
      { trail: stop.trail, reference: reference.price, direction },
    );
  }
  if (stop?.trail) {
    notes.push(
      `The signal's trailing stop follows the best price by ${trailText(stop.trail)}, starting at ${price(stop.price)}; the trade is sized on that distance.`,
    );
  }
  if (stop?.source === "default") {
    notes.push(
      `The signal has no stop: default stop ${limits.defaultStopPercent}% ${towardsLoss} the entry, at ${price(stop.price)}.`,
    );
  }
  const targets = resolveTakeProfits(
    signal.takeProfits,
    reference.price,
    direction,
    limits.defaultTakeProfitPercent,
    signal.assetClass,
  );
  const wrongTarget = targets.find((target) => !isProtectiveSide("target", target.price, reference.price, direction));
  if (wrongTarget) {
    return skip(
      "invalid_take_profit",
      `Take-profit ${wrongTarget.index} at ${price(wrongTarget.price)} must be ${towardsProfit} the entry ${price(reference.price)} for a ${direction}.`,
      { target: wrongTarget.index, price: wrongTarget.price, reference: reference.price, direction },
    );
  }
  if (targets[0]?.source === "default") {
    notes.push(
      `The signal has no target: default take-profit ${limits.defaultTakeProfitPercent}% at ${price(targets[0].price)}.`,
    );
  }

  const sizing = resolveSizing(input.sizing, signal);
  if (sizing.note) notes.push(sizing.note);
  const multiplier = unitMultiplier(signal.assetClass, input.contractMultiplier);
  const sized = sizeQuantity(sizing.sizing, {
    equity: snapshot.equity,
    referencePrice: reference.price,
    stopPrice: stop?.price ?? null,
    unitMultiplier: multiplier,
    signalQuantity: signal.quantity,
  });
  if (!sized.ok) return skip("stop_required", SKIP_REASONS.stop_required, { sizing: sizing.sizing });
  const step = lotStep(signal.assetClass, capabilities, input.cryptoLotStep);
  const desired = roundDownToLot(sized.quantity, step);
  if (desired <= 0) {
    return skip(
      "quantity_rounds_to_zero",
      `${describeSizing(sizing.sizing)} comes to ${amount(sized.quantity)} ${unitName(signal)}, less than one lot of ${amount(step)}.`,
      { desired: sized.quantity, lotStep: step },
    );
  }

  const unitCost = reference.price * multiplier;
  const fitted = fitToLimits({
    signal,
    quantity: desired,
    unitCost,
    step,
    caps: entryCaps(input, account, reserved, {
      held: existing ? existing.quantity * existing.marketPrice * multiplier : 0,
      inFlight,
    }),
  });
  if (!fitted.ok) return fitted.skip;
  const { quantity } = fitted;

  const intents = entryIntents(signal, direction, quantity, step, stop, targets);
  const dropped = targets.length - intents.filter((intent) => intent.leg.startsWith("tp")).length;
  if (dropped > 0) notes.push(`${dropped} take-profit(s) got no quantity after rounding to lots and were left out.`);
  const orderClass = assignOrderClass(intents, capabilities);
  if (capabilities.brackets && orderClass === "engine") {
    notes.push("These exits cannot ride on one native bracket order, so the engine places them after the fill.");
  }
  if (signal.leverage && signal.leverage > 1) {
    notes.push(`The signal's ${signal.leverage}× leverage is not applied: limits are checked on the full notional.`);
  }

  return {
    kind: "place",
    accountId: account.id,
    orderClass,
    intents,
    reductions: fitted.reductions,
    notes,
    sizing: {
      mode: sizing.sizing.mode,
      source: sizing.source,
      referencePrice: reference.price,
      explanation: sizingExplanation(sizing, signal, quantity, reference.price, unitCost),
    },
    closes: null,
    reservation: {
      notional: quantity * unitCost,
      openPositions: existing || joinsPosition ? 0 : 1,
      ordersToday: 1,
      symbol: joinsPosition ? null : underlyingSymbol(signal),
      closing: null,
      position,
    },
  };
}

function trailText(trail: NonNullable<ResolvedStop["trail"]>): string {
  return "percent" in trail ? `${trail.percent}%` : price(trail.amount);
}

/** "2% of equity (the default sizing) comes to 55 shares at $190.50, $10,477.50; the provider's signal said 10." */
function sizingExplanation(
  sizing: ReturnType<typeof resolveSizing>,
  signal: RiskSignal,
  quantity: number,
  at: number,
  unitCost: number,
): string {
  const whose = sizing.source === "default" ? "the default sizing" : "your follow's sizing";
  const provider =
    signal.quantity !== null && signal.quantity !== quantity
      ? `; the provider's signal said ${amount(signal.quantity)}`
      : "";
  return `Sized at ${describeSizing(sizing.sizing)} (${whose}): ${amount(quantity)} ${unitName(signal)} at ${price(at)}, ${money(quantity * unitCost)}${provider}.`;
}

/**
 * Position size and notional count what is already held in the position and what is on its way to it; total
 * exposure counts every position at its last price and every entry in flight; buying power what is reserved.
 */
function entryCaps(
  input: DecideInput,
  account: RiskAccount,
  reserved: Reserved,
  position: { held: number; inFlight: number },
): Cap[] {
  const { limits } = input;
  const { snapshot } = account;
  const already = position.held + position.inFlight;
  const alreadyText = [
    position.held > 0 ? `${money(position.held)} already held` : null,
    position.inFlight > 0 ? `${money(position.inFlight)} on its way` : null,
  ]
    .filter(Boolean)
    .map((part) => `, ${part}`)
    .join("");
  const maxPosition = (snapshot.equity * limits.maxPositionPercent) / 100;
  const caps: Cap[] = [
    {
      reason: "max_position_size",
      room: maxPosition - already,
      describe: () =>
        `your max position of ${limits.maxPositionPercent}% of equity (${money(maxPosition)}${alreadyText})`,
    },
  ];
  const maxNotional = limits.maxNotionalPerPosition;
  if (maxNotional !== null) {
    caps.push({
      reason: "max_notional",
      room: maxNotional - already,
      describe: () => `your max notional per position of ${money(maxNotional)}${alreadyText}`,
    });
  }
  const maxExposure = (snapshot.equity * limits.maxTotalExposurePercent) / 100;
  const open = openNotional(snapshot.positions, input.contractMultiplier) + reserved.notional;
  caps.push({
    reason: "max_total_exposure",
    room: maxExposure - open,
    describe: () =>
      `your max total exposure of ${limits.maxTotalExposurePercent}% of equity (${money(maxExposure)}, ${money(open)} already open or on its way)`,
  });
  const available = snapshot.buyingPower - reserved.notional;
  caps.push({
    reason: "insufficient_buying_power",
    room: available,
    describe: (needed) =>
      `your buying power: the order needs ${money(needed)} and ${money(Math.max(0, available))} is available`,
  });
  return caps;
}

/** What every position is worth at its last price, longs and shorts alike (a short is exposure too). */
export function openNotional(positions: readonly RiskPosition[], contractMultiplier?: number): number {
  return positions.reduce(
    (sum, p) => sum + Math.abs(p.quantity * p.marketPrice * unitMultiplier(p.assetClass, contractMultiplier)),
    0,
  );
}

/** sell reduces a long, cover a short, close either. The limits that cap new risk never block an exit. */
function decideExit(input: DecideInput, account: RiskAccount, reserved: Reserved): Decision {
  const { signal } = input;
  const wanted = exitDirection(signal);
  const key = instrumentKey(signal);
  const label = instrumentLabel(signal);
  const units = unitName(signal);
  const position = findPositionToClose(account, signal);
  if (!position) {
    return skip(
      "no_position_to_close",
      `You hold no ${wanted ? `${wanted} ` : ""}position in ${label} on your ${accountLabel(account)}.`,
      { symbol: signal.symbol, action: signal.action, accountId: account.id },
    );
  }
  const alreadyClosing = reserved.closing[key] ?? 0;
  const step = lotStep(signal.assetClass, account.capabilities, input.cryptoLotStep);
  const available = fromLots(toLots(position.quantity, step) - toLots(alreadyClosing, step), step);
  if (available <= 0) {
    return skip("no_position_to_close", `Your ${label} position is already being closed by an earlier signal.`, {
      symbol: signal.symbol,
      action: signal.action,
      accountId: account.id,
      alreadyClosing,
    });
  }

  const notes: string[] = [];
  const part = exitPart(input, available, step, units);
  if (part.kind === "skip") return part;
  if (part.note) notes.push(part.note);
  const { quantity } = part;
  if (quantity <= 0) {
    return skip(
      "quantity_rounds_to_zero",
      `${part.describe} of your ${amount(available)} ${units} rounds down to zero.`,
      {
        position: available,
        part: part.describe,
        lotStep: step,
      },
    );
  }
  if (signal.assetClass !== "crypto" && input.limits.regularHoursOnly && !input.marketOpen) {
    notes.push("The market is closed; an exit is not held back by your regular-hours setting.");
  }
  const remaining = fromLots(toLots(available, step) - toLots(quantity, step), step);
  notes.push(
    remaining > 0
      ? `${amount(remaining)} ${units} stay open: resize that position's stop and take-profits.`
      : "Closes the whole position: cancel its stop and take-profits.",
  );
  // Covering a short buys, so a zone's worst side is its high; selling a long, its low.
  const buying = position.direction === "short";
  const intent: OrderIntent = {
    leg: "exit",
    side: buying ? "buy_to_cover" : "sell",
    positionEffect: "close",
    assetClass: signal.assetClass,
    symbol: signal.symbol,
    option: signal.option,
    quantity,
    ...orderPrices(signal, buying),
    timeInForce: signal.timeInForce ?? defaultTimeInForce(signal),
    nativeBracket: false,
    placeAfterFill: false,
    lotStep: step,
  };
  return {
    kind: "place",
    accountId: account.id,
    orderClass: "simple",
    intents: [intent],
    reductions: [],
    notes,
    sizing: null,
    closes: {
      instrument: key,
      direction: position.direction,
      positionQuantity: position.quantity,
      remainingQuantity: remaining,
    },
    reservation: {
      notional: 0,
      openPositions: 0,
      ordersToday: 1,
      symbol: null,
      closing: { instrument: key, quantity },
      position: null,
    },
  };
}

/**
 * How much of the available units an exit closes: all of them, its percent, or for a quantity the same
 * fraction of them as it is of the provider's position (a member's own trade: that many of their units).
 */
function exitPart(
  input: DecideInput,
  available: number,
  step: number,
  units: string,
): { kind: "part"; quantity: number; describe: string; note: string | null } | SkipDecision {
  const { signal } = input;
  const share = (percent: number, note: string | null) => ({
    kind: "part" as const,
    quantity: percent >= 100 ? available : roundDownToLot((available * percent) / 100, step),
    describe: `${round2(percent)}%`,
    note,
  });
  if (signal.quantityPercent !== null) {
    const percent = Math.min(100, Math.max(0, signal.quantityPercent));
    return share(percent, percent < 100 ? `Closes ${percent}% of your ${amount(available)} ${units}.` : null);
  }
  if (signal.quantity === null || !(signal.quantity > 0)) return share(100, null);
  const of = input.exitQuantityOf ?? { kind: "provider", position: null };
  if (of.kind === "own") {
    const quantity = Math.min(available, roundDownToLot(signal.quantity, step));
    return { kind: "part", quantity, describe: `${amount(signal.quantity)} ${units}`, note: null };
  }
  if (of.position === null || !(of.position > 0)) {
    return skip(
      "exit_quantity_unknown",
      `The exit names ${amount(signal.quantity)} ${units}, but the provider's position is not known, so it cannot be scaled to yours; the provider can post it as a percentage.`,
      { quantity: signal.quantity },
    );
  }
  const percent = Math.min(100, (signal.quantity / of.position) * 100);
  return share(
    percent,
    `Closes ${round2(percent)}% of your ${amount(available)} ${units}: the provider's ${amount(signal.quantity)} of their ${amount(of.position)}.`,
  );
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** sell closes a long, cover a short, close whichever is held. */
function findPositionToClose(account: RiskAccount, signal: RiskSignal): RiskPosition | undefined {
  const wanted = exitDirection(signal);
  const key = instrumentKey(signal);
  return account.snapshot.positions.find(
    (candidate) => instrumentKey(candidate) === key && (wanted === null || candidate.direction === wanted),
  );
}

function exitDirection(signal: RiskSignal): PositionDirection | null {
  return signal.action === "sell" ? "long" : signal.action === "cover" ? "short" : null;
}
