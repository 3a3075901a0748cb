import { z } from "@hono/zod-openapi";

/** The error body every route shares (design.md §4). */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "VALIDATION_FAILED" }),
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.record(z.string(), z.unknown())).optional(),
    }),
  })
  .openapi("ErrorBody");

export const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorBodySchema } },
});

/** A community's audit chain verification (the audit endpoint and the consistency check). */
export const AuditVerificationSchema = z
  .object({
    ok: z.boolean(),
    count: z.number().int().openapi({ description: "Rows verified before the first break (all rows when ok)" }),
    headHash: z.string().optional(),
    brokenAt: z
      .object({
        seq: z.number().int(),
        reason: z.enum(["hash_mismatch", "prev_hash_mismatch", "seq_gap", "head_mismatch"]),
      })
      .optional(),
  })
  .openapi("AuditVerification");
