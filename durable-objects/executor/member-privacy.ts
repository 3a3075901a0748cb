import {
  accountOf,
  findOrder,
  openOrders,
  type PaperAccountState,
  positionsOf,
} from "../../shared/brokers/paper/engine";
import type { MemberForgetOutcome, MemberStorageRecord } from "../../shared/privacy/member-storage";
import { tradingHoldOf } from "./account-locks";
import type { ExecutorLocalState } from "./local-state";
import type { MemberCloses } from "./member-close";
import { equityAccount } from "./paper-desk";
import type { SkipDigest } from "./skip-digest";

export interface MemberPrivacyParts {
  local: ExecutorLocalState;
  digest: SkipDigest;
  closes: Pick<MemberCloses, "forget">;
}

/** /privacy export: what this object keeps about one member, read synchronously from its storage. */
export function memberStorageRecord(parts: MemberPrivacyParts, userId: string): MemberStorageRecord {
  const state = parts.local.loadPaperAccount<PaperAccountState>(userId);
  return {
    paperAccount: state
      ? {
          account: accountOf(state),
          startingCash: state.startingCash,
          createdAt: state.createdAt,
          positions: positionsOf(state),
          orders: Object.keys(state.orders).flatMap((id) => findOrder(state, id) ?? []),
        }
      : null,
    tradingHold: tradingHoldOf(parts.local, userId, Date.now()),
    equityDay: parts.local.equityDays.dayOf(equityAccount(userId)),
  };
}

/**
 * /privacy delete: forgets the member's paper account, holds, reservations, confirmations, trading day, waiting
 * digest and remembered `/close` answers, unless their paper account still holds a position or a working order (checked and forgotten in one
 * synchronous step, so no fill can land in between). Forgetting twice is harmless.
 */
export function forgetMemberStorage(parts: MemberPrivacyParts, userId: string): MemberForgetOutcome {
  const state = parts.local.loadPaperAccount<PaperAccountState>(userId);
  if (state) {
    const openPositions = positionsOf(state)
      .filter((p) => p.quantity > 0)
      .map((p) => p.symbol);
    const working = openOrders(state).length;
    if (openPositions.length > 0 || working > 0) return { forgotten: false, openPositions, openOrders: working };
  }
  parts.local.forgetMember(userId);
  parts.local.equityDays.forget(equityAccount(userId));
  parts.digest.forget(userId);
  parts.closes.forget(userId);
  return { forgotten: true };
}
