import type { AppConfig } from "../config";
import { type BillingInterval, type BillingSubjectKind, priceKey } from "./plans";

/**
 * Whether a checkout of this plan can start: the checkout provider's API secret and its price (Stripe) or product
 * (Polar) for the plan and interval are configured. Nothing offers a checkout that would only answer an error.
 */
export function canSell(
  config: Pick<
    AppConfig,
    "BILLING_PROVIDER" | "STRIPE_SECRET_KEY" | "STRIPE_PRICE_IDS" | "POLAR_ACCESS_TOKEN" | "POLAR_PRODUCT_IDS"
  >,
  subject: BillingSubjectKind,
  plan: string,
  interval: BillingInterval,
): boolean {
  const stripe = config.BILLING_PROVIDER === "stripe";
  const apiKey = stripe ? config.STRIPE_SECRET_KEY : config.POLAR_ACCESS_TOKEN;
  const prices = stripe ? config.STRIPE_PRICE_IDS : config.POLAR_PRODUCT_IDS;
  return Boolean(apiKey && prices?.[priceKey(subject, plan, interval)]);
}
