import { createRoute, z } from "@hono/zod-openapi";
import { billingContext } from "../../../platform/billing/context";
import type { BillingProviderName } from "../../../shared/db/schema";
import { receiveWebhook } from "../../billing/intake";
import type { App, AppContext } from "../context";
import { rateLimit } from "../middleware/rate-limit";
import { errorResponse, jsonResponse } from "../schemas";

/**
 * POST /webhooks/stripe and /webhooks/polar: each verified on the raw body before anything parses it (the
 * signature is the credential), recorded once, queued.
 */

/** Generous: providers burst on retries and renewals, and each IP is a provider's sender. */
const billingWebhookLimit = rateLimit({ name: "billing-webhooks", keyBy: "ip", limit: 600, periodMs: 60_000 });

const WebhookReceiptSchema = z
  .object({
    received: z.literal(true),
    eventId: z.string(),
    duplicate: z.boolean(),
    queued: z.boolean(),
  })
  .openapi("WebhookReceipt");

const webhookResponses = {
  200: jsonResponse(WebhookReceiptSchema, "Recorded (and queued); a replayed event id is a no-op"),
  400: errorResponse("Malformed JSON after a valid signature (INVALID_JSON)"),
  401: errorResponse("Missing or wrong signature, or a timestamp outside 5 minutes"),
  413: errorResponse("Body over 512 KiB"),
  422: errorResponse("A known event type whose payload has an unexpected shape"),
  429: errorResponse("Rate limited"),
  503: errorResponse("The provider's webhook secret is not configured"),
};

const stripeRoute = createRoute({
  middleware: [billingWebhookLimit],
  method: "post",
  path: "/webhooks/stripe",
  tags: ["webhooks"],
  summary: "Stripe billing events, verified with the Stripe-Signature header (5-minute tolerance)",
  responses: webhookResponses,
});

const polarRoute = createRoute({
  middleware: [billingWebhookLimit],
  method: "post",
  path: "/webhooks/polar",
  tags: ["webhooks"],
  summary: "Polar billing events, verified per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)",
  responses: webhookResponses,
});

export function registerBillingWebhooks(app: App): void {
  app.openapi(stripeRoute, (c) => receive(c, "stripe"));
  app.openapi(polarRoute, (c) => receive(c, "polar"));
}

async function receive(c: AppContext, provider: BillingProviderName) {
  const rawBody = await c.req.text();
  const ctx = billingContext(c.env, c.get("config"), c.get("logger"));
  const receipt = await receiveWebhook(ctx, provider, { rawBody, headers: c.req.raw.headers });
  return c.json(receipt, 200);
}
