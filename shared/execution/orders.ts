import type {
  ExitMode,
  FOLLOW_MODES,
  fills,
  follows,
  orderEvents,
  orders,
  positions,
  SkipNoticeMode,
} from "../db/schema";
import type { MemberStanding } from "../membership/standing";
import type { StoredOrderIntent } from "./order-intent";

/**
 * The execution domain's records: orders with their event history, fills and
 * positions as stored (one community's rows), the followers a signal fans out
 * to, and a new order as the executor decided it.
 */

export type OrderRow = typeof orders.$inferSelect;
export type OrderEventRow = typeof orderEvents.$inferSelect;
export type FillRow = typeof fills.$inferSelect;
export type PositionRow = typeof positions.$inferSelect;

export interface Follower {
  userId: string;
  sizingMode: (typeof follows.$inferSelect)["sizingMode"];
  amount: number | null;
  /** null: the default for the trading mode (`effectiveFollowMode`). */
  mode: (typeof FOLLOW_MODES)[number] | null;
  /** null: exits follow the provider at once even in confirm mode (`awaitsConfirmation`). */
  exits?: ExitMode | null;
  tradingMode: "paper" | "live";
  riskSettings: Record<string, unknown>;
  /** How the member hears about copies not made: a DM each (default), or the daily digest. */
  skipNotices?: SkipNoticeMode;
  /** Suspension and Discord roles as stored (`shared/membership/standing.ts` decides); absent: in good standing. */
  standing?: MemberStanding;
}

/** A new order as the executor decided it; inserted with status `queued` and its first event. */
export interface NewOrder {
  id: string;
  signalId: string | null;
  userId: string;
  accountRef: string;
  broker: OrderRow["broker"];
  clientOrderId: string;
  leg: string;
  parentOrderId: string | null;
  symbol: string;
  assetClass: string;
  intent: StoredOrderIntent;
  side: string;
  orderType: string;
  quantity: number;
  limitPrice: number | null;
  stopPrice: number | null;
  /** `queued` is sent now; `held` (engine-placed exits) waits for the entry's fill. Stored as queued + nextCheckAt null. */
  cause: string;
}
