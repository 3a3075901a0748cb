import type { BrokerPosition } from "../../shared/brokers/adapter";
import { instrumentKey } from "../../shared/risk/instruments";
import type { OrderIntent } from "../../shared/risk/types";
import type { UserReservation } from "./local-state";
import type { PlannedOrder } from "./outbox";
import { PAPER_ACCOUNT_REF } from "./paper-desk";

/** A held position under its instrument key, less what exits in flight are already closing. */
export interface OpenToClose {
  position: BrokerPosition;
  key: string;
  /** Units still to close: exact to the units held (no lot rounding), so a close leaves nothing behind. */
  open: number;
}

/** The member's positions with what is left to close of each (positions exits in flight close in full are left out). */
export function openToClose(
  held: readonly BrokerPosition[],
  reserved: Pick<UserReservation, "closing">,
): OpenToClose[] {
  return held.flatMap((position) => {
    const symbol = position.option ? position.option.underlying : position.symbol;
    const key = instrumentKey({ assetClass: position.assetClass, symbol, option: position.option });
    const open = Number((position.quantity - (reserved.closing[key] ?? 0)).toFixed(10));
    return open > 0 ? [{ position, key, open }] : [];
  });
}

/**
 * A market order that closes what is left of one position, reduce-only (sell a long, buy to cover a short, never
 * more than is held), with the closing reservation that keeps exits in flight from closing it again. Used when a
 * limit trips (a flatten) and when a member presses [Close now] on a position an exit they did not take left open.
 */
export function closeOrderFor(
  toClose: OpenToClose,
  order: { signalId: string | null; userId: string; leg: string; cause: string; flattenReason?: string },
): { planned: PlannedOrder; closing: { instrument: string; quantity: number } } {
  const { position, key, open } = toClose;
  const side = position.direction === "long" ? "sell" : "buy_to_cover";
  const symbol = position.option ? position.option.underlying : position.symbol;
  const intent: OrderIntent = {
    leg: "exit",
    side,
    positionEffect: "close",
    assetClass: position.assetClass,
    symbol,
    option: position.option,
    orderType: "market",
    quantity: open,
    limitPrice: null,
    stopPrice: null,
    timeInForce: "day",
    nativeBracket: false,
    placeAfterFill: false,
  };
  const planned: PlannedOrder = {
    id: crypto.randomUUID(),
    signalId: order.signalId,
    userId: order.userId,
    accountRef: PAPER_ACCOUNT_REF,
    broker: "paper" as const,
    leg: order.leg,
    parentOrderId: null,
    symbol: intent.symbol,
    assetClass: position.assetClass,
    intent: {
      ...intent,
      leg: order.leg,
      exits: [],
      ...(order.flattenReason ? { flattenReason: order.flattenReason } : {}),
    },
    side,
    orderType: "market",
    quantity: open,
    limitPrice: null,
    stopPrice: null,
    cause: order.cause,
  };
  return { planned, closing: { instrument: key, quantity: open } };
}
