import {
  applyingTraderPlan,
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
import { type TraderPlanGrantRow, traderPlanGrantStore } from "../db/trader-plan-grants";
import { planCatalogFor } from "./context";

/**
 * The D1 side of `entitlements()`: reads the applied plans (the community's
 * tier, the member's paid trader plan and complimentary grant) and, with a
 * config, the plan overrides and signed upgrade links for denial messages: the
 * member's own trader link, and the community's checkout link only when
 * `communityLink` says the reader is one of its owners or admins.
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
  const catalog = options.config ? planCatalogFor(options.config) : DEFAULT_PLAN_CATALOG;
  const now = options.nowMs ?? Date.now();
  const trader = subject.userId ? await readTraderPlan(db, subject.userId) : null;
  const links = options.config
    ? {
        community: options.communityLink
          ? await upgradeLink(options.config, catalog, "community", community.tier, subject.communityId, null)
          : null,
        trader:
          subject.userId && trader
            ? await upgradeLink(
                options.config,
                catalog,
                "trader",
                applyingTraderPlan(trader.paid, trader.grant, now).plan,
                null,
                subject.userId,
              )
            : null,
      }
    : undefined;
  return entitlements({
    catalog,
    now,
    community: { id: subject.communityId, plan: community.tier },
    ...(subject.userId && trader ? { member: { userId: subject.userId, plan: trader.paid, grant: trader.grant } } : {}),
    upgradeUrls: links,
  });
}

/** One trader's plan as it applies at `now`: the paid plan and any complimentary grant. */
export async function loadTraderEntitlements(
  db: Database,
  userId: string,
  catalog: PlanCatalog = DEFAULT_PLAN_CATALOG,
  now: number = Date.now(),
): Promise<MemberEntitlements> {
  const { paid, grant } = await readTraderPlan(db, userId);
  return memberEntitlements(userId, paid, catalog, { grant, now });
}

async function readTraderPlan(db: Database, userId: string) {
  const [paid, grant] = await Promise.all([
    billingDirectory(db).traders.plan(userId),
    traderPlanGrantStore(db).get(userId),
  ]);
  return { paid: paid?.plan ?? "free", grant: grantOf(grant) };
}

/** Trader plans of many members at once (the executor's fan-out): two queries per 90 members. */
export async function loadMemberEntitlements(
  db: Database,
  userIds: readonly string[],
  catalog: PlanCatalog = DEFAULT_PLAN_CATALOG,
  now: number = Date.now(),
): Promise<Map<string, MemberEntitlements>> {
  const [plans, grants] = await Promise.all([
    billingDirectory(db).traders.plans(userIds),
    traderPlanGrantStore(db).getMany(userIds),
  ]);
  return new Map(
    userIds.map((userId) => [
      userId,
      memberEntitlements(userId, plans.get(userId) ?? "free", catalog, { grant: grantOf(grants.get(userId)), now }),
    ]),
  );
}

function grantOf(row: TraderPlanGrantRow | null | undefined) {
  return row ? { plan: row.plan, until: row.until } : null;
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
