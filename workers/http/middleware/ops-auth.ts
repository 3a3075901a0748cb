import { createMiddleware } from "hono/factory";
import { constantTimeEqual } from "../../../shared/crypto/constant-time";
import { ServiceUnavailableError, UnauthorizedError } from "../../../shared/errors";
import type { AppEnv } from "../context";

/** Operator endpoints: `Authorization: Bearer <OPS_TOKEN>`, compared in constant time. */
export const requireOpsToken = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.get("config").OPS_TOKEN;
  if (!expected) {
    throw new ServiceUnavailableError("Operator access is not configured (OPS_TOKEN).", "FEATURE_NOT_CONFIGURED");
  }
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match?.[1]) throw new UnauthorizedError("An operator bearer token is required.");
  if (!(await constantTimeEqual(match[1].trim(), expected))) {
    throw new UnauthorizedError("The operator token is not valid.", "INVALID_TOKEN");
  }
  await next();
});
