/**
 * Keeping a position's working exits within what it still holds. After every
 * fill that shrinks a position (an exit, a take-profit, a flatten, a close),
 * its stops together may cover at most what is held, and so may its
 * take-profits; the rest are resized down, and when the position is flat (or
 * now on the other side) every one of them is canceled. An exit never
 * outlives its position.
 *
 * Stops keep their order of placement (the oldest is kept whole first);
 * take-profits keep the nearest target first (tp1 before tp2), so a trim
 * takes the furthest targets away.
 */
import { amount } from "./format";
import { fromLots, toLots } from "./instruments";
import type { OrderSide, PositionDirection } from "./types";

export interface WorkingExit {
  id: string;
  /** "stop", "tp1", "tp2"... */
  leg: string;
  side: OrderSide;
  /** Units still to fill (ordered less filled). */
  remaining: number;
}

export interface HeldPosition {
  direction: PositionDirection;
  /** Units held, positive. */
  quantity: number;
}

/** A signed quantity held (negative: short) as a position, or null when flat. */
export function heldPosition(signed: number): HeldPosition | null {
  return signed === 0 ? null : { direction: signed > 0 ? "long" : "short", quantity: Math.abs(signed) };
}

/** The side an exit of `held` takes: sell for a long, buy to cover for a short; none when flat. */
function closingSideOf(held: HeldPosition | null): OrderSide | null {
  return held ? (held.direction === "long" ? "sell" : "buy_to_cover") : null;
}

export type ExitFit =
  | { id: string; action: "cancel"; reason: string }
  | { id: string; action: "resize"; quantity: number; reason: string };

/** The changes that bring `exits` (in order of placement) within `held` (null: flat). Unchanged exits are not listed. */
export function fitExitsToPosition(held: HeldPosition | null, exits: readonly WorkingExit[], step: number): ExitFit[] {
  const heldLots = held ? toLots(held.quantity, step) : 0;
  const closingSide = closingSideOf(held);
  const fits: ExitFit[] = [];
  const stops = exits.filter((exit) => exit.leg === "stop");
  const targets = exits
    .filter((exit) => exit.leg.startsWith("tp"))
    .map((exit, order) => ({ exit, order, index: Number(exit.leg.slice(2)) || 0 }))
    .sort((a, b) => a.index - b.index || a.order - b.order)
    .map(({ exit }) => exit);

  for (const group of [stops, targets]) {
    let room = heldLots;
    for (const exit of group) {
      if (heldLots <= 0 || exit.side !== closingSide) {
        fits.push({
          id: exit.id,
          action: "cancel",
          reason: held ? `the position is now ${held.direction}` : "the position is closed",
        });
        continue;
      }
      const lots = toLots(exit.remaining, step);
      const kept = Math.min(lots, room);
      room -= kept;
      if (kept === lots) continue;
      const holding = `the position holds ${amount(fromLots(heldLots, step))}`;
      fits.push(
        kept <= 0
          ? { id: exit.id, action: "cancel", reason: `other exits already cover what is held (${holding})` }
          : {
              id: exit.id,
              action: "resize",
              quantity: fromLots(kept, step),
              reason: `resized to ${amount(fromLots(kept, step))}: ${holding}`,
            },
      );
    }
  }
  return fits;
}

/** An exit about to be placed for a position (an entry's stop or take-profit after its fill). */
export interface NewExit {
  leg: string;
  side: OrderSide;
  quantity: number;
}

/** What of a new exit may be placed: all of it (reason null), less, or nothing (0), and why. */
export interface ExitRoom {
  quantity: number;
  reason: string | null;
}

/**
 * How much of each exit about to be placed fits beside the exits already working on the position (in the order
 * given): those are kept whole, and each new stop, and each new take-profit (nearest target first), takes what its
 * group still leaves uncovered of what is held. Nothing fits when the position is flat or on the other side. So a
 * later entry's exits never make the position's stops, or its targets, cover more than it holds, not even between
 * placing them and fitting the others. An exit of another kind keeps its quantity.
 */
export function roomForNewExits(
  held: HeldPosition | null,
  working: readonly WorkingExit[],
  exits: readonly NewExit[],
  step: number,
): ExitRoom[] {
  const heldLots = held ? toLots(held.quantity, step) : 0;
  const closingSide = closingSideOf(held);
  const groupOf = (leg: string) => (leg === "stop" ? "stop" : leg.startsWith("tp") ? "tp" : null);
  const room = { stop: heldLots, tp: heldLots };
  const others = { stop: false, tp: false };
  for (const exit of working) {
    const group = groupOf(exit.leg);
    if (!group || exit.side !== closingSide || exit.remaining <= 0) continue;
    room[group] = Math.max(0, room[group] - toLots(exit.remaining, step));
    others[group] = true;
  }
  const holding = `the position holds ${amount(fromLots(heldLots, step))}`;
  const fits: ExitRoom[] = exits.map((exit) => ({ quantity: exit.quantity, reason: null }));
  const placing = exits
    .map((exit, i) => ({ exit, i, index: exit.leg === "stop" ? 0 : Number(exit.leg.slice(2)) || 0 }))
    .filter(({ exit }) => groupOf(exit.leg) !== null)
    .sort((a, b) => a.index - b.index || a.i - b.i);
  for (const { exit, i } of placing) {
    if (!held || exit.side !== closingSide) {
      fits[i] = { quantity: 0, reason: held ? `the position is now ${held.direction}` : "the position is closed" };
      continue;
    }
    const group = groupOf(exit.leg) as "stop" | "tp";
    const wanted = toLots(exit.quantity, step);
    const lots = Math.min(wanted, room[group]);
    room[group] -= lots;
    if (lots === wanted) continue;
    const why = others[group] ? `other exits already cover the rest (${holding})` : holding;
    fits[i] =
      lots <= 0
        ? { quantity: 0, reason: `other exits already cover what is held (${holding})` }
        : { quantity: fromLots(lots, step), reason: `resized to ${amount(fromLots(lots, step))}: ${why}` };
  }
  return fits;
}
