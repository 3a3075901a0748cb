import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { ErrorBody } from "../../shared/errors";
import type { App } from "../../workers/http/context";
import { TEST_VARS } from "./test-vars";

export const BASE = "http://dte.test";

/** Calls the deployed entry module exactly as a client would. */
export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

export function opsHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${TEST_VARS.OPS_TOKEN}`, ...extra };
}

/** Calls an app instance with a chosen env (for config and test-only routes). */
export async function callApp(app: App, path: string, init?: RequestInit, withEnv: object = env): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${BASE}${path}`, init), withEnv as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export async function errorOf(res: Response): Promise<ErrorBody["error"]> {
  const body = (await res.json()) as ErrorBody;
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  return body.error;
}

/** The session's CSRF token, as `GET /api/v1/me` hands it to the dashboard. */
export async function csrfTokenOf(cookie: string): Promise<string> {
  const res = await call("/api/v1/me", { headers: { cookie } });
  return ((await res.json()) as { csrfToken: string }).csrfToken;
}
