import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../../platform/db/client";
import { communityDirectory } from "../../../platform/db/cross-community/community-directory";
import { executorFor } from "../../../platform/objects";
import { NotFoundError } from "../../../shared/errors";
import type { App } from "../context";
import { operatorOnly } from "../middleware/ops-auth";
import { AuditVerificationSchema, errorResponse } from "../schemas";

const MAX_LIMIT = 100;
/** Communities checked at once: each is one executor call. */
const PARALLEL_COMMUNITIES = 10;

const CommunityConsistencySchema = z
  .object({
    communityId: z.string(),
    ok: z.boolean(),
    error: z.string().optional().openapi({ description: "Set when the community's executor could not be asked" }),
    killSwitch: z
      .object({ executor: z.boolean(), d1: z.boolean(), agree: z.boolean() })
      .optional()
      .openapi({ description: "The halted flag in the executor's storage and in D1" }),
    openOrders: z
      .object({
        d1: z.number().int(),
        executor: z.number().int(),
        onlyInD1: z.array(z.string()).openapi({ description: "Client order ids open in D1 only (at most 50)" }),
        onlyInExecutor: z.array(z.string()).openapi({ description: "Open at the paper broker only (at most 50)" }),
        liveNotCompared: z.number().int().openapi({ description: "Open live-broker orders, not compared" }),
      })
      .optional(),
    auditChain: AuditVerificationSchema.optional(),
  })
  .openapi("CommunityConsistency");

const route = createRoute({
  ...operatorOnly,
  method: "get",
  path: "/api/v1/ops/consistency",
  tags: ["operations"],
  summary: "Whether each community's executor agrees with D1 (kill switch, open orders) and its audit chain verifies",
  request: {
    query: z.object({
      community_id: z.string().min(1).max(128).optional().openapi({ description: "Check this community only" }),
      limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(MAX_LIMIT),
      after: z.string().max(128).optional().openapi({ description: "The previous page's nextAfter" }),
    }),
  },
  responses: {
    200: {
      description: "One entry per community of the page; `ok` only when every one agrees",
      content: {
        "application/json": {
          schema: z
            .object({
              ok: z.boolean(),
              checked: z.number().int(),
              communities: z.array(CommunityConsistencySchema),
              nextAfter: z.string().nullable().openapi({ description: "Pass as after for the next page" }),
            })
            .openapi("ConsistencyReport"),
        },
      },
    },
    400: errorResponse("A query parameter is invalid"),
    401: errorResponse("Missing or invalid operator token"),
    404: errorResponse("community_id names no community (COMMUNITY_NOT_FOUND)"),
  },
});

type CommunityConsistency = z.infer<typeof CommunityConsistencySchema>;

export function registerOpsConsistency(app: App): void {
  app.openapi(route, async (c) => {
    const { community_id: only, limit, after } = c.req.valid("query");
    const directory = communityDirectory(database(c.env.DB));
    if (only && !(await directory.findById(only))) {
      throw new NotFoundError(`Community ${only} does not exist.`, "COMMUNITY_NOT_FOUND");
    }
    const ids = only ? [only] : await directory.idsAfter(after ?? "", limit);
    const communities: CommunityConsistency[] = [];
    for (let i = 0; i < ids.length; i += PARALLEL_COMMUNITIES) {
      const batch = ids.slice(i, i + PARALLEL_COMMUNITIES);
      communities.push(
        ...(await Promise.all(
          batch.map(async (communityId): Promise<CommunityConsistency> => {
            try {
              const executor = executorFor(c.env, communityId);
              return { communityId, ...(await executor.checkConsistency({ communityId })) };
            } catch (error) {
              c.get("logger").error("ops.consistency_check_failed", { communityId, error });
              return { communityId, ok: false, error: error instanceof Error ? error.message : String(error) };
            }
          }),
        )),
      );
    }
    const problems = communities.filter((community) => !community.ok);
    if (problems.length > 0) {
      c.get("logger").error("ops.inconsistent", { alert: true, communityIds: problems.map((p) => p.communityId) });
    }
    return c.json(
      {
        ok: problems.length === 0,
        checked: communities.length,
        communities,
        nextAfter: !only && ids.length === limit ? (ids.at(-1) ?? null) : null,
      },
      200,
    );
  });
}
