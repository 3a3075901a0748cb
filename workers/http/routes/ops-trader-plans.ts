import { createRoute, z } from "@hono/zod-openapi";
import { billingContext } from "../../../platform/billing/context";
import { database } from "../../../platform/db/client";
import { userIdByDiscordId, userIdForDiscordId } from "../../../platform/db/users";
import { GRANTABLE_TRADER_PLANS, grantEndOf, MAX_GRANT_MS } from "../../../shared/billing/complimentary";
import { NotFoundError } from "../../../shared/errors";
import { endTraderPlanGrant, grantTraderPlan, traderPlanGrantView } from "../../billing/trader-plan-grants";
import { operatorActor } from "../community-scope";
import type { App, AppContext } from "../context";
import { operatorOnly, recordOperatorReason } from "../middleware/ops-auth";
import { DiscordUserParams, errorResponse, jsonResponse as json, TraderPlanGrantSchema } from "../schemas";

/**
 * Operators' complimentary trader plans (`/api/v1/ops/trader-plans/:discordUserId`): PUT grants or replaces one,
 * DELETE ends it. The trader keeps the higher of what they pay for and the grant until `until`; the reason is
 * written to the operator action log before anything changes.
 */

const MAX_GRANT_DAYS = MAX_GRANT_MS / 86_400_000;

const GrantUntil = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })])
  .refine((until) => grantEndOf(until) > Date.now(), "until must be in the future")
  .refine(
    (until) => grantEndOf(until) <= Date.now() + MAX_GRANT_MS,
    `until must be at most ${MAX_GRANT_DAYS} days away`,
  )
  .openapi({
    description: `A date (the grant covers that whole UTC day) or a timestamp with an offset; in the future, at most ${MAX_GRANT_DAYS} days away`,
    example: "2027-01-31",
  });

const TraderPlanGrantRequest = z
  .object({
    plan: z.enum(GRANTABLE_TRADER_PLANS).openapi({ description: "A paid trader plan (free is never granted)" }),
    until: GrantUntil,
    reason: z.string().trim().min(1, "A reason is required").max(500).openapi({ description: "Why (audited)" }),
  })
  .strict()
  .openapi("TraderPlanGrantRequest");

const EndTraderPlanGrantRequest = z
  .object({
    reason: z.string().trim().min(1).max(500).optional().openapi({ description: "Why it ends early (audited)" }),
  })
  .strict()
  .openapi("EndTraderPlanGrantRequest");

const GrantResponse = TraderPlanGrantSchema.extend({ discordUserId: z.string() }).openapi("TraderPlanGrantAnswer");

const unauthorized = errorResponse("Missing or wrong operator token");
const path = "/api/v1/ops/trader-plans/{discordUserId}";

const grantRoute = createRoute({
  ...operatorOnly,
  method: "put",
  operationId: "grantTraderPlan",
  path,
  tags: ["operations"],
  summary: "Give a trader a complimentary plan until a date (replaces their grant; audited; the trader is told)",
  request: {
    params: DiscordUserParams,
    body: { required: true, content: { "application/json": { schema: TraderPlanGrantRequest } } },
  },
  responses: {
    200: json(GrantResponse, "The grant as stored"),
    400: errorResponse(
      `Not a Discord user id, or a bad body: free or unknown plan, until not in the next ${MAX_GRANT_DAYS} days, no reason`,
    ),
    401: unauthorized,
    415: errorResponse("Body is not JSON"),
  },
});

const endRoute = createRoute({
  ...operatorOnly,
  method: "delete",
  operationId: "endTraderPlanGrant",
  path,
  tags: ["operations"],
  summary: "End a trader's complimentary plan now (audited; the trader is told)",
  request: {
    params: DiscordUserParams,
    body: { required: false, content: { "application/json": { schema: EndTraderPlanGrantRequest } } },
  },
  responses: {
    200: json(GrantResponse, "The grant that ended"),
    400: errorResponse("Not a Discord user id, or a bad body"),
    401: unauthorized,
    404: errorResponse("No such user (USER_NOT_FOUND), or no complimentary plan running (PLAN_GRANT_NOT_FOUND)"),
  },
});

async function userOf(c: AppContext, discordUserId: string): Promise<string> {
  const userId = await userIdByDiscordId(database(c.env.DB), discordUserId);
  if (!userId) throw new NotFoundError(`No user with Discord id ${discordUserId} is known.`, "USER_NOT_FOUND");
  return userId;
}

export function registerOpsTraderPlans(app: App): void {
  app.openapi(grantRoute, async (c) => {
    const { discordUserId } = c.req.valid("param");
    const body = c.req.valid("json");
    // A trader who has not used the product yet gets the grant too: it waits for their first command or sign-in.
    const userId = await userIdForDiscordId(database(c.env.DB), discordUserId);
    await recordOperatorReason(c, body.reason);
    const row = await grantTraderPlan(billingContext(c.env, c.get("config"), c.get("logger")), {
      userId,
      plan: body.plan,
      until: grantEndOf(body.until),
      reason: body.reason,
      grantedBy: operatorActor(c),
    });
    return c.json({ ...traderPlanGrantView(row), discordUserId }, 200);
  });

  app.openapi(endRoute, async (c) => {
    const { discordUserId } = c.req.valid("param");
    const reason = c.req.valid("json")?.reason;
    const userId = await userOf(c, discordUserId);
    if (reason) await recordOperatorReason(c, reason);
    const row = await endTraderPlanGrant(billingContext(c.env, c.get("config"), c.get("logger")), userId);
    return c.json({ ...traderPlanGrantView(row), discordUserId }, 200);
  });
}
