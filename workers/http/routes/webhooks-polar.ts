import { createRoute, z } from "@hono/zod-openapi";
import { billingContext } from "../../../platform/billing/context";
import { receiveWebhook } from "../../billing/intake";
import type { App } from "../context";
import { rateLimit } from "../middleware/rate-limit";
import { errorResponse } from "../schemas";

/** Generous: providers burst on retries and renewals, and each IP is a provider's sender. */
export const billingWebhookLimit = rateLimit({ name: "billing-webhooks", keyBy: "ip", limit: 600, periodMs: 60_000 });

export const WebhookReceiptSchema = z
  .object({
    received: z.literal(true),
    eventId: z.string(),
    duplicate: z.boolean(),
    queued: z.boolean(),
  })
  .openapi("WebhookReceipt");

export const webhookErrors = {
  400: errorResponse("Malformed JSON after a valid signature (INVALID_JSON)"),
  401: errorResponse("Missing or wrong signature, or a timestamp outside 5 minutes"),
  413: errorResponse("Body over 512 KiB"),
  422: errorResponse("A known event type whose payload has an unexpected shape"),
  429: errorResponse("Rate limited"),
  503: errorResponse("The provider's webhook secret is not configured"),
};

const route = createRoute({
  method: "post",
  path: "/webhooks/polar",
  tags: ["webhooks"],
  summary: "Polar billing events, verified per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)",
  responses: {
    200: {
      description: "Recorded (and queued); a replayed event id is a no-op",
      content: { "application/json": { schema: WebhookReceiptSchema } },
    },
    ...webhookErrors,
  },
});

/** POST /webhooks/polar: verified on the raw body before anything parses it, recorded once, queued. */
export function registerPolarWebhook(app: App): void {
  app.use("/webhooks/polar", billingWebhookLimit);
  app.openapi(route, async (c) => {
    const rawBody = await c.req.text();
    const ctx = billingContext(c.env, c.get("config"), c.get("logger"));
    const receipt = await receiveWebhook(ctx, "polar", { rawBody, headers: c.req.raw.headers });
    return c.json(receipt, 200);
  });
}
