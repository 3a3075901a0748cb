import { z } from "zod";

/** A message on ORDER_QUEUE: one order to send. The order's own row is the truth; the message only points at it. */
export const OrderSubmissionSchema = z.object({
  communityId: z.string().min(1),
  orderId: z.string().min(1),
  clientOrderId: z.string().regex(/^[A-Za-z0-9]{1,20}$/),
});
export type OrderSubmission = z.infer<typeof OrderSubmissionSchema>;

/** Queue sendBatch accepts at most 100 messages per call. */
export const MAX_SEND_BATCH = 100;
