import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../../platform/db/client";
import { communitiesOfMember } from "../../../platform/db/cross-community/member-communities";
import { type MemberNoticeRow, memberNoticeStore, parseNoticeCursor } from "../../../platform/db/member-notices";
import { NotFoundError, ValidationError } from "../../../shared/errors";
import { NOTICE_DELIVERY_STATUSES, NOTICE_KINDS } from "../../../shared/notifications/kinds";
import { requireSession, signedInUserId } from "../../auth/session";
import type { App } from "../context";
import { errorResponse, jsonResponse } from "../schemas";

/**
 * The signed-in member's inbox: every notice the platform sent them by DM, stored whether or not the DM arrived
 * (`GET /api/v1/me/notifications`), and marking notices read (`POST /api/v1/me/notifications/read`). A member sees
 * only their own notices, and only those of communities they still belong to (or of none: a trader's plan).
 */

const NoticeSchema = z
  .object({
    id: z.string(),
    communityId: z.string().nullable(),
    kind: z.enum(NOTICE_KINDS),
    title: z.string(),
    body: z.string(),
    createdAt: z.number().int(),
    readAt: z.number().int().nullable(),
    delivery: z.object({
      status: z.enum(NOTICE_DELIVERY_STATUSES).openapi({
        description: "The DM's fate: pending, sent, failed (e.g. Discord 50007: DMs closed), muted (kind's DMs off)",
      }),
      lastError: z.string().nullable(),
    }),
  })
  .openapi("MemberNotice");

const NoticePageSchema = z
  .object({
    notices: z.array(NoticeSchema),
    nextCursor: z.string().nullable().openapi({ description: "Pass as `cursor` for older notices; null at the end" }),
    unread: z.number().int().openapi({ description: "Unread notices (of `community_id` when given)" }),
  })
  .openapi("MemberNoticePage");

const ListQuery = z.object({
  community_id: z.string().min(1).max(128).optional().openapi({ description: "Only this community's notices" }),
  unread: z.enum(["true", "false"]).optional().openapi({ description: "true: unread notices only" }),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(100).optional(),
});

const MarkReadBody = z
  .union([
    z.strictObject({ ids: z.array(z.string().min(1).max(64)).min(1).max(500) }),
    z.strictObject({ all: z.literal(true) }),
  ])
  .openapi("MarkNoticesRead", { description: '`{"ids":[...]}` or `{"all":true}`' });

const listNotifications = createRoute({
  middleware: [requireSession] as const,
  method: "get",
  path: "/api/v1/me/notifications",
  tags: ["app"],
  summary: "Your notices, newest first, with the unread count (DMs that could not be delivered included)",
  security: [{ sessionCookie: [] }],
  request: { query: ListQuery },
  responses: {
    200: jsonResponse(NoticePageSchema, "A page of notices"),
    400: errorResponse("Malformed query or cursor (VALIDATION_FAILED)"),
    401: errorResponse("No session, or an expired, revoked or forged one"),
    404: errorResponse("community_id names no community of yours (COMMUNITY_NOT_FOUND)"),
  },
});

const markRead = createRoute({
  middleware: [requireSession] as const,
  method: "post",
  path: "/api/v1/me/notifications/read",
  tags: ["app"],
  summary: "Mark notices read: these ids, or all of yours",
  security: [{ sessionCookie: [] }],
  request: { body: { required: true, content: { "application/json": { schema: MarkReadBody } } } },
  responses: {
    200: jsonResponse(z.object({ marked: z.number().int(), unread: z.number().int() }), "How many were marked"),
    400: errorResponse("Malformed body (VALIDATION_FAILED)"),
    401: errorResponse("No session, or an expired, revoked or forged one"),
    403: errorResponse("A cross-site request (CSRF_REJECTED)"),
  },
});

export function registerMyNotifications(app: App): void {
  app.openapi(listNotifications, async (c) => {
    const userId = signedInUserId(c);
    const query = c.req.valid("query");
    const cursor = query.cursor === undefined ? undefined : parseNoticeCursor(query.cursor);
    if (cursor === null) throw new ValidationError("The cursor is not one this API handed out.");
    const db = database(c.env.DB);
    if (query.community_id !== undefined && !(await communitiesOfMember(db, userId)).includes(query.community_id)) {
      throw new NotFoundError("No such community among yours.", "COMMUNITY_NOT_FOUND");
    }
    const page = await memberNoticeStore(db).list(userId, {
      ...(query.community_id !== undefined ? { communityId: query.community_id } : {}),
      unreadOnly: query.unread === "true",
      limit: query.limit,
      ...(cursor ? { cursor } : {}),
    });
    return c.json({ ...page, notices: page.notices.map(noticeBody) }, 200);
  });

  app.openapi(markRead, async (c) => {
    const userId = signedInUserId(c);
    const body = c.req.valid("json");
    const store = memberNoticeStore(database(c.env.DB));
    const marked = await store.markRead(userId, "all" in body ? "all" : body.ids);
    const { unread } = await store.list(userId, { limit: 1, unreadOnly: true });
    return c.json({ marked, unread }, 200);
  });
}

function noticeBody(row: MemberNoticeRow) {
  return {
    id: row.id,
    communityId: row.communityId,
    kind: row.kind,
    title: row.title,
    body: row.body,
    createdAt: row.createdAt,
    readAt: row.readAt,
    delivery: { status: row.deliveryStatus, lastError: row.lastError },
  };
}
