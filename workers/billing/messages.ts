import { z } from "zod";
import { BILLING_PROVIDERS } from "../../shared/db/schema";

/**
 * Messages on BILLING_QUEUE. They carry references, not payloads: the event
 * itself waits in `webhook_events` (the outbox), so the webhook route and the
 * cron that drains the outbox send the same small message.
 */
export const BillingQueueMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("billing.event"),
    provider: z.enum(BILLING_PROVIDERS),
    eventId: z.string().min(1).max(255),
  }),
  /** Time-based work for one subscription (reminders, period ends, grace ends), fanned out by the cron. */
  z.object({
    type: z.literal("billing.lifecycle"),
    subscriptionId: z.string().min(1),
    /** The cron's scheduled time: the state is judged as of this moment or later. */
    asOf: z.number().int().optional(),
  }),
]);
export type BillingQueueMessage = z.infer<typeof BillingQueueMessageSchema>;

export function eventMessage(provider: (typeof BILLING_PROVIDERS)[number], eventId: string): BillingQueueMessage {
  return { type: "billing.event", provider, eventId };
}
