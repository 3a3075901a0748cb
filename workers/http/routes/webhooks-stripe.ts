import { createRoute } from "@hono/zod-openapi";
import { billingContext } from "../../../platform/billing/context";
import { receiveWebhook } from "../../billing/intake";
import type { App } from "../context";
import { billingWebhookLimit, WebhookReceiptSchema, webhookErrors } from "./webhooks-polar";

const route = createRoute({
  method: "post",
  path: "/webhooks/stripe",
  tags: ["webhooks"],
  summary: "Stripe billing events, verified with the Stripe-Signature header (5-minute tolerance)",
  responses: {
    200: {
      description: "Recorded (and queued); a replayed event id is a no-op",
      content: { "application/json": { schema: WebhookReceiptSchema } },
    },
    ...webhookErrors,
  },
});

/** POST /webhooks/stripe: verified on the raw body before anything parses it, recorded once, queued. */
export function registerStripeWebhook(app: App): void {
  app.use("/webhooks/stripe", billingWebhookLimit);
  app.openapi(route, async (c) => {
    const rawBody = await c.req.text();
    const ctx = billingContext(c.env, c.get("config"), c.get("logger"));
    const receipt = await receiveWebhook(ctx, "stripe", { rawBody, headers: c.req.raw.headers });
    return c.json(receipt, 200);
  });
}
