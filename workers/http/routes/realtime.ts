import { createRoute, z } from "@hono/zod-openapi";
import { realtimeHubFor } from "../../../platform/objects";
import { AppError, ERROR_CODES, ServiceUnavailableError } from "../../../shared/errors";
import { HANDOFF_HEADER, operatorIdentity, type RealtimeIdentity, signHandoff } from "../../../shared/realtime/handoff";
import { COMMUNITY_ACCESS_RESPONSES, communityAction, principalOf } from "../community-access";
import type { App, AppContext } from "../context";
import { CommunityParams, errorResponse } from "../schemas";

const route = createRoute({
  method: "get",
  path: "/api/v1/communities/{communityId}/realtime",
  tags: ["realtime"],
  summary: "Open a WebSocket to the community's live events (orders, portfolio, signals, notifications)",
  description:
    "Needs the session cookie and membership of the community, or an operator token (`Authorization: Bearer`, " +
    "which sees what admins see). The first frame is a `welcome`; `?since=<seq>` replays the buffered events " +
    "after that sequence number the connection may see.",
  ...communityAction("community.view"),
  request: {
    params: CommunityParams,
    query: z.object({
      since: z
        .string()
        .regex(/^\d{1,15}$/, "since is the sequence number of the last event the client processed")
        .optional()
        .openapi({ example: "1042" }),
    }),
  },
  responses: {
    101: { description: "Switching protocols: the WebSocket is open" },
    ...COMMUNITY_ACCESS_RESPONSES,
    400: errorResponse("since is not a sequence number"),
    426: errorResponse("Not a WebSocket upgrade (UPGRADE_REQUIRED)"),
    429: errorResponse(
      "Over 30 connection attempts a minute (RATE_LIMITED, with Retry-After), or 10 open connections (TOO_MANY_CONNECTIONS)",
    ),
    503: errorResponse("Realtime is unavailable (REALTIME_UNAVAILABLE, REALTIME_FULL)"),
  },
});

/**
 * The WebSocket upgrade into a community's RealtimeHub. The Worker checks the
 * session and the membership (a non-member gets the same 404 as a missing
 * community, so communities cannot be probed), then forwards the upgrade to
 * the hub with a signed identity. The hub accepts the socket on the
 * hibernation API; Hono's upgrade helper would keep the object awake.
 */
export function registerRealtime(app: App): void {
  app.openapi(route, async (c) => {
    const { communityId } = c.req.valid("param");
    const { since } = c.req.valid("query");
    const secret = c.get("config").SESSION_SECRET;
    if (!secret) {
      throw new ServiceUnavailableError("Realtime needs SESSION_SECRET.", "FEATURE_NOT_CONFIGURED");
    }
    const identity = identityFor(c, communityId);
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new AppError(426, "UPGRADE_REQUIRED", "This endpoint only accepts WebSocket upgrades.", {
        headers: { upgrade: "websocket" },
      });
    }

    const handoff = await signHandoff(secret, identity);
    const target = new URL("https://realtime-hub/connect");
    if (since !== undefined) target.searchParams.set("since", since);
    let answer: Response;
    try {
      answer = await realtimeHubFor(c.env, communityId).fetch(target.toString(), {
        headers: { upgrade: "websocket", [HANDOFF_HEADER]: handoff },
      });
    } catch (error) {
      throw new ServiceUnavailableError("Realtime is unavailable; reconnect shortly.", "REALTIME_UNAVAILABLE", {
        cause: error,
        retryAfterSeconds: 1,
      });
    }
    if (answer.status === 101 && answer.webSocket) {
      c.get("logger").info("realtime.connected", { role: identity.role, since: since ?? null });
      return new Response(null, { status: 101, webSocket: answer.webSocket });
    }
    throw await hubRefusal(c, answer);
  });
}

/**
 * Who is connecting: an operator (any existing community), or a member in their
 * stored role; `communityAction` already refused a stranger with the same 404 as
 * for a community that does not exist.
 */
function identityFor(c: AppContext, communityId: string): RealtimeIdentity {
  const principal = principalOf(c);
  if (principal.kind === "operator") return operatorIdentity(communityId, principal.fingerprint);
  const session = c.get("session");
  if (!session) throw new Error("A member's principal comes with a session.");
  return {
    communityId,
    userId: principal.userId,
    role: principal.role,
    credential: { kind: "session", sessionId: session.sessionId },
  };
}

/** The hub's `{"error":{code,message}}` refusal as the app's error (with this request's id). */
async function hubRefusal(c: AppContext, answer: Response): Promise<AppError> {
  const body = (await answer.json().catch(() => null)) as { error?: { code?: unknown; message?: unknown } } | null;
  const code = ERROR_CODES.find((known) => known === body?.error?.code) ?? null;
  const message = typeof body?.error?.message === "string" ? body.error.message : null;
  if (!code || !message || answer.status < 400) {
    c.get("logger").error("realtime.hub_answer_unexpected", { status: answer.status });
    return new ServiceUnavailableError("Realtime is unavailable; reconnect shortly.", "REALTIME_UNAVAILABLE", {
      retryAfterSeconds: 1,
    });
  }
  const retryAfter = answer.headers.get("retry-after");
  return new AppError(answer.status, code, message, retryAfter ? { headers: { "retry-after": retryAfter } } : {});
}
