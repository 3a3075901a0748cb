import { createRoute, z } from "@hono/zod-openapi";
import { realtimeHubFor } from "../../../platform/objects";
import { ServiceUnavailableError } from "../../../shared/errors";
import { communityFromRoute, operatorActor } from "../community-scope";
import type { App } from "../context";
import { operatorOnly } from "../middleware/ops-auth";
import { CommunityParams, errorResponse } from "../schemas";

/** The largest notice an operator may send (its `data` as JSON), well inside the hub's 16 KiB event limit. */
export const MAX_NOTICE_BYTES = 8 * 1024;

const NoticeBody = z
  .object({
    audience: z
      .enum(["community", "admins"])
      .default("community")
      .openapi({ description: "Every member (`community`) or the owners and admins (`admins`)" }),
    data: z
      .record(z.string(), z.unknown())
      .refine((data) => new TextEncoder().encode(JSON.stringify(data)).byteLength <= MAX_NOTICE_BYTES, {
        message: `data is limited to ${MAX_NOTICE_BYTES} bytes of JSON`,
      })
      .openapi({ example: { title: "Maintenance", text: "Brokers reconnect at 22:00 UTC" } }),
  })
  .strict()
  .openapi("OperatorNotice");

const route = createRoute({
  ...operatorOnly,
  method: "post",
  path: "/api/v1/ops/communities/{communityId}/notices",
  tags: ["operations"],
  summary: "Send a notice to a community's live dashboards (its realtime notifications channel)",
  request: {
    params: CommunityParams,
    body: { required: true, content: { "application/json": { schema: NoticeBody } } },
  },
  responses: {
    202: {
      description: "Published: `seq` is the notice's sequence number in the community's hub",
      content: { "application/json": { schema: z.object({ seq: z.number().int() }) } },
    },
    400: errorResponse("The body is not a notice"),
    401: errorResponse("Missing or invalid operator token"),
    404: errorResponse("No such community (COMMUNITY_NOT_FOUND)"),
    415: errorResponse("Body is not JSON"),
    503: errorResponse("The community's hub did not answer (REALTIME_UNAVAILABLE)"),
  },
});

/**
 * Operator notices: a `notification` event on the community's hub, for every
 * member or for its admins (never one member: members' own notices come from
 * their trading). The operator-token middleware also records the call in the
 * operator action log.
 */
export function registerOpsNotices(app: App): void {
  app.openapi(route, async (c) => {
    const { communityId } = c.req.valid("param");
    const { audience, data } = c.req.valid("json");
    await communityFromRoute(c, communityId);
    let seq: number;
    try {
      ({ lastSeq: seq } = await realtimeHubFor(c.env, communityId).publish({
        communityId,
        type: "notification",
        audience,
        data: { ...data, from: operatorActor(c) },
        at: Date.now(),
      }));
    } catch (error) {
      throw new ServiceUnavailableError("The community's realtime hub did not answer.", "REALTIME_UNAVAILABLE", {
        cause: error,
        retryAfterSeconds: 1,
      });
    }
    return c.json({ seq }, 202);
  });
}
