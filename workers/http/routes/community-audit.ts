import { createRoute, z } from "@hono/zod-openapi";
import { communityFromRoute } from "../community-scope";
import type { App } from "../context";
import { requireOpsToken } from "../middleware/ops-auth";
import { errorResponse } from "../schemas";

const MAX_LIMIT = 500;

const AuditEntrySchema = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    event: z.string().openapi({ example: "community.role_changed" }),
    actorId: z.string().nullable(),
    target: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    createdAt: z.number().int().openapi({ description: "Unix epoch milliseconds" }),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi("AuditEntry");

const VerificationSchema = z
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

const AuditPageSchema = z
  .object({
    entries: z.array(AuditEntrySchema),
    nextAfterSeq: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Pass as after_seq for the next page; null at the end" }),
    verification: VerificationSchema.optional(),
  })
  .openapi("AuditPage");

const route = createRoute({
  method: "get",
  path: "/api/v1/communities/{communityId}/audit",
  tags: ["operations"],
  summary: "A community's audit log, optionally with a verification of its hash chain",
  security: [{ opsToken: [] }],
  request: {
    params: z.object({ communityId: z.string().min(1).max(128) }),
    query: z.object({
      verify: z.enum(["1", "true", "0", "false"]).optional().openapi({ description: "1 or true: verify the chain" }),
      limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(100),
      after_seq: z.coerce.number().int().min(0).optional(),
    }),
  },
  responses: {
    200: {
      description: "A page of entries, in seq order",
      content: { "application/json": { schema: AuditPageSchema } },
    },
    400: errorResponse("A query parameter is invalid"),
    401: errorResponse("Missing or invalid operator token"),
    404: errorResponse("No such community (COMMUNITY_NOT_FOUND)"),
  },
});

export function registerCommunityAudit(app: App): void {
  app.use("/api/v1/communities/:communityId/audit", requireOpsToken);
  app.openapi(route, async (c) => {
    const { communityId } = c.req.valid("param");
    const { verify, limit, after_seq: afterSeq } = c.req.valid("query");
    const tenant = await communityFromRoute(c, communityId);
    const entries = await tenant.audit.list({ limit, afterSeq });
    const last = entries.at(-1);
    const verification = verify === "1" || verify === "true" ? await tenant.audit.verify() : undefined;
    return c.json(
      {
        entries,
        nextAfterSeq: last && entries.length === limit ? last.seq : null,
        ...(verification ? { verification } : {}),
      },
      200,
    );
  });
}
