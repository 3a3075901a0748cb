import { z } from "zod";

/**
 * What the executor's `previewTrade` answers for a member's /trade before Confirm: the order the risk engine would
 * place on the member's account (nothing reserved, stored or sent), or the refusal in words. Checked at the door
 * where the Discord worker reads it.
 */
export const TradePreviewSchema = z.discriminatedUnion("status", [
  z.object({
    status: z.literal("would_place"),
    /** The entry's quantity in whole lots, as it would be placed now. */
    quantity: z.number().positive(),
    /** "buy 10 × AAPL limit $190.50". */
    order: z.string(),
    /** The exits that go with it, each as `order`. */
    exits: z.array(z.string()),
    /** The risk engine's sentences: reductions to fit a limit, defaults used, the sizing in words. */
    explanation: z.array(z.string()),
  }),
  z.object({ status: z.literal("refused"), code: z.string(), message: z.string() }),
]);
export type TradePreview = z.infer<typeof TradePreviewSchema>;
