import type { BillingContext } from "../../platform/billing/context";
import { type SubscriptionRow, stateOf } from "../../platform/db/cross-community/billing-directory";
import { type BillingRepository, billingFor, type PlanChangeCause } from "../../platform/db/tenant/billing";
import { traderPlanGrantStore } from "../../platform/db/trader-plan-grants";
import { memberEntitlements } from "../../shared/billing/entitlements";
import type { SubjectRef } from "../../shared/billing/events";
import {
  complimentaryStillAppliesText,
  liveFeaturesRemovedText,
  losesLiveFeatures,
  type NoticeContext,
  planChangedText,
} from "../../shared/billing/notices";
import { type CommunityPlanId, normalizePlan, type TraderPlanId } from "../../shared/billing/plans";
import { highestEntitledPlan } from "../../shared/billing/subscription-state";
import { MANAGE_HINT, payerOf, sendDirectMessage } from "./notify";

/**
 * Brings a subject's applied plan (`communities.tier`, `trader_plans`) in line
 * with what its subscriptions grant right now, with the side effects a change
 * has. Idempotent: run it after every event and on every lifecycle tick.
 *
 * The payer is told before the change is written, under a key that stays the
 * same until the change lands, so a retry after a failure tells them once.
 */
export async function reconcileSubject(
  ctx: BillingContext,
  subject: SubjectRef,
  cause: PlanChangeCause,
): Promise<void> {
  if (subject.subject === "community" && subject.communityId) {
    await reconcileCommunity(ctx, subject.communityId, cause);
  } else if (subject.subject === "trader" && subject.userId) {
    await reconcileTrader(ctx, subject.userId, cause);
  }
}

async function reconcileCommunity(ctx: BillingContext, communityId: string, cause: PlanChangeCause): Promise<void> {
  const community = await ctx.dir.people.community(communityId);
  if (!community) {
    ctx.logger.warn("billing.reconcile_unknown_community", { communityId });
    return;
  }
  const subject: SubjectRef = { subject: "community", communityId, userId: null };
  const rows = await ctx.dir.subscriptions.forSubject(subject);
  const target = highestEntitledPlan("community", rows.map(stateOf), ctx.now()) as CommunityPlanId;
  if (community.tier === target) return;

  const payer = await payerOf(ctx, subject, await customerUserOf(ctx, rows));
  if (payer) {
    const context: NoticeContext = {
      catalog: ctx.catalog,
      subject: "community",
      communityName: community.name,
      plan: target,
      manageHint: MANAGE_HINT,
    };
    await sendDirectMessage(ctx, {
      key: `billing:community:${communityId}:plan:${community.tier}-${target}:${community.updatedAt}`,
      userId: payer,
      communityId,
      content: planChangedText(community.tier, target, context),
    });
  }
  const { changed, from } = await billingFor(ctx.db, communityId).setCommunityPlan(target, cause);
  if (changed) ctx.logger.info("billing.community_plan_changed", { communityId, from, to: target, ...cause });
}

async function reconcileTrader(ctx: BillingContext, userId: string, cause: PlanChangeCause): Promise<void> {
  const subject: SubjectRef = { subject: "trader", communityId: null, userId };
  const rows = await ctx.dir.subscriptions.forSubject(subject);
  const target = normalizePlan("trader", highestEntitledPlan("trader", rows.map(stateOf), ctx.now())) as TraderPlanId;
  const applied = await ctx.dir.traders.plan(userId);
  const current = normalizePlan("trader", applied?.plan) as TraderPlanId;
  if (current === target) return;

  // What the trader keeps is what the plan they end up with allows: a complimentary grant still running counts.
  const grantRow = await traderPlanGrantStore(ctx.db).get(userId);
  const grant = grantRow ? { plan: grantRow.plan, until: grantRow.until } : null;
  const before = memberEntitlements(userId, current, ctx.catalog, { grant, now: ctx.now() });
  const after = memberEntitlements(userId, target, ctx.catalog, { grant, now: ctx.now() });
  const live = await ctx.dir.traders.liveConnectionsOf(userId);
  const keep = !after.liveTrading
    ? []
    : after.maxLiveConnections === null
      ? live.map((connection) => connection.id)
      : live.slice(0, after.maxLiveConnections).map((connection) => connection.id);
  const liveCommunities = after.liveTrading ? [] : await ctx.dir.traders.liveCommunitiesOf(userId);
  const communities = new Set([
    ...(await ctx.dir.traders.communitiesOf(userId)),
    ...live.map((connection) => connection.communityId),
    ...liveCommunities,
  ]);

  const content = losesLiveFeatures(ctx.catalog, before.traderPlan, after.traderPlan)
    ? liveFeaturesRemovedText({
        catalog: ctx.catalog,
        toPlan: after.traderPlan,
        communitiesSwitchedToPaper: liveCommunities.length,
        connectionsDisabled: live.length - keep.length,
      })
    : `${planChangedText(current, target, {
        catalog: ctx.catalog,
        subject: "trader",
        communityName: null,
        plan: target,
        manageHint: MANAGE_HINT,
      })}${after.complimentaryUntil === null ? "" : ` ${complimentaryStillAppliesText(ctx.catalog, after.traderPlan, after.complimentaryUntil)}`}`;
  await sendDirectMessage(ctx, {
    key: `billing:trader:${userId}:plan:${current}-${target}:${applied?.updatedAt ?? 0}`,
    userId,
    communityId: null,
    content,
  });

  for (const communityId of communities) {
    const repository: BillingRepository = billingFor(ctx.db, communityId);
    const result = await repository.applyTraderPlan(userId, {
      from: current,
      to: target,
      liveTrading: after.liveTrading,
      keepConnectionIds: keep,
      cause,
    });
    if (result.changed) {
      ctx.logger.info("billing.trader_plan_applied", {
        communityId,
        userId,
        from: current,
        to: target,
        switchedToPaper: result.switchedToPaper,
        disabledConnections: result.disabledConnectionIds.length,
      });
    }
  }
  await ctx.dir.traders.setPlan(userId, target);
}

/** The user on the customer of the subject's newest subscription (who paid last). */
async function customerUserOf(ctx: BillingContext, rows: readonly SubscriptionRow[]): Promise<string | null> {
  const newest = rows[0];
  if (!newest) return null;
  const customer = await ctx.dir.customers.byId(newest.customerId);
  return customer?.userId ?? null;
}
