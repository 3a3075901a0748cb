import {
  type Entitlements,
  entitlements,
  type MemberEntitlements,
  memberEntitlements,
} from "../../shared/billing/entitlements";
import { billingLinkUrl } from "../../shared/billing/links";
import {
  type BillingSubjectKind,
  DEFAULT_PLAN_CATALOG,
  nextPlanUp,
  type PlanCatalog,
  priceOf,
} from "../../shared/billing/plans";
import { canSell } from "../../shared/billing/sellable";
import type { AppConfig } from "../../shared/config";
import { NotFoundError } from "../../shared/errors";
import type { Database } from "../db/client";
import { billingDirectory } from "../db/cross-community/billing-directory";
import { planCatalogFor } from "./context";

/**
 * The D1 side of `entitlements()`: reads the applied plans (the community's
 * tier, the member's trader plan) and, with a config, the plan overrides and
 * signed upgrade links for denial messages: the member's own trader link, and
 * the community's checkout link only when `communityLink` says the reader is
 * one of its owners or admins.
 */

export async function loadEntitlements(
  db: Database,
  subject: { communityId: string; userId?: string | null },
  options: {
    config?: AppConfig;
    nowMs?: number;
    communityLink?: boolean;
    /** The community's row when the caller has read it already: its tier is the plan, and it is not read again. */
    community?: { tier: string };
  } = {},
): Promise<Entitlements> {
  const dir = billingDirectory(db);
  const community = options.community ?? (await dir.people.community(subject.communityId));
  if (!community) throw new NotFoundError(`Community ${subject.communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
  const traderPlan = subject.userId ? ((await dir.traders.plan(subject.userId))?.plan ?? "free") : null;
  const catalog = options.config ? planCatalogFor(options.config) : DEFAULT_PLAN_CATALOG;
  const links = options.config
    ? {
        community: options.communityLink
          ? await upgradeLink(options.config, catalog, "community", community.tier, subject.communityId, null)
          : null,
        trader:
          subject.userId && traderPlan
            ? await upgradeLink(options.config, catalog, "trader", traderPlan, null, subject.userId)
            : null,
      }
    : undefined;
  return entitlements({
    catalog,
    community: { id: subject.communityId, plan: community.tier },
    ...(subject.userId && traderPlan ? { member: { userId: subject.userId, plan: traderPlan } } : {}),
    upgradeUrls: links,
  });
}

/** Trader plans of many members at once (the executor's fan-out): one query per 90 members. */
export async function loadMemberEntitlements(
  db: Database,
  userIds: readonly string[],
  catalog: PlanCatalog = DEFAULT_PLAN_CATALOG,
): Promise<Map<string, MemberEntitlements>> {
  const plans = await billingDirectory(db).traders.plans(userIds);
  return new Map(userIds.map((userId) => [userId, memberEntitlements(userId, plans.get(userId) ?? "free", catalog)]));
}

/** A signed checkout link for the next plan up (monthly), or null without SESSION_SECRET/PUBLIC_BASE_URL. */
async function upgradeLink(
  config: AppConfig,
  catalog: PlanCatalog,
  subject: BillingSubjectKind,
  currentPlan: string,
  communityId: string | null,
  userId: string | null,
): Promise<string | null> {
  const plan = nextPlanUp(subject, currentPlan);
  if (
    !plan ||
    !config.SESSION_SECRET ||
    !config.PUBLIC_BASE_URL ||
    priceOf(catalog, subject, plan, "month") === null ||
    !canSell(config, subject, plan, "month")
  ) {
    return null;
  }
  return billingLinkUrl(config.PUBLIC_BASE_URL, config.SESSION_SECRET, {
    action: "checkout",
    subject,
    communityId,
    userId,
    plan,
    interval: "month",
  });
}
