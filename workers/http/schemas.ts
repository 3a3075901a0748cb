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
