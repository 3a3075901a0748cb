import { createMiddleware } from "hono/factory";
import { database } from "../../../platform/db/client";
import { operatorActionLog } from "../../../platform/db/operator-actions";
import { rateLimiterFor } from "../../../platform/objects";
import { matchingSecret, secretFingerprint } from "../../../shared/crypto/constant-time";
import { RateLimitedError, ServiceUnavailableError, UnauthorizedError } from "../../../shared/errors";
import { assertValidPolicy, type RateLimitPolicy } from "../../../shared/rate-limit";
import { clientSubject } from "../client-ip";
import type { AppContext, AppEnv } from "../context";

/** Failed operator authentications allowed per client address: 10 per 15 minutes (one more every 90 s). */
const OPS_AUTH_FAILURE_POLICY: RateLimitPolicy = { limit: 10, periodMs: 15 * 60_000 };
assertValidPolicy(OPS_AUTH_FAILURE_POLICY);

const MUTATING_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The OpenAPI security scheme of the operator routes (registered with the document in routes/openapi.ts). */
export const OPS_TOKEN_SCHEME = "opsToken";

/**
 * Operator endpoints: `Authorization: Bearer <token>`, where the token is any
 * of those listed in OPS_TOKEN (several during a rotation), each compared in
 * constant time. Failures (a missing or wrong token) are throttled per client
 * address; once the budget is spent every attempt from that address answers
 * 429, the right token included. Mutations are recorded in the operator action
 * log, with the token's fingerprint, before they run (their status once answered,
 * off the response path).
 */
export const requireOpsToken = createMiddleware<AppEnv>(async (c, next) => {
  const tokens = c.get("config").OPS_TOKEN;
  if (!tokens) {
    throw new ServiceUnavailableError("Operator access is not configured (OPS_TOKEN).", "FEATURE_NOT_CONFIGURED");
  }
  const presented = bearerToken(c.req.header("authorization"));
  const matched = presented === null ? null : await matchingSecret(presented, tokens);

  const verdict = await failureBudget(c, matched !== null);
  if (!verdict.allowed) {
    c.get("logger").warn("ops.auth_throttled", { retryAfterMs: verdict.retryAfterMs });
    throw new RateLimitedError(
      verdict.retryAfterMs,
      "Too many failed operator authentications from this address. Try again later.",
    );
  }
  if (presented === null) throw new UnauthorizedError("An operator bearer token is required.");
  if (matched === null) throw new UnauthorizedError("The operator token is not valid.", "INVALID_TOKEN");

  const fingerprint = await secretFingerprint(matched);
  c.set("operator", { fingerprint });
  if (!MUTATING_METHODS.has(c.req.method)) return next();
  await recordMutation(c, fingerprint, next);
});

/**
 * How a route says it is for operators, where it is declared: `createRoute({ ...operatorOnly, method, path, … })`.
 * The token is checked before anything validates the request, and the OpenAPI document names the scheme.
 * tests/integration/route-access.test.ts fails for any /api/v1 route that answers without it and is not listed
 * there as public.
 */
export const operatorOnly = { security: [{ [OPS_TOKEN_SCHEME]: [] }], middleware: [requireOpsToken] };

function pathAndQuery(url: string): string {
  const { pathname, search } = new URL(url);
  return pathname + search;
}

function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  const token = match?.[1]?.trim();
  return token ? token : null;
}

async function failureBudget(c: AppContext, succeeded: boolean) {
  const key = `ops-auth:ip:${clientSubject(c)}`;
  try {
    return await rateLimiterFor(c.env, key).attempt(key, OPS_AUTH_FAILURE_POLICY, succeeded);
  } catch (error) {
    c.get("logger").error("rate_limiter.unavailable", { limiter: "ops-auth", error });
    throw new ServiceUnavailableError(
      "Operator access is unavailable; try again shortly.",
      "RATE_LIMITER_UNAVAILABLE",
      {
        retryAfterSeconds: 1,
      },
    );
  }
}

/** No record, no mutation: the call is logged before it runs, and its status once it has answered. */
async function recordMutation(c: AppContext, fingerprint: string, next: () => Promise<void>) {
  const log = operatorActionLog(database(c.env.DB));
  let actionId: string;
  try {
    actionId = await log.begin({
      tokenFingerprint: fingerprint,
      method: c.req.method,
      path: pathAndQuery(c.req.url),
      communityId: c.req.param("communityId") ?? null,
      requestId: c.get("requestId"),
      at: Date.now(),
    });
  } catch (error) {
    throw new ServiceUnavailableError(
      "The operator action could not be recorded, so it was not run.",
      "AUDIT_UNAVAILABLE",
      { cause: error },
    );
  }
  c.set("operator", { fingerprint, actionId });
  c.get("logger").info("ops.action", { operator: fingerprint, method: c.req.method, path: c.req.path });
  await next();
  // The status is written after the answer (the record itself was written before the call ran): one D1 round
  // trip less on every operator mutation's response path.
  const status = c.res.status;
  c.executionCtx.waitUntil(
    log.answered(actionId, status).catch((error: unknown) => {
      c.get("logger").error("ops.action_status_unrecorded", { alert: true, actionId, status, error });
    }),
  );
}

/**
 * Adds the operator's stated reason to this mutation's `operator_actions` row, before the route changes anything:
 * no record, no mutation.
 */
export async function recordOperatorReason(c: AppContext, reason: string): Promise<void> {
  const actionId = c.get("operator")?.actionId;
  if (!actionId) throw new Error("recordOperatorReason() needs an operator mutation behind requireOpsToken.");
  try {
    await operatorActionLog(database(c.env.DB)).reason(actionId, reason);
  } catch (error) {
    throw new ServiceUnavailableError(
      "The operator action's reason could not be recorded, so it was not run.",
      "AUDIT_UNAVAILABLE",
      { cause: error },
    );
  }
}
