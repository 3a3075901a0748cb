import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/context";
import { requireOpsToken } from "../http/middleware/ops-auth";
import { type AlongsideSession, requireSession, requireSessionWith } from "./session";

/**
 * Routes open to both members and operators: a request with an
 * `Authorization` header is an operator's (OPS_TOKEN, with its failure
 * throttle; `c.get("operator")` afterwards), anything else a member's browser
 * session (`c.get("session")`). A browser never sends `Authorization` on its
 * own, so a member cannot fall into the operator path by accident.
 */
export const requireSessionOrOpsToken = requireSessionOrOpsTokenWith();

/** `requireSessionOrOpsToken`, with work started alongside a member's session lookup (see `requireSessionWith`). */
export function requireSessionOrOpsTokenWith(alongside?: AlongsideSession) {
  const requireMember = alongside ? requireSessionWith(alongside) : requireSession;
  return createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.header("authorization") === undefined) await requireMember(c, next);
    else await requireOpsToken(c, next);
  });
}
