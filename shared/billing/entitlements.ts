import {
  type CommunityLimits,
  type CommunityPlanId,
  DEFAULT_PLAN_CATALOG,
  isCommunityPlan,
  isTraderPlan,
  nextPlanUp,
  type PlanCatalog,
  planRank,
  type TraderFeatures,
  type TraderPlanId,
} from "./plans";

/**
 * `entitlements()` is the one answer to "what is allowed" (docs/architecture.md §9): the
 * executor, the commands and the dashboards all ask it. It is pure: the caller
 * loads the applied plans (platform/billing/load-entitlements.ts does it from D1).
 * Gated actions are decided by the `can*` helpers below, which explain a
 * denial and point at the upgrade.
 */

interface UpgradeOffer {
  plan: string;
  planName: string;
  /** A link that starts the upgrade, when the caller could make one; else use `command`. */
  url: string | null;
  command: "/subscription";
}

export interface MemberEntitlements extends TraderFeatures {
  userId: string;
  /** The plan that applies: the higher of the paid plan and a running complimentary grant. */
  traderPlan: TraderPlanId;
  traderPlanName: string;
  /** What the trader pays for (`trader_plans`), whatever a grant adds. */
  paidTraderPlan: TraderPlanId;
  /** When `traderPlan` is an operator's complimentary grant: when it stops applying (ms); else null. */
  complimentaryUntil: number | null;
}

/** An operator's complimentary trader plan (`trader_plan_grants`): `plan` until `until` (ms, exclusive). */
export interface ComplimentaryGrant {
  plan: string;
  until: number;
}

export interface Entitlements {
  communityId: string;
  communityPlan: CommunityPlanId;
  communityPlanName: string;
  limits: CommunityLimits;
  member?: MemberEntitlements;
  upgrade: { community: UpgradeOffer | null; trader: UpgradeOffer | null };
}

export interface EntitlementsInput {
  community: { id: string; plan: string };
  /** `plan`: the paid trader plan; `grant`: an operator's complimentary plan, applied while it runs at `now`. */
  member?: { userId: string; plan: string; grant?: ComplimentaryGrant | null };
  catalog?: PlanCatalog;
  /** The moment a grant is judged at (ms); defaults to the clock. */
  now?: number;
  /**
   * Links that start an upgrade to the next plan up, for denial messages. A community link only when the reader
   * is the community's owner or admin; a trader link only for that trader.
   */
  upgradeUrls?: { community?: string | null; trader?: string | null };
}

export function entitlements(input: EntitlementsInput): Entitlements {
  const catalog = input.catalog ?? DEFAULT_PLAN_CATALOG;
  const communityPlan = isCommunityPlan(input.community.plan) ? input.community.plan : "free";
  const plan = catalog.community[communityPlan];
  const member = input.member
    ? memberEntitlements(input.member.userId, input.member.plan, catalog, {
        grant: input.member.grant ?? null,
        now: input.now,
      })
    : undefined;
  return {
    communityId: input.community.id,
    communityPlan,
    communityPlanName: plan.name,
    limits: { ...plan.limits },
    ...(member ? { member } : {}),
    upgrade: {
      community: offer(catalog, "community", communityPlan, input.upgradeUrls?.community),
      trader: member ? offer(catalog, "trader", member.traderPlan, input.upgradeUrls?.trader) : null,
    },
  };
}

/**
 * A member's trader plan on its own (the executor loads many at once): the paid plan, raised to a complimentary
 * grant's plan while the grant runs (`now` before `until`). A grant never lowers a plan, and nothing has to run
 * when it ends: from `until` on it is simply not applied.
 */
export function memberEntitlements(
  userId: string,
  plan: string,
  catalog: PlanCatalog = DEFAULT_PLAN_CATALOG,
  options: { grant?: ComplimentaryGrant | null; now?: number } = {},
): MemberEntitlements {
  const paidTraderPlan = isTraderPlan(plan) ? plan : "free";
  const applying = applyingTraderPlan(paidTraderPlan, options.grant, options.now ?? Date.now());
  const entry = catalog.trader[applying.plan];
  return {
    userId,
    traderPlan: applying.plan,
    traderPlanName: entry.name,
    paidTraderPlan,
    complimentaryUntil: applying.complimentaryUntil,
    ...entry.features,
  };
}

/** The trader plan that applies at `now`: the higher of the paid plan and a grant that has not reached `until`. */
export function applyingTraderPlan(
  paidPlan: string,
  grant: ComplimentaryGrant | null | undefined,
  now: number,
): { plan: TraderPlanId; complimentaryUntil: number | null } {
  const paid = isTraderPlan(paidPlan) ? paidPlan : "free";
  if (
    grant &&
    isTraderPlan(grant.plan) &&
    now < grant.until &&
    planRank("trader", grant.plan) > planRank("trader", paid)
  ) {
    return { plan: grant.plan, complimentaryUntil: grant.until };
  }
  return { plan: paid, complimentaryUntil: null };
}

function offer(
  catalog: PlanCatalog,
  subject: "community" | "trader",
  current: string,
  url: string | null | undefined,
): UpgradeOffer | null {
  const next = nextPlanUp(subject, current);
  if (!next) return null;
  const planName =
    subject === "community"
      ? catalog.community[next as CommunityPlanId].name
      : catalog.trader[next as TraderPlanId].name;
  return { plan: next, planName, url: url ?? null, command: "/subscription" };
}

type DenialCode =
  | "SIGNAL_LIMIT_REACHED"
  | "MEMBER_LIMIT_REACHED"
  | "PROVIDER_LIMIT_REACHED"
  | "LIVE_TRADING_NOT_IN_PLAN"
  | "LIVE_CONNECTION_LIMIT_REACHED"
  | "ANALYTICS_NOT_IN_PLAN";

export type Decision =
  | { allowed: true }
  | { allowed: false; code: DenialCode; reason: string; upgrade: UpgradeOffer | null };

const ALLOWED: Decision = { allowed: true };

/**
 * The executor's check before a signal runs: `signalsToday` counts the
 * community's signals already accepted this UTC day.
 */
export function checkSignalQuota(ent: Entitlements, signalsToday: number): Decision {
  const limit = ent.limits.signalsPerDay;
  if (signalsToday < limit) return ALLOWED;
  return deny(
    ent,
    "community",
    "SIGNAL_LIMIT_REACHED",
    `This community's ${ent.communityPlanName} plan allows ${limit} signals a day (UTC), and today's are used up, so nothing was executed.`,
  );
}

/** `/follow`: a member over the community's member limit cannot start following. */
export function canFollow(
  ent: Entitlements,
  followingMembers: number,
  options: { alreadyFollowing?: boolean } = {},
): Decision {
  if (options.alreadyFollowing) return ALLOWED;
  const limit = ent.limits.members;
  if (followingMembers < limit) return ALLOWED;
  return deny(
    ent,
    "community",
    "MEMBER_LIMIT_REACHED",
    `This community's ${ent.communityPlanName} plan allows ${limit} following members and all ${limit} places are taken, so you cannot follow a provider yet.`,
  );
}

/** `/setup provider:` and provider roles: at most `providers` signal providers. */
export function canAddProvider(ent: Entitlements, currentProviders: number): Decision {
  const limit = ent.limits.providers;
  if (currentProviders < limit) return ALLOWED;
  return deny(
    ent,
    "community",
    "PROVIDER_LIMIT_REACHED",
    `This community's ${ent.communityPlanName} plan allows ${limit} signal providers, and all are in use.`,
  );
}

/** `/paper mode:live` and the executor's live routing. */
export function canTradeLive(ent: Entitlements): Decision {
  if (ent.member?.liveTrading) return ALLOWED;
  return deny(
    ent,
    "trader",
    "LIVE_TRADING_NOT_IN_PLAN",
    `Your ${ent.member?.traderPlanName ?? "Free"} plan is paper trading only; live trading needs a paid trader plan.`,
  );
}

/** `/broker connect` of a live (non-paper) broker. */
export function canAddLiveConnection(ent: Entitlements, activeLiveConnections: number): Decision {
  const member = ent.member;
  if (!member?.liveTrading) return canTradeLive(ent);
  if (member.maxLiveConnections === null || activeLiveConnections < member.maxLiveConnections) return ALLOWED;
  return deny(
    ent,
    "trader",
    "LIVE_CONNECTION_LIMIT_REACHED",
    `Your ${member.traderPlanName} plan allows ${member.maxLiveConnections} live broker connection${member.maxLiveConnections === 1 ? "" : "s"}, and all are in use.`,
  );
}

export function canUseAnalytics(ent: Entitlements): Decision {
  if (ent.member?.analytics) return ALLOWED;
  return deny(
    ent,
    "trader",
    "ANALYTICS_NOT_IN_PLAN",
    `Analytics come with the Pro and Premium trader plans; you are on ${ent.member?.traderPlanName ?? "Free"}.`,
  );
}

function deny(ent: Entitlements, subject: "community" | "trader", code: DenialCode, base: string): Decision {
  const upgrade = ent.upgrade[subject];
  return { allowed: false, code, reason: `${base}${upgrade ? ` ${upgradeHint(subject, upgrade)}` : ""}`, upgrade };
}

/**
 * Where the upgrade is. A community's checkout link is only ever signed for its owners and admins; anyone else is
 * told to ask them. A URL is followed by a space before the full stop, so chat clients do not take the stop into it.
 */
function upgradeHint(subject: "community" | "trader", upgrade: UpgradeOffer): string {
  if (upgrade.url) return `Upgrade to ${upgrade.planName} with ${upgrade.command} or at ${upgrade.url} .`;
  return subject === "community"
    ? `Ask an owner or admin to upgrade to ${upgrade.planName} (they can use ${upgrade.command}).`
    : `Upgrade to ${upgrade.planName} with ${upgrade.command}.`;
}
