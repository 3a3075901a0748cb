import { type BillingContext, billingContext } from "../../../platform/billing/context";
import { billingLinkUrl } from "../../../shared/billing/links";
import { discordDate } from "../../../shared/billing/notices";
import {
  type BillingSubjectKind,
  formatPrice,
  planIdsOf,
  planName,
  planRank,
  priceOf,
} from "../../../shared/billing/plans";
import { canSell } from "../../../shared/billing/sellable";
import type { AppConfig } from "../../../shared/config";
import { ButtonStyle } from "../../../shared/discord/components";
import { memberMay } from "../../../shared/discord/permissions";
import type { Logger } from "../../../shared/logging";
import { communityBilling, type SubscriptionView, traderBilling } from "../../billing/summary";
import type { CommunityContext } from "../context";
import type { DEFINITIONS, OptionsFor } from "../definitions";
import { ephemeral, type InteractionResponse } from "../respond";
import { discordStepUpRefusal } from "../step-up";

export type SubscriptionOptions = OptionsFor<typeof DEFINITIONS.subscription>;

/**
 * /subscription (ephemeral): the community's plan, usage against its limits
 * and its checkout/portal links for owners and admins; every member's own
 * trader plan with the same. Links are signed and expire after an hour. The community's portal link is where
 * its plan is lowered or canceled, so it is a step-up: without one it is replaced by the refusal.
 */
export async function handleSubscription(ctx: CommunityContext<SubscriptionOptions>): Promise<InteractionResponse> {
  const showCommunity = memberMay(ctx.member, ctx.settings, "billing.view");
  const reply = await subscriptionReply(billingContext(ctx.env, ctx.config, ctx.logger), {
    communityId: ctx.community.id,
    userId: ctx.member.user.id,
    showCommunity,
    communityPortalRefusal: showCommunity ? await discordStepUpRefusal(ctx, "billing.portal") : null,
  });
  return ephemeral(reply.content, reply.components);
}

export interface SubscriptionReply {
  content: string;
  components: Record<string, unknown>[];
}

/** The reply's text and link buttons (exported for tests and the dashboard). */
export async function subscriptionReply(
  ctx: BillingContext,
  input: {
    communityId: string;
    userId: string;
    showCommunity: boolean;
    /** Why the community's portal link is withheld (the step-up refusal), or null/absent to offer it. */
    communityPortalRefusal?: string | null;
  },
): Promise<SubscriptionReply> {
  const lines: string[] = [];
  const components: Record<string, unknown>[] = [];

  if (input.showCommunity) {
    const community = await communityBilling(ctx, input.communityId);
    const { limits, usage } = community;
    lines.push(
      `**Community plan: ${community.planName}**`,
      `Following members ${usage.members}/${limits.members} · Providers ${usage.providers}/${limits.providers} · Signals today ${usage.signalsToday}/${limits.signalsPerDay} (UTC day)`,
      describeSubscription(ctx, "community", community.subscriptions[0]),
    );
    const refusal = input.communityPortalRefusal ?? null;
    const buttons = await linkButtons(ctx.config, ctx, "community", community, input.communityId, null, {
      portal: refusal === null,
    });
    if (buttons.length > 0) components.push({ type: 1, components: buttons });
    if (refusal !== null && community.subscriptions.length > 0) lines.push(`Manage community billing: ${refusal}`);
    lines.push("");
  }

  const trader = await traderBilling(ctx, input.userId);
  const features = trader.features;
  const cap = features.liveTrading ? (features.maxLiveConnections ?? "unlimited") : 0;
  const complimentary = trader.complimentary
    ? `, complimentary until ${discordDate(Date.parse(trader.complimentary.until))}`
    : "";
  lines.push(
    `**Your trader plan: ${trader.planName}${complimentary}**`,
    `${features.liveTrading ? "Live trading" : "Paper trading only"} · Live broker connections ${trader.usage.liveConnections}/${cap}${features.analytics ? " · Analytics" : ""}${features.priorityExecution ? " · Priority execution" : ""}`,
    describeSubscription(ctx, "trader", trader.subscriptions[0]),
  );
  const buttons = await linkButtons(ctx.config, ctx, "trader", trader, null, input.userId);
  if (buttons.length > 0) components.push({ type: 1, components: buttons });
  if (components.length > 0) lines.push("", "Links expire in an hour; run `/subscription` again for fresh ones.");
  return { content: lines.join("\n"), components };
}

function describeSubscription(ctx: BillingContext, subject: BillingSubjectKind, view: SubscriptionView | undefined) {
  if (!view) return "No subscription.";
  const name = planName(ctx.catalog, subject, view.plan);
  switch (view.status) {
    case "trialing":
      return `${name} trial${view.trialEnd ? ` until ${discordDate(view.trialEnd)}` : ""}.`;
    case "active": {
      const endsAt = view.cancelAt ?? view.currentPeriodEnd;
      if (view.cancelAtPeriodEnd && endsAt) return `${name}, canceled: ends ${discordDate(endsAt)}.`;
      if (view.pendingPlan && view.currentPeriodEnd) {
        return `${name} until ${discordDate(view.currentPeriodEnd)}, then ${planName(ctx.catalog, subject, view.pendingPlan)}.`;
      }
      return `${name}${view.currentPeriodEnd ? `, renews ${discordDate(view.currentPeriodEnd)}` : ""} (${view.provider}).`;
    }
    case "paused":
      return `${name}, paused: the plan is Free until the subscription resumes (add a payment method in the portal).`;
    case "past_due":
    case "unpaid":
      return `${name}: payment failed${view.pastDueSince ? ` on ${discordDate(view.pastDueSince)}` : ""}; update the payment method in the portal.`;
    default:
      return `Last subscription: ${name} (${view.status}).`;
  }
}

/** Checkout buttons for higher plans that can be bought while nothing runs; a portal button once a billing account exists. */
async function linkButtons(
  config: AppConfig,
  ctx: { logger: Logger; catalog: BillingContext["catalog"] },
  subject: BillingSubjectKind,
  summary: { plan: string; subscriptions: SubscriptionView[] },
  communityId: string | null,
  userId: string | null,
  offer: { portal: boolean } = { portal: true },
): Promise<Record<string, unknown>[]> {
  const base = config.PUBLIC_BASE_URL?.replace(/\/+$/, "");
  const secret = config.SESSION_SECRET;
  if (!base || !secret) {
    ctx.logger.warn("billing.links_unavailable", { reason: "PUBLIC_BASE_URL or SESSION_SECRET missing" });
    return [];
  }
  // A subscription set to end with its period may be replaced by a new checkout.
  const running = summary.subscriptions.some(
    (view) => ["trialing", "active", "past_due", "unpaid"].includes(view.status) && !view.cancelAtPeriodEnd,
  );
  const buttons: Record<string, unknown>[] = [];
  if (!running) {
    for (const plan of planIdsOf(subject)) {
      if (planRank(subject, plan) <= planRank(subject, summary.plan)) continue;
      const price = priceOf(ctx.catalog, subject, plan, "month");
      if (price === null || !canSell(config, subject, plan, "month")) continue;
      const claims = { action: "checkout", subject, communityId, userId, plan, interval: "month" } as const;
      buttons.push(
        linkButton(
          `${planName(ctx.catalog, subject, plan)} ${formatPrice(price, "month")}`,
          await billingLinkUrl(base, secret, claims),
        ),
      );
    }
  }
  if (summary.subscriptions.length > 0 && offer.portal) {
    buttons.push(
      linkButton(
        subject === "community" ? "Manage community billing" : "Manage my billing",
        await billingLinkUrl(base, secret, { action: "portal", subject, communityId, userId }),
      ),
    );
  }
  return buttons.slice(0, 5);
}

function linkButton(label: string, url: string): Record<string, unknown> {
  return { type: 2, style: ButtonStyle.LINK, label: label.slice(0, 80), url };
}
