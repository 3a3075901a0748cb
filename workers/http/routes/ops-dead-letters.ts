import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, isNotNull, isNull, lt } from "drizzle-orm";
import { database } from "../../../platform/db/client";
import { deadLetters } from "../../../shared/db/schema";
import { ConflictError, NotFoundError, ServiceUnavailableError } from "../../../shared/errors";
import { notReplayableReason, redactSecrets } from "../../queues/dead-letters";
import { producerFor } from "../../queues/producers";
import type { App } from "../context";
import { operatorOnly } from "../middleware/ops-auth";
import { errorResponse } from "../schemas";

const DeadLetterSchema = z
  .object({
    id: z.string(),
    queue: z.string(),
    messageId: z.string(),
    communityId: z.string().nullable(),
    body: z.unknown(),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    createdAt: z.number().int(),
    replayedAt: z.number().int().nullable(),
    replayCount: z.number().int(),
  })
  .openapi("DeadLetter");

const listRoute = createRoute({
  ...operatorOnly,
  method: "get",
  path: "/api/v1/ops/dead-letters",
  tags: ["operations"],
  summary: "List dead-lettered messages, newest first",
  request: {
    query: z.object({
      queue: z.enum(["order-submissions", "notifications", "billing-events"]).optional(),
      replayed: z.enum(["true", "false"]).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      before: z.coerce.number().int().positive().optional().openapi({ description: "createdAt cursor" }),
    }),
  },
  responses: {
    200: {
      description: "Dead letters",
      content: {
        "application/json": {
          schema: z.object({ deadLetters: z.array(DeadLetterSchema), nextBefore: z.number().int().nullable() }),
        },
      },
    },
    400: errorResponse("Invalid query"),
    401: errorResponse("Missing or wrong operator token"),
  },
});

const replayRoute = createRoute({
  ...operatorOnly,
  method: "post",
  path: "/api/v1/ops/dead-letters/{id}/replay",
  tags: ["operations"],
  summary: "Send a dead letter back to its queue (consumers are idempotent by the key in the message)",
  request: {
    params: z.object({ id: z.string().min(1).max(64) }),
    query: z.object({ force: z.enum(["1", "true"]).optional() }),
  },
  responses: {
    202: {
      description: "Re-enqueued",
      content: { "application/json": { schema: z.object({ deadLetter: DeadLetterSchema }) } },
    },
    401: errorResponse("Missing or wrong operator token"),
    404: errorResponse("No such dead letter"),
    409: errorResponse("Already replayed (pass force=1 to replay again), or not replayable (NOT_REPLAYABLE)"),
  },
});

export function registerOpsDeadLetters(app: App): void {
  app.openapi(listRoute, async (c) => {
    const { queue, replayed, limit, before } = c.req.valid("query");
    const db = database(c.env.DB);
    const rows = await db
      .select()
      .from(deadLetters)
      .where(
        and(
          queue ? eq(deadLetters.queue, queue) : undefined,
          replayed === "true" ? isNotNull(deadLetters.replayedAt) : undefined,
          replayed === "false" ? isNull(deadLetters.replayedAt) : undefined,
          before ? lt(deadLetters.createdAt, before) : undefined,
        ),
      )
      .orderBy(desc(deadLetters.createdAt), desc(deadLetters.id))
      .limit(limit);
    const nextBefore = rows.length === limit ? (rows.at(-1)?.createdAt ?? null) : null;
    // Bodies are redacted when stored; redacting again covers letters stored before that rule.
    return c.json({ deadLetters: rows.map((row) => ({ ...row, body: redactSecrets(row.body) })), nextBefore }, 200);
  });

  app.openapi(replayRoute, async (c) => {
    const { id } = c.req.valid("param");
    const force = c.req.valid("query").force !== undefined;
    const db = database(c.env.DB);
    const row = await db.select().from(deadLetters).where(eq(deadLetters.id, id)).get();
    if (!row) throw new NotFoundError(`No dead letter ${id}.`, "DEAD_LETTER_NOT_FOUND");
    const producer = producerFor(c.env, row.queue);
    if (!producer) throw new ConflictError(`Queue ${row.queue} cannot be replayed.`, "QUEUE_NOT_REPLAYABLE");
    const notReplayable = notReplayableReason(row.queue, row.body);
    if (notReplayable) throw new ConflictError(notReplayable, "NOT_REPLAYABLE");

    // Claim the replay first, so two operators clicking at once send it once.
    const now = Date.now();
    const claim = await db
      .update(deadLetters)
      .set({ replayedAt: now, replayCount: row.replayCount + 1 })
      .where(
        and(
          eq(deadLetters.id, id),
          eq(deadLetters.replayCount, row.replayCount),
          force ? undefined : isNull(deadLetters.replayedAt),
        ),
      );
    if (claim.meta.changes === 0) {
      throw new ConflictError(
        "This dead letter was already replayed; pass force=1 to replay it again.",
        "ALREADY_REPLAYED",
      );
    }
    try {
      await producer.send(row.body);
    } catch (error) {
      await db
        .update(deadLetters)
        .set({ replayedAt: row.replayedAt, replayCount: row.replayCount })
        .where(eq(deadLetters.id, id));
      throw new ServiceUnavailableError(
        `Could not enqueue to ${row.queue}; nothing was replayed.`,
        "QUEUE_UNAVAILABLE",
        {
          cause: error,
        },
      );
    }
    c.get("logger").warn("ops.dead_letter_replayed", { deadLetterId: id, queue: row.queue, force });
    return c.json(
      { deadLetter: { ...row, body: redactSecrets(row.body), replayedAt: now, replayCount: row.replayCount + 1 } },
      202,
    );
  });
}
