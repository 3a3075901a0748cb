import { z } from "zod";

/**
 * What the community's executor answered to a signal or a trade, checked at
 * the boundary: whatever it answers, or fails with, becomes a value a reply
 * can show; a failure is never reported as success.
 */

const SummarySchema = z.looseObject({
  status: z.enum(["accepted", "expired", "refused", "duplicate"]),
  message: z.string(),
  code: z.string().optional(),
  quantity: z.number().positive().optional(),
  followers: z.number().int().default(0),
  ordersQueued: z.number().int().default(0),
  ordersAwaitingConfirmation: z.number().int().optional(),
  ordersReduced: z.number().int().default(0),
  skipped: z.record(z.string(), z.number()).default({}),
  combinedWith: z.string().optional(),
  stoppedByHalt: z.boolean().optional(),
  notReached: z.number().int().optional(),
});
export type ExecutorSummary = z.infer<typeof SummarySchema>;

export type HandoffOutcome = { ok: true; summary: ExecutorSummary } | { ok: false; reason: string };

/** The reason as a clause (no trailing period), ready to be embedded in a reply. */
export function clause(text: string): string {
  return text.trim().replace(/[.\s]+$/, "");
}

export function executorFailure(error: unknown): Extract<HandoffOutcome, { ok: false }> {
  const message = clause(error instanceof Error ? error.message : String(error));
  return { ok: false, reason: message || "the executor failed without a message" };
}

export function executorAnswer(answer: unknown): HandoffOutcome {
  const parsed = SummarySchema.safeParse(answer);
  return parsed.success
    ? { ok: true, summary: parsed.data }
    : { ok: false, reason: "the executor answered without a status and message" };
}
