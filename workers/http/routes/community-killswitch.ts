import { createRoute, z } from "@hono/zod-openapi";
import { saveKillSwitch, tellExecutor } from "../../../platform/execution/kill-switch";
import { ServiceUnavailableError } from "../../../shared/errors";
import { actorOf, COMMUNITY_ACCESS_RESPONSES, communityAction } from "../community-access";
import { communityFromRoute } from "../community-scope";
import type { App } from "../context";
import { CommunityParams, errorResponse, jsonResponse } from "../schemas";

const KillSwitchBody = z
  .object({
    halted: z.boolean().openapi({ description: "true halts all trading in the community; false resumes it" }),
    reason: z.string().trim().min(1).max(500).optional().openapi({ description: "Why (kept in the audit log)" }),
  })
  .strict()
  .openapi("KillSwitchRequest");

const KillSwitchSchema = z
  .object({
    halted: z.boolean(),
    reason: z.string().nullable(),
    changed: z.boolean().openapi({ description: "false when the switch already stood so" }),
    executorNotified: z.boolean().openapi({
      description:
        "false when the executor could not be told at once: the saved switch still holds, it is read before every fan-out step and every order sent",
    }),
    canceledOrders: z.number().int().nullable().openapi({ description: "Orders not yet sent that a halt canceled" }),
  })
  .openapi("KillSwitch");

const route = createRoute({
  ...communityAction("killswitch.set"),
  method: "put",
  operationId: "setKillSwitch",
  path: "/api/v1/communities/{communityId}/killswitch",
  tags: ["communities"],
  summary: "Halt or resume all trading in the community (audited), as /killswitch does",
  request: {
    params: CommunityParams,
    body: { required: true, content: { "application/json": { schema: KillSwitchBody } } },
  },
  responses: {
    200: jsonResponse(KillSwitchSchema, "The switch as saved"),
    ...COMMUNITY_ACCESS_RESPONSES,
    400: errorResponse("A malformed body (VALIDATION_FAILED)"),
    415: errorResponse("Body is not JSON"),
    503: errorResponse("The switch could not be saved, so nothing changed (SERVICE_UNAVAILABLE)"),
  },
});

/**
 * The kill switch over the API: saved in D1 first (the switch itself, which the executor reads before every step),
 * then the executor is told so fan-outs under way stop and unsent orders are canceled at once.
 */
export function registerCommunityKillSwitch(app: App): void {
  app.openapi(route, async (c) => {
    const { communityId } = c.req.valid("param");
    const { halted, reason } = c.req.valid("json");
    const tenant = await communityFromRoute(c, communityId);
    const change = { halted, reason: reason ?? null, actorId: actorOf(c) };
    const saved = await saveKillSwitch(tenant, change);
    if (!saved.ok) {
      c.get("logger").error("killswitch.not_saved", { alert: halted, halted, error: saved.error });
      throw new ServiceUnavailableError(
        halted
          ? "The halt could not be saved, so trading is NOT halted; try again."
          : "The resume could not be saved, so trading is still halted; try again.",
        "SERVICE_UNAVAILABLE",
        { retryAfterSeconds: 1 },
      );
    }
    const executor = await tellExecutor(c.env, { communityId, ...change });
    if (!executor.ok) {
      c.get("logger").error("killswitch.executor_unreachable", { alert: halted, halted, reason: executor.reason });
    }
    const community = await tenant.community.get();
    return c.json(
      {
        halted: community?.halted ?? halted,
        reason: community?.haltedReason ?? null,
        changed: saved.changed,
        executorNotified: executor.ok,
        canceledOrders: executor.ok ? executor.canceledOrders : null,
      },
      200,
    );
  });
}
