import { type BillingInterval, type BillingSubjectKind, priceKey } from "../../shared/billing/plans";
import { PolarBillingProvider } from "../../shared/billing/polar";
import type { BillingProvider } from "../../shared/billing/provider";
import { StripeBillingProvider } from "../../shared/billing/stripe";
import type { AppConfig } from "../../shared/config";
import type { BillingProviderName } from "../../shared/db/schema";
import { ServiceUnavailableError } from "../../shared/errors";

/**
 * The provider factory. `api` calls need the provider's API secret, `webhook`
 * verification its webhook secret; a missing one answers 503 (the provider
 * retries a webhook later, so nothing is lost while an operator fixes it).
 */
export type ProviderPurpose = "api" | "webhook";

const REQUIRED: Record<BillingProviderName, Record<ProviderPurpose, keyof AppConfig>> = {
  stripe: { api: "STRIPE_SECRET_KEY", webhook: "STRIPE_WEBHOOK_SECRET" },
  polar: { api: "POLAR_ACCESS_TOKEN", webhook: "POLAR_WEBHOOK_SECRET" },
};

export function billingProvider(
  config: AppConfig,
  name: BillingProviderName,
  purpose: ProviderPurpose,
): BillingProvider {
  const variable = REQUIRED[name][purpose];
  if (!config[variable]) {
    throw new ServiceUnavailableError(
      `${name === "stripe" ? "Stripe" : "Polar"} billing is not configured (${variable}).`,
      "FEATURE_NOT_CONFIGURED",
    );
  }
  return name === "stripe"
    ? new StripeBillingProvider({
        secretKey: config.STRIPE_SECRET_KEY,
        webhookSecret: config.STRIPE_WEBHOOK_SECRET,
        apiBase: config.STRIPE_API_BASE,
        priceIds: config.STRIPE_PRICE_IDS ?? {},
      })
    : new PolarBillingProvider({
        accessToken: config.POLAR_ACCESS_TOKEN,
        webhookSecret: config.POLAR_WEBHOOK_SECRET,
        apiBase: config.POLAR_API_BASE,
        productIds: config.POLAR_PRODUCT_IDS ?? {},
      });
}

/**
 * Whether a checkout of this plan can start: the checkout provider's API secret and its price (Stripe) or product
 * (Polar) for the plan and interval are configured. Nothing offers a checkout that would only answer an error.
 */
export function canSell(
  config: AppConfig,
  subject: BillingSubjectKind,
  plan: string,
  interval: BillingInterval,
): boolean {
  const name = config.BILLING_PROVIDER;
  if (!config[REQUIRED[name].api]) return false;
  const prices = name === "stripe" ? config.STRIPE_PRICE_IDS : config.POLAR_PRODUCT_IDS;
  return Boolean(prices?.[priceKey(subject, plan, interval)]);
}
