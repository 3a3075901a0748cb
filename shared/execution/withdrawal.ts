import { z } from "zod";

/**
 * A provider takes a signal back (an edit of its message within 30 s of
 * posting, before any order of it reached a broker): the executor cancels
 * every order of it still queued, takes it out of the provider's position
 * and the day's count, and marks it `withdrawn`. Refused, and nothing
 * changes, once any order of it was sent.
 */
export const WithdrawSignalInputSchema = z.object({
  communityId: z.string().min(1),
  signalId: z.string().min(1),
  /** Why, in words (kept as the signal's status reason). */
  reason: z.string().min(1).max(500),
});
export type WithdrawSignalInput = z.infer<typeof WithdrawSignalInputSchema>;

export type WithdrawalRefusal =
  /** An order of the signal was sent to a broker (or is being sent): the signal stands. */
  | "ORDERS_SENT"
  /** A later signal of the same provider on the same instrument builds on it (an add, an exit). */
  | "SUPERSEDED"
  /** Its fan-out is still under way: try again in a moment. */
  | "STILL_EXECUTING"
  | "UNKNOWN_SIGNAL";

export type WithdrawalOutcome =
  | { ok: true; canceledOrders: number; alreadyWithdrawn: boolean }
  | { ok: false; code: WithdrawalRefusal; message: string; retryable: boolean };
