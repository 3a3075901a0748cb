import { z } from "zod";

/**
 * The plan table (docs/architecture.md §9): one place for names, prices and limits of
 * every plan. Defaults follow the product's original billing spec; an operator
 * may override names, prices and limits with BILLING_PLAN_OVERRIDES.
 */

export const BILLING_SUBJECT_KINDS = ["community", "trader"] as const;
export type BillingSubjectKind = (typeof BILLING_SUBJECT_KINDS)[number];

export const COMMUNITY_PLAN_IDS = ["free", "professional", "enterprise"] as const;
export type CommunityPlanId = (typeof COMMUNITY_PLAN_IDS)[number];

export const TRADER_PLAN_IDS = ["free", "basic", "pro", "premium"] as const;
export type TraderPlanId = (typeof TRADER_PLAN_IDS)[number];

export const BILLING_INTERVALS = ["month", "year"] as const;
export type BillingInterval = (typeof BILLING_INTERVALS)[number];

export const FREE_PLAN = "free";

/** Prices in US cents; null: not offered at that interval. */
interface PlanPrices {
  month: number | null;
  year: number | null;
}

export interface CommunityLimits {
  /** Members who follow a provider (the "members" of the plan table). */
  members: number;
  providers: number;
  signalsPerDay: number;
}

interface CommunityPlan {
  id: CommunityPlanId;
  name: string;
  prices: PlanPrices;
  limits: CommunityLimits;
  /** Days of trial on a subject's first subscription (0: none). */
  trialDays: number;
}

export interface TraderFeatures {
  liveTrading: boolean;
  /** null: unlimited. */
  maxLiveConnections: number | null;
  analytics: boolean;
  priorityExecution: boolean;
}

interface TraderPlan {
  id: TraderPlanId;
  name: string;
  prices: PlanPrices;
  features: TraderFeatures;
  /** Days of trial on a subject's first subscription (0: none). */
  trialDays: number;
}

export interface PlanCatalog {
  community: Record<CommunityPlanId, CommunityPlan>;
  trader: Record<TraderPlanId, TraderPlan>;
}

export const DEFAULT_PLAN_CATALOG: PlanCatalog = {
  community: {
    free: {
      id: "free",
      name: "Free",
      prices: { month: 0, year: 0 },
      limits: { members: 10, providers: 2, signalsPerDay: 50 },
      trialDays: 0,
    },
    professional: {
      id: "professional",
      name: "Professional",
      prices: { month: 9_900, year: 99_000 },
      limits: { members: 100, providers: 10, signalsPerDay: 1_000 },
      trialDays: 14,
    },
    enterprise: {
      id: "enterprise",
      name: "Enterprise",
      prices: { month: 29_900, year: 299_000 },
      limits: { members: 1_000, providers: 50, signalsPerDay: 10_000 },
      trialDays: 14,
    },
  },
  trader: {
    free: {
      id: "free",
      name: "Free",
      prices: { month: 0, year: 0 },
      features: { liveTrading: false, maxLiveConnections: 0, analytics: false, priorityExecution: false },
      trialDays: 0,
    },
    basic: {
      id: "basic",
      name: "Basic",
      prices: { month: 4_900, year: null },
      features: { liveTrading: true, maxLiveConnections: 1, analytics: false, priorityExecution: false },
      trialDays: 7,
    },
    pro: {
      id: "pro",
      name: "Pro",
      prices: { month: 9_900, year: null },
      features: { liveTrading: true, maxLiveConnections: 3, analytics: true, priorityExecution: false },
      trialDays: 7,
    },
    premium: {
      id: "premium",
      name: "Premium",
      prices: { month: 29_900, year: null },
      features: { liveTrading: true, maxLiveConnections: null, analytics: true, priorityExecution: true },
      // The original billing spec's trial for the top trader plan.
      trialDays: 14,
    },
  },
};

const cents = z.number().int().nonnegative();
const prices = z.object({ month: cents.nullable(), year: cents.nullable() }).partial().strict();
const count = z.number().int().nonnegative();
const trialDays = z.number().int().min(0).max(90);

const communityPlanOverride = z
  .object({
    name: z.string().min(1).max(40),
    prices,
    limits: z.object({ members: count, providers: count, signalsPerDay: count }).partial().strict(),
    trialDays,
  })
  .partial()
  .strict();

const traderPlanOverride = z
  .object({
    name: z.string().min(1).max(40),
    prices,
    features: z
      .object({
        liveTrading: z.boolean(),
        maxLiveConnections: count.nullable(),
        analytics: z.boolean(),
        priorityExecution: z.boolean(),
      })
      .partial()
      .strict(),
    trialDays,
  })
  .partial()
  .strict();

/**
 * BILLING_PLAN_OVERRIDES: `{"community":{"professional":{"limits":{"members":150}}},"trader":{"pro":{"trialDays":14}}}`.
 * The top-level `trialDays: {community, trader}` sets the trial of every paid plan of a table; a plan's own
 * `trialDays` wins over it.
 */
export const PlanOverridesSchema = z
  .object({
    community: z
      .object({ free: communityPlanOverride, professional: communityPlanOverride, enterprise: communityPlanOverride })
      .partial()
      .strict(),
    trader: z
      .object({
        free: traderPlanOverride,
        basic: traderPlanOverride,
        pro: traderPlanOverride,
        premium: traderPlanOverride,
      })
      .partial()
      .strict(),
    trialDays: z
      .object({ community: z.number().int().min(0).max(90), trader: z.number().int().min(0).max(90) })
      .partial()
      .strict(),
  })
  .partial()
  .strict();
export type PlanOverrides = z.infer<typeof PlanOverridesSchema>;

/** The default catalog with the operator's overrides applied. Free plans always cost nothing. */
export function buildPlanCatalog(overrides: PlanOverrides = {}): PlanCatalog {
  const trialOf = (subject: BillingSubjectKind, id: string, base: number, own: number | undefined) =>
    id === FREE_PLAN ? 0 : (own ?? overrides.trialDays?.[subject] ?? base);
  const community = { ...DEFAULT_PLAN_CATALOG.community };
  for (const id of COMMUNITY_PLAN_IDS) {
    const base = community[id];
    const change = overrides.community?.[id] ?? {};
    community[id] = {
      ...base,
      name: change.name ?? base.name,
      prices: { ...base.prices, ...change.prices },
      limits: { ...base.limits, ...change.limits },
      trialDays: trialOf("community", id, base.trialDays, change.trialDays),
    };
  }
  const trader = { ...DEFAULT_PLAN_CATALOG.trader };
  for (const id of TRADER_PLAN_IDS) {
    const base = trader[id];
    const change = overrides.trader?.[id] ?? {};
    trader[id] = {
      ...base,
      name: change.name ?? base.name,
      prices: { ...base.prices, ...change.prices },
      features: { ...base.features, ...change.features },
      trialDays: trialOf("trader", id, base.trialDays, change.trialDays),
    };
  }
  community.free = { ...community.free, prices: { month: 0, year: 0 } };
  trader.free = { ...trader.free, prices: { month: 0, year: 0 } };
  return { community, trader };
}

export function planIdsOf(subject: BillingSubjectKind): readonly string[] {
  return subject === "community" ? COMMUNITY_PLAN_IDS : TRADER_PLAN_IDS;
}

export function isCommunityPlan(plan: string): plan is CommunityPlanId {
  return (COMMUNITY_PLAN_IDS as readonly string[]).includes(plan);
}

export function isTraderPlan(plan: string): plan is TraderPlanId {
  return (TRADER_PLAN_IDS as readonly string[]).includes(plan);
}

/** The plan's position in its table (free = 0); unknown plans rank as free. */
export function planRank(subject: BillingSubjectKind, plan: string | null | undefined): number {
  return Math.max(0, planIdsOf(subject).indexOf(plan ?? FREE_PLAN));
}

/** A known plan id for the subject, or free. */
export function normalizePlan(subject: BillingSubjectKind, plan: string | null | undefined): string {
  return plan && planIdsOf(subject).includes(plan) ? plan : FREE_PLAN;
}

export function planName(catalog: PlanCatalog, subject: BillingSubjectKind, plan: string): string {
  return subject === "community"
    ? catalog.community[isCommunityPlan(plan) ? plan : "free"].name
    : catalog.trader[isTraderPlan(plan) ? plan : "free"].name;
}

/** The trial a first subscription to this plan gets, in days (0: none). */
export function trialDaysOf(catalog: PlanCatalog, subject: BillingSubjectKind, plan: string): number {
  if (subject === "community") return isCommunityPlan(plan) ? catalog.community[plan].trialDays : 0;
  return isTraderPlan(plan) ? catalog.trader[plan].trialDays : 0;
}

export function priceOf(
  catalog: PlanCatalog,
  subject: BillingSubjectKind,
  plan: string,
  interval: BillingInterval,
): number | null {
  if (subject === "community") return isCommunityPlan(plan) ? catalog.community[plan].prices[interval] : null;
  return isTraderPlan(plan) ? catalog.trader[plan].prices[interval] : null;
}

/** The next plan up, or null at the top. */
export function nextPlanUp(subject: BillingSubjectKind, plan: string): string | null {
  const ids = planIdsOf(subject);
  return ids[planRank(subject, plan) + 1] ?? null;
}

/** "$99.00/month". */
export function formatPrice(centsAmount: number, interval?: BillingInterval, currency = "usd"): string {
  const amount = (centsAmount / 100).toFixed(2);
  const text = currency.toLowerCase() === "usd" ? `$${amount}` : `${amount} ${currency.toUpperCase()}`;
  return interval ? `${text}/${interval}` : text;
}

/**
 * Provider price (Stripe) or product (Polar) ids by plan and interval, keyed
 * "<subject>.<plan>.<interval>", e.g. `{"community.professional.month":"price_123"}`.
 */
const PRICE_KEY = /^(community\.(professional|enterprise)|trader\.(basic|pro|premium))\.(month|year)$/;
export const ProviderPriceIdsSchema = z.record(
  z.string().regex(PRICE_KEY, "keys look like community.professional.month or trader.basic.month"),
  z.string().min(1).max(255),
);
export type ProviderPriceIds = z.infer<typeof ProviderPriceIdsSchema>;

export function priceKey(subject: BillingSubjectKind, plan: string, interval: BillingInterval): string {
  return `${subject}.${plan}.${interval}`;
}

export interface PricedPlan {
  subject: BillingSubjectKind;
  plan: string;
  interval: BillingInterval;
}

/** Which plan a provider price/product id sells, or null when it is not one of ours. */
export function planForPriceId(priceIds: ProviderPriceIds, id: string | null | undefined): PricedPlan | null {
  if (!id) return null;
  for (const [key, value] of Object.entries(priceIds)) {
    if (value !== id) continue;
    const [subject, plan, interval] = key.split(".") as [BillingSubjectKind, string, BillingInterval];
    return { subject, plan, interval };
  }
  return null;
}
