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
