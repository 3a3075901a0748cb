import type { BillingContext } from "../../platform/billing/context";
import { loadTraderEntitlements } from "../../platform/billing/load-entitlements";
import { type TraderPlanGrantRow, traderPlanGrantStore } from "../../platform/db/trader-plan-grants";
import type { GRANTABLE_TRADER_PLANS } from "../../shared/billing/complimentary";
import { memberEntitlements } from "../../shared/billing/entitlements";
import { complimentaryEndedText, complimentaryGrantedText } from "../../shared/billing/notices";
import { NotFoundError } from "../../shared/errors";
import { sendDirectMessage } from "./notify";

/**
 * Operators' complimentary trader plans: granting, replacing and ending one, and telling the trader when the plan
 * that applies to them changes. The paid plan (`trader_plans`) is never touched: `memberEntitlements()` applies the
 * higher of the two while the grant runs, so a grant needs no job when it ends.
 */

type GrantablePlan = (typeof GRANTABLE_TRADER_PLANS)[number];

export interface TraderPlanGrantView {
  userId: string;
  plan: GrantablePlan;
  until: string;
  reason: string;
  grantedAt: string;
}

export function traderPlanGrantView(row: TraderPlanGrantRow): TraderPlanGrantView {
  return {
    userId: row.userId,
    plan: row.plan as GrantablePlan,
    until: new Date(row.until).toISOString(),
    reason: row.reason,
    grantedAt: new Date(row.updatedAt).toISOString(),
  };
}

/** Grants `plan` until `until` (ms), replacing the user's grant if there is one. */
export async function grantTraderPlan(
  ctx: BillingContext,
  input: { userId: string; plan: GrantablePlan; until: number; reason: string; grantedBy: string },
): Promise<TraderPlanGrantRow> {
  const now = ctx.now();
  const before = await loadTraderEntitlements(ctx.db, input.userId, ctx.catalog, now);
  const row = await traderPlanGrantStore(ctx.db).put({ ...input, now });
  const after = memberEntitlements(input.userId, before.paidTraderPlan, ctx.catalog, {
    grant: { plan: row.plan, until: row.until },
    now,
  });
  ctx.logger.info("billing.trader_plan_granted", {
    userId: input.userId,
    plan: row.plan,
    until: row.until,
    applies: after.complimentaryUntil !== null,
    grantedBy: input.grantedBy,
  });
  // A grant below the paid plan changes nothing today, so there is nothing to tell.
  if (after.complimentaryUntil !== null) {
    await tell(ctx, {
      key: `billing:trader:${input.userId}:complimentary:${row.updatedAt}`,
      userId: input.userId,
      content: complimentaryGrantedText(ctx.catalog, before.traderPlan, after.traderPlan, after.complimentaryUntil),
    });
  }
  return row;
}

/** Ends the user's running grant at once; 404 `PLAN_GRANT_NOT_FOUND` when none runs. */
export async function endTraderPlanGrant(ctx: BillingContext, userId: string): Promise<TraderPlanGrantRow> {
  const now = ctx.now();
  const before = await loadTraderEntitlements(ctx.db, userId, ctx.catalog, now);
  const ended = await traderPlanGrantStore(ctx.db).endRunning(userId, now);
  if (!ended) {
    throw new NotFoundError("This user has no complimentary trader plan running.", "PLAN_GRANT_NOT_FOUND");
  }
  ctx.logger.info("billing.trader_plan_grant_ended", { userId, plan: ended.plan, until: ended.until });
  if (before.complimentaryUntil !== null) {
    await tell(ctx, {
      key: `billing:trader:${userId}:complimentary-ended:${ended.updatedAt}`,
      userId,
      content: complimentaryEndedText(ctx.catalog, before.traderPlan, before.paidTraderPlan),
    });
  }
  return ended;
}

/** The grant is stored either way: a notice that cannot be queued is logged as an alert, not answered as a failure. */
async function tell(ctx: BillingContext, input: { key: string; userId: string; content: string }): Promise<void> {
  try {
    await sendDirectMessage(ctx, { ...input, communityId: null });
  } catch (error) {
    ctx.logger.error("billing.trader_plan_grant_notice_failed", { alert: true, userId: input.userId, error });
  }
}
