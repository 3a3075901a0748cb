import type { BrokerOrderIntent } from "../brokers/adapter";
import type { OrderIntent, PlaceDecision, Reduction } from "../risk/types";

/**
 * What an order row's `intent` holds: the intent the risk engine decided for
 * this leg, with what the executor adds around it (the entry's exits and order
 * class, the reductions and notes for the member, the position an exit closes,
 * and why the executor placed it).
 */
export type StoredOrderIntent = Omit<OrderIntent, "leg"> & {
  /** The engine's leg, or `flatten-<symbol>` for an order that flattens a position after a tripped limit. */
  leg: string;
  /** Entries: simple, native bracket/OTO, or exits the engine places after the fill. */
  orderClass?: PlaceDecision["orderClass"];
  /** Entries: the exits decided with them (native legs, or placed after the fill). */
  exits?: OrderIntent[];
  /** A native bracket's legs as the broker takes them, when stored already resolved. */
  bracket?: BrokerOrderIntent["bracket"];
  reductions?: Reduction[];
  notes?: string[];
  /** Exits: the position they reduce (its other exits are fitted to what is left). */
  closes?: PlaceDecision["closes"];
  /** Confirm-mode followers: sent only after the member confirms. */
  awaitingConfirmation?: boolean;
  /** Flatten orders: the limit that tripped (daily loss, circuit breaker). */
  flattenReason?: string;
  /** A resized exit: the order it replaces. */
  resizedFrom?: string;
};
