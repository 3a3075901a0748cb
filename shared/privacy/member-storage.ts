import type { BrokerAccount, BrokerOrder, BrokerPosition } from "../brokers/adapter";
import type { EquityDay } from "../risk/daily-loss";

/**
 * What a community's executor keeps about one member in its own storage, as `/privacy export` reports it: the paper
 * account (figures, positions, the orders it still remembers), what holds their trading, and their trading day.
 */
export interface MemberStorageRecord {
  paperAccount: {
    account: BrokerAccount;
    startingCash: number;
    createdAt: string;
    positions: BrokerPosition[];
    orders: BrokerOrder[];
  } | null;
  tradingHold: {
    locked: { day: string; at: number; lossPercent: number } | null;
    paused: { until: number; reason: string } | null;
  };
  equityDay: EquityDay | null;
}

/** `/privacy delete` at the executor: forgotten, or refused because something of the member's still works there. */
export type MemberForgetOutcome =
  | { forgotten: true }
  | { forgotten: false; openPositions: string[]; openOrders: number };
