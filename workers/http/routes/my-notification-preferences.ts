import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../../platform/db/client";
import { memberNoticeStore } from "../../../platform/db/member-notices";
import {
  MUTABLE_NOTICE_KINDS,
  NOTICE_KIND_TABLE,
  NOTICE_KINDS,
  type NoticeKind,
  sendsDirectMessage,
} from "../../../shared/notifications/kinds";
import { requireSession, signedInUserId } from "../../auth/session";
import type { App, AppContext } from "../context";
import { errorResponse, jsonResponse } from "../schemas";

/**
 * Which notices reach the signed-in member by DM, per kind (`GET`/`PUT /api/v1/me/notification-preferences`; in
 * Discord, `/risk notify kind: dm:`). Every notice is stored in the inbox whatever is chosen; security and
 * membership notices always go by DM too, so they cannot be turned off.
 */

const PreferenceSchema = z
  .object({
    kind: z.enum(NOTICE_KINDS),
    description: z.string(),
    dm: z.boolean(),
    mutable: z.boolean().openapi({ description: "false: always sent by DM (security, membership)" }),
  })
  .openapi("NotificationPreference");

const PreferencesSchema = z.object({ preferences: z.array(PreferenceSchema) }).openapi("NotificationPreferences");

const PutBody = z
  .strictObject({
    preferences: z
      .array(z.strictObject({ kind: z.enum(MUTABLE_NOTICE_KINDS as [NoticeKind, ...NoticeKind[]]), dm: z.boolean() }))
      .min(1)
      .max(NOTICE_KINDS.length),
  })
  .openapi("NotificationPreferencesUpdate", {
    description: "DM on or off per kind; security and membership cannot be turned off (400)",
  });

const getPreferences = createRoute({
  middleware: [requireSession] as const,
  method: "get",
  path: "/api/v1/me/notification-preferences",
  tags: ["app"],
  summary: "Which notice kinds reach you by DM (every notice is in your inbox either way)",
  security: [{ sessionCookie: [] }],
  responses: {
    200: jsonResponse(PreferencesSchema, "One entry per notice kind"),
    401: errorResponse("No session, or an expired, revoked or forged one"),
  },
});

const putPreferences = createRoute({
  middleware: [requireSession] as const,
  method: "put",
  path: "/api/v1/me/notification-preferences",
  tags: ["app"],
  summary: "Turn DMs of notice kinds on or off",
  security: [{ sessionCookie: [] }],
  request: { body: { required: true, content: { "application/json": { schema: PutBody } } } },
  responses: {
    200: jsonResponse(PreferencesSchema, "The preferences now"),
    400: errorResponse("Malformed body, or a kind that cannot be muted (VALIDATION_FAILED)"),
    401: errorResponse("No session, or an expired, revoked or forged one"),
    403: errorResponse("A cross-site request (CSRF_REJECTED)"),
  },
});

export function registerMyNotificationPreferences(app: App): void {
  app.openapi(getPreferences, async (c) => c.json(await preferencesOf(c, signedInUserId(c)), 200));

  app.openapi(putPreferences, async (c) => {
    const userId = signedInUserId(c);
    await memberNoticeStore(database(c.env.DB)).setPreferences(userId, c.req.valid("json").preferences);
    return c.json(await preferencesOf(c, userId), 200);
  });
}

async function preferencesOf(c: AppContext, userId: string) {
  const stored = await memberNoticeStore(database(c.env.DB)).preferences(userId);
  return {
    preferences: NOTICE_KINDS.map((kind) => ({
      kind,
      description: NOTICE_KIND_TABLE[kind].description,
      dm: sendsDirectMessage(kind, stored.get(kind)),
      mutable: NOTICE_KIND_TABLE[kind].mutable,
    })),
  };
}
