import type { BillingContext } from "../../platform/billing/context";
import type { SubjectRef } from "../../shared/billing/events";
import { type BillingInterval, FREE_PLAN, planIdsOf, planName, priceOf, trialDaysOf } from "../../shared/billing/plans";
import type { ReturnUrls } from "../../shared/billing/provider";
import { isLive } from "../../shared/billing/subscription-state";
import type { BillingProviderName } from "../../shared/db/schema";
import { ConflictError, NotFoundError, ServiceUnavailableError, ValidationError } from "../../shared/errors";
import { billingProvider } from "./providers";

/**
 * Starting a checkout and opening the billing portal, for a community (paid by
 * its host) or a trader. New checkouts use BILLING_PROVIDER; the portal opens
 * at the provider that holds the subject's subscription, whichever that is.
 */

export interface CheckoutResult {
  url: string;
  provider: BillingProviderName;
  plan: string;
  planName: string;
  interval: BillingInterval;
  trialDays: number | null;
}

export async function startCheckout(
  ctx: BillingContext,
  request: {
    subject: SubjectRef;
    plan: string;
    interval: BillingInterval;
    returnUrls?: ReturnUrls;
    email?: string | null;
  },
): Promise<CheckoutResult> {
  const { subject, plan, interval } = request;
  if (!planIdsOf(subject.subject).includes(plan) || plan === FREE_PLAN) {
    throw new ValidationError(`"${plan}" is not a paid ${subject.subject} plan.`, { code: "PLAN_NOT_AVAILABLE" });
  }
  if (priceOf(ctx.catalog, subject.subject, plan, interval) === null) {
    throw new ValidationError(`The ${plan} plan is not sold per ${interval}.`, { code: "PLAN_NOT_AVAILABLE" });
  }
  await assertSubjectExists(ctx, subject);
  const existing = await ctx.dir.subscriptions.forSubject(subject);
  // A subscription set to end with its period may be replaced (how a subscriber moves to a new provider).
  if (existing.some((row) => isLive(row) && !row.cancelAtPeriodEnd)) {
    throw new ConflictError(
      "There is already a subscription; change plans or cancel in the billing portal (`/subscription`).",
      "SUBSCRIPTION_EXISTS",
    );
  }
  const providerName = ctx.config.BILLING_PROVIDER;
  const provider = billingProvider(ctx.config, providerName, "api");
  const customer = (await ctx.dir.customers.forSubject(subject)).find((row) => row.provider === providerName);
  const trialDays = existing.length === 0 ? trialDaysOf(ctx.catalog, subject.subject, plan) || null : null;
  const session = await provider.createCheckout(
    {
      subject,
      providerCustomerId: customer?.providerCustomerId ?? null,
      email: request.email ?? customer?.email ?? null,
    },
    plan,
    interval,
    request.returnUrls ?? defaultReturnUrls(ctx),
    { trialDays },
  );
  ctx.logger.info("billing.checkout_started", {
    provider: providerName,
    subject: subject.subject,
    communityId: subject.communityId ?? undefined,
    userId: subject.userId ?? undefined,
    plan,
    interval,
    trialDays,
  });
  return {
    url: session.url,
    provider: providerName,
    plan,
    planName: planName(ctx.catalog, subject.subject, plan),
    interval,
    trialDays,
  };
}

export async function openPortal(
  ctx: BillingContext,
  request: { subject: SubjectRef; returnUrl?: string },
): Promise<{ url: string; provider: BillingProviderName }> {
  const [customers, rows] = await Promise.all([
    ctx.dir.customers.forSubject(request.subject),
    ctx.dir.subscriptions.forSubject(request.subject),
  ]);
  // The customer of the running subscription, else of the newest one, else the newest customer.
  const owner = rows.find((row) => isLive(row)) ?? rows[0];
  const customer = (owner && customers.find((row) => row.id === owner.customerId)) ?? customers[0];
  if (!customer) {
    throw new NotFoundError("There is no billing account yet: start with a checkout.", "NO_BILLING_ACCOUNT");
  }
  const provider = billingProvider(ctx.config, customer.provider, "api");
  const session = await provider.createPortalSession(
    customer.providerCustomerId,
    request.returnUrl ?? defaultReturnUrls(ctx).portalUrl,
  );
  return { url: session.url, provider: customer.provider };
}

function defaultReturnUrls(ctx: BillingContext): ReturnUrls & { portalUrl: string } {
  const base = ctx.config.PUBLIC_BASE_URL?.replace(/\/+$/, "");
  if (!base) {
    throw new ServiceUnavailableError("Billing return pages need PUBLIC_BASE_URL.", "FEATURE_NOT_CONFIGURED");
  }
  return {
    successUrl: `${base}/billing/return?status=success`,
    cancelUrl: `${base}/billing/return?status=canceled`,
    portalUrl: `${base}/billing/return?status=done`,
  };
}

async function assertSubjectExists(ctx: BillingContext, subject: SubjectRef): Promise<void> {
  if (subject.subject === "community") {
    if (!subject.communityId || !(await ctx.dir.people.community(subject.communityId))) {
      throw new NotFoundError(`Community ${subject.communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
    }
  } else if (!subject.userId || !(await ctx.dir.people.userExists(subject.userId))) {
    throw new NotFoundError(`User ${subject.userId} does not exist.`, "USER_NOT_FOUND");
  }
}
