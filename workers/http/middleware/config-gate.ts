import { createMiddleware } from "hono/factory";
import { configFor } from "../../../shared/config";
import { ConfigInvalidError } from "../../../shared/errors";
import type { AppEnv } from "../context";

/**
 * Refuses every request while the configuration is invalid (503 CONFIG_INVALID).
 * Paths in `exempt` (the readiness probe) run anyway so they can report the problem.
 */
export function configGate(exempt: readonly string[] = []) {
  let logged = false;
  return createMiddleware<AppEnv>(async (c, next) => {
    const result = configFor(c.env);
    if (result.ok) {
      c.set("config", result.config);
      return next();
    }
    if (!logged) {
      logged = true;
      c.get("logger").error("config.invalid", { variables: result.problems });
    }
    if (exempt.includes(c.req.path)) return next();
    throw new ConfigInvalidError(result.problems.map((problem) => problem.variable));
  });
}
