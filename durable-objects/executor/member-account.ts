import type { TenantRepository } from "../../platform/db/tenant/for-community";
import type { OrderFlows } from "./order-flows";

export interface MemberAccountParts {
  flows: OrderFlows;
  tenant(communityId: string): TenantRepository;
}

export interface MemberAccountFigures {
  equity: number;
  cash: number;
  currency: string;
  /** Equity now less equity at the start of the trading day, when the broker (or the paper desk) knows it. */
  dayPnl: number | null;
}

/** /portfolio's account figures: equity, cash and the day's P&L of the member's account at this executor (its paper desk). */
export async function memberAccountFigures(
  parts: MemberAccountParts,
  input: { communityId: string; userId: string },
): Promise<MemberAccountFigures> {
  const flow = parts.flows.for(input.communityId, parts.tenant(input.communityId), input.userId);
  const account = await flow.adapter.getAccount();
  return {
    equity: account.equity,
    cash: account.cash,
    currency: account.currency,
    dayPnl: account.startOfDayEquity === null ? null : account.equity - account.startOfDayEquity,
  };
}
