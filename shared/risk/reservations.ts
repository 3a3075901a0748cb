/**
 * The executor's in-flight counters per member and account. `decide` reads
 * them (`reserved`) and returns what its orders hold (`reservation`); the
 * executor adds it before deciding the next signal and releases it when the
 * orders fill (the snapshot then shows them) or end unfilled.
 */
import type { Reservation, Reserved } from "./types";

export function emptyReserved(): Reserved {
  return { notional: 0, openPositions: 0, ordersToday: 0, symbols: [], closing: {}, entries: {} };
}

export function addReservation(reserved: Reserved, reservation: Reservation): Reserved {
  const closing = { ...reserved.closing };
  if (reservation.closing) {
    const { instrument, quantity } = reservation.closing;
    closing[instrument] = round((closing[instrument] ?? 0) + quantity);
  }
  const entries = { ...reserved.entries };
  if (reservation.position) {
    entries[reservation.position] = round((entries[reservation.position] ?? 0) + reservation.notional);
  }
  return {
    notional: round(reserved.notional + reservation.notional),
    openPositions: reserved.openPositions + reservation.openPositions,
    ordersToday: reserved.ordersToday + reservation.ordersToday,
    symbols: reservation.symbol ? [...reserved.symbols, reservation.symbol] : [...reserved.symbols],
    closing,
    entries,
  };
}

/** Undoes one `addReservation`; counters never go below zero. */
export function releaseReservation(reserved: Reserved, reservation: Reservation): Reserved {
  const closing = { ...reserved.closing };
  if (reservation.closing) {
    const { instrument, quantity } = reservation.closing;
    const left = round((closing[instrument] ?? 0) - quantity);
    if (left > 0) closing[instrument] = left;
    else delete closing[instrument];
  }
  const entries = { ...reserved.entries };
  if (reservation.position) {
    const left = round((entries[reservation.position] ?? 0) - reservation.notional);
    if (left > 0) entries[reservation.position] = left;
    else delete entries[reservation.position];
  }
  const symbols = [...reserved.symbols];
  const at = reservation.symbol ? symbols.indexOf(reservation.symbol) : -1;
  if (at >= 0) symbols.splice(at, 1);
  return {
    notional: Math.max(0, round(reserved.notional - reservation.notional)),
    openPositions: Math.max(0, reserved.openPositions - reservation.openPositions),
    ordersToday: Math.max(0, reserved.ordersToday - reservation.ordersToday),
    symbols,
    closing,
    entries,
  };
}

function round(value: number): number {
  return Number(value.toFixed(10));
}
