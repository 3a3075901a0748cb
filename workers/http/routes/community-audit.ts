import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../../platform/db/client";
import { auditUserIds } from "../../../platform/db/users";
import type { ChainVerification } from "../../../shared/audit/chain";
import { AUDIT_CSV_HEADER, auditCsvRow } from "../../../shared/audit/export";
import { type AuditSearch, MAX_EVENT_FILTERS, parseEventFilter } from "../../../shared/audit/search";
import { COMMUNITY_ACCESS_RESPONSES, communityAction } from "../community-access";
import { communityFromRoute } from "../community-scope";
import type { App } from "../context";
import { csvAttachmentHeaders, csvStream, fileNamePart, MAX_CSV_ROWS, truncatedDownloadHeaders } from "../csv-download";
import { dateRangeOf, InstantQuery, invalidQuery } from "../date-range";
import { AuditVerificationSchema, CommunityParams, CsvDownloadHeaders, errorResponse } from "../schemas";

const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 100;

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

const AuditPageSchema = z
  .object({
    entries: z.array(AuditEntrySchema),
    nextAfterSeq: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Pass as after_seq for the next page; null at the end" }),
    verification: AuditVerificationSchema.optional(),
  })
  .openapi("AuditPage");

const UserFilter = z
  .string()
  .regex(/^[A-Za-z0-9_:-]{1,128}$/, "A user id (internal or Discord), or `operator`")
  .openapi({ example: "100000000000000042" });

const AuditQuerySchema = z.object({
  verify: z.enum(["1", "true", "0", "false"]).optional().openapi({ description: "1 or true: verify the chain" }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_CSV_ROWS)
    .optional()
    .openapi({ description: `Page size, 1–${MAX_LIMIT} (default 100); with format=csv, a cap on the rows exported` }),
  after_seq: z.coerce.number().int().min(0).optional(),
  actor_id: UserFilter.optional().openapi({ description: "Who did it: an internal or Discord user id, or `operator`" }),
  subject_id: UserFilter.optional().openapi({ description: "The user it was done to (the entry's target)" }),
  event: z
    .string()
    .max(1000)
    .optional()
    .openapi({ description: "Comma-separated event names or `domain.*`", example: "community.role_changed,flags.*" }),
  from: InstantQuery.optional().openapi({ description: "Entries created at or after this instant" }),
  to: InstantQuery.optional().openapi({ description: "Entries created before this instant" }),
  format: z.enum(["json", "csv"]).default("json").openapi({ description: "csv: every matching entry as CSV" }),
});

const route = createRoute({
  ...communityAction("audit.view"),
  method: "get",
  path: "/api/v1/communities/{communityId}/audit",
  tags: ["operations"],
  summary: "A community's audit log: search, CSV export, and a verification of its hash chain",
  request: {
    params: CommunityParams,
    query: AuditQuerySchema,
  },
  responses: {
    200: {
      description: "A page of matching entries in seq order, or (format=csv) every matching entry as CSV",
      headers: CsvDownloadHeaders,
      content: {
        "application/json": { schema: AuditPageSchema },
        "text/csv": { schema: z.string().openapi({ example: AUDIT_CSV_HEADER }) },
      },
    },
    ...COMMUNITY_ACCESS_RESPONSES,
    400: errorResponse("A query parameter is invalid"),
  },
});

type AuditQuery = z.infer<typeof AuditQuerySchema>;

export function registerCommunityAudit(app: App): void {
  app.openapi(route, async (c) => {
    const { communityId } = c.req.valid("param");
    const query = c.req.valid("query");
    const search = searchOf(query);
    if (query.format === "json" && (query.limit ?? 0) > MAX_LIMIT) {
      throw invalidQuery("limit", `Too big: a page holds at most ${MAX_LIMIT} entries.`);
    }
    const tenant = await communityFromRoute(c, communityId);
    const db = database(c.env.DB);
    const resolved: AuditSearch = {
      ...search,
      actorIds: query.actor_id ? await auditUserIds(db, query.actor_id) : undefined,
      subjectIds: query.subject_id ? await auditUserIds(db, query.subject_id) : undefined,
    };
    const verify = query.verify === "1" || query.verify === "true";
    const afterSeq = query.after_seq ?? 0;

    if (query.format === "csv") {
      const verification = verify ? await tenant.audit.verify() : undefined;
      const headers = csvAttachmentHeaders(`audit-${fileNamePart(communityId)}.csv`);
      if (verification) headers["x-audit-verification"] = verificationHeader(verification);
      const cap = query.limit ?? MAX_CSV_ROWS;
      const cutoff = await tenant.audit.cutoff(cap, afterSeq, resolved);
      if (cutoff !== null) Object.assign(headers, truncatedDownloadHeaders(c.req.url, "after_seq", String(cutoff)));
      const rows = csvStream(AUDIT_CSV_HEADER, afterSeq, cap, async (cursor, limit) => {
        const page = await tenant.audit.list({ limit, afterSeq: cursor ?? afterSeq, search: resolved });
        // A short page is the last one.
        const next = page.length < limit ? null : (page.at(-1)?.seq ?? null);
        return { text: page.map(auditCsvRow).join(""), rows: page.length, next };
      });
      return c.body(rows, 200, headers);
    }

    const limit = query.limit ?? DEFAULT_LIMIT;
    const entries = await tenant.audit.list({ limit, afterSeq, search: resolved });
    const last = entries.at(-1);
    const verification = verify ? await tenant.audit.verify() : undefined;
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

/** The query's event and date filters (the user filters need a lookup); a 400 names what is wrong. */
function searchOf(query: AuditQuery): AuditSearch {
  const search: AuditSearch = {};
  if (query.event !== undefined) {
    const events = parseEventFilter(query.event);
    if (!events) {
      throw invalidQuery(
        "event",
        `Up to ${MAX_EVENT_FILTERS} comma-separated names like community.role_changed or flags.*.`,
      );
    }
    Object.assign(search, events);
  }
  return { ...search, ...dateRangeOf(query) };
}

function verificationHeader(verification: ChainVerification): string {
  return verification.ok
    ? `ok; count=${verification.count}`
    : `broken; seq=${verification.brokenAt.seq}; reason=${verification.brokenAt.reason}`;
}
