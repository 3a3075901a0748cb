/**
 * A provider's own position per instrument, as their signals state it: what
 * an exit that names a quantity ("Trim 10 shares NVDA") is a part of. Entries
 * with a quantity add to it, exits take from it; an entry without a quantity
 * leaves the size unknown (null) until the position is closed.
 */
import { amount, instrumentLabel, unitName } from "./format";
import { instrumentKey } from "./instruments";
import type { PositionDirection, RiskSignal } from "./types";

export interface ProviderPosition {
  instrument: string;
  direction: PositionDirection;
  /** Units held, or null when an entry did not say how many. */
  quantity: number | null;
}

type SignalRef = Pick<RiskSignal, "action" | "assetClass" | "symbol" | "option" | "quantity" | "quantityPercent">;

const isExit = (signal: SignalRef) =>
  signal.action === "sell" || signal.action === "cover" || signal.action === "close";

/** Whether the signal is an exit that names a number of units (which needs the provider's position). */
export function namesExitQuantity(signal: SignalRef): boolean {
  return isExit(signal) && signal.quantityPercent === null && signal.quantity !== null && signal.quantity > 0;
}

/** The provider's position an exit acts on (sell: the long, cover: the short, close: the one held), if any. */
export function positionClosedBy(held: readonly ProviderPosition[], signal: SignalRef): ProviderPosition | null {
  const key = instrumentKey(signal);
  const candidates = held.filter((p) => p.instrument === key);
  const wanted = signal.action === "sell" ? "long" : signal.action === "cover" ? "short" : null;
  const matching = wanted ? candidates.filter((p) => p.direction === wanted) : candidates;
  return matching.length === 1 ? (matching[0] ?? null) : null;
}

/** The provider's positions in the signal's instrument after the signal. */
export function afterSignal(held: readonly ProviderPosition[], signal: SignalRef): ProviderPosition[] {
  const key = instrumentKey(signal);
  const others = held.filter((p) => p.instrument !== key);
  const mine = held.filter((p) => p.instrument === key);
  if (signal.action === "buy" || signal.action === "short") {
    const direction: PositionDirection = signal.action === "buy" ? "long" : "short";
    const existing = mine.find((p) => p.direction === direction);
    const added = signal.quantity !== null && signal.quantity > 0 ? signal.quantity : null;
    const quantity =
      added === null || (existing && existing.quantity === null) ? null : (existing?.quantity ?? 0) + added;
    return [...others, ...mine.filter((p) => p.direction !== direction), { instrument: key, direction, quantity }];
  }
  const closed = positionClosedBy(mine, signal);
  if (!closed) return [...held];
  const rest = mine.filter((p) => p !== closed);
  const left = remaining(closed.quantity, signal);
  return left === 0 ? [...others, ...rest] : [...others, ...rest, { ...closed, quantity: left }];
}

/** Units left after an exit: 0 when it closes everything, null when the size was (and stays) unknown. */
function remaining(quantity: number | null, signal: SignalRef): number | null {
  if (signal.quantityPercent !== null) {
    if (signal.quantityPercent >= 100) return 0;
    return quantity === null ? null : round(quantity * (1 - signal.quantityPercent / 100));
  }
  if (signal.quantity !== null && signal.quantity > 0) {
    return quantity === null ? null : Math.max(0, round(quantity - signal.quantity));
  }
  return 0;
}

function round(value: number): number {
  return Number(value.toFixed(10));
}

/** Why an exit that names a quantity cannot be executed, and what the provider can post instead. */
export function unknownExitQuantityMessage(signal: SignalRef): string {
  const label = instrumentLabel(signal);
  return `This exit names ${amount(signal.quantity ?? 0)} ${unitName(signal)} of ${label}, but the size of your ${label} position is not known from your signals (an entry without a quantity, or none), so it cannot be scaled to each follower's position. Post it as a percentage instead, for example "Trim 25% ${label}".`;
}
