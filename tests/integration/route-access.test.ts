import { describe, expect, it } from "vitest";
import { createApp } from "../../workers/http/app";
import { OPS_TOKEN_SCHEME } from "../../workers/http/middleware/ops-auth";
import { call, errorOf, opsHeaders } from "../support/http";

/**
 * The /api/v1 routes anyone may call, each with the reason. Every other /api/v1 route, including one added tomorrow,
 * must refuse a caller without credentials: this file fails until it does, or until it is listed here.
 */
const PUBLIC_API_ROUTES: Record<string, string> = {
  "GET /api/v1/openapi.json": "the API's own description",
  "POST /api/v1/signals/parse": "hosts test their signal format on it (rate-limited per address)",
};

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Every method and path the app serves under /api/v1, as Hono registered them (middleware left out). */
function apiRoutes(): { method: string; path: string; key: string }[] {
  const routes = new Map<string, { method: string; path: string; key: string }>();
  for (const { method, path } of createApp().routes) {
    if (method === "ALL" || path.endsWith("*") || !path.startsWith("/api/v1/")) continue;
    const key = `${method} ${path}`;
    routes.set(key, { method, path, key });
  }
  return [...routes.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** A concrete URL for a route pattern: each `:param` becomes a fresh id, so nothing real is addressed. */
const concrete = (path: string) =>
  path.replace(/:[A-Za-z_]+(\{[^}]*\})?/g, () => `x${crypto.randomUUID().slice(0, 8)}`);

/** Failures are throttled per address (10 per 15 minutes): every request gets its own. */
let address = 0;
const freshAddress = () => `198.51.100.${++address % 250}`;

async function anonymous(method: string, path: string): Promise<Response> {
  const headers: Record<string, string> = { "cf-connecting-ip": freshAddress() };
  const init: RequestInit = { method, headers };
  if (MUTATING.has(method)) {
    headers["content-type"] = "application/json";
    init.body = "{}";
  }
  return call(concrete(path), init);
}

describe("route access", () => {
  it("Scenario: Every API route requires authentication unless it is listed as public", {
    timeout: 30_000,
  }, async () => {
    const routes = apiRoutes();
    expect(routes.length).toBeGreaterThan(10);
    const keys = routes.map((route) => route.key);
    // A stale entry in the public list is a mistake too: it must name a served route.
    expect(keys).toEqual(expect.arrayContaining(Object.keys(PUBLIC_API_ROUTES)));

    const answers: Record<string, number> = {};
    await Promise.all(
      routes.map(async ({ method, path, key }) => {
        const res = await anonymous(method, path);
        answers[key] = res.status;
        await res.arrayBuffer();
      }),
    );
    const expected = Object.fromEntries(
      keys.map((key) => [key, key in PUBLIC_API_ROUTES ? answers[key] : 401] as const),
    );
    expect(answers).toEqual(expected);
    for (const key of Object.keys(PUBLIC_API_ROUTES)) expect(answers[key], key).not.toBe(401);
  });

  it("Scenario: A path the API does not serve is a 404 with or without a token", async () => {
    for (const headers of [
      { "cf-connecting-ip": freshAddress() },
      opsHeaders({ "cf-connecting-ip": freshAddress() }),
    ]) {
      const unknown = await call("/api/v1/ops/nothing-here", { headers });
      expect(unknown.status).toBe(404);
      expect((await errorOf(unknown)).code).toBe("ROUTE_NOT_FOUND");
      const wrongMethod = await call("/api/v1/ops/metrics", { method: "DELETE", headers });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get("allow")).toBe("GET, HEAD");
      expect((await errorOf(wrongMethod)).code).toBe("METHOD_NOT_ALLOWED");
    }
  });

  it("Scenario: The OpenAPI document declares each API route's authentication", async () => {
    const res = await call("/api/v1/openapi.json");
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(Object.keys(doc.components.securitySchemes)).toContain(OPS_TOKEN_SCHEME);
    const documented = new Map<string, Record<string, string[]>[] | undefined>();
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        documented.set(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ":$1")}`, operation.security);
      }
    }
    for (const { key } of apiRoutes()) {
      if (key === "GET /api/v1/openapi.json") continue; // the document does not describe itself
      expect(documented.has(key), `${key} is not in the OpenAPI document`).toBe(true);
      const security = documented.get(key);
      if (key in PUBLIC_API_ROUTES) {
        expect(security ?? [], key).toEqual([]);
        continue;
      }
      expect(security?.length, `${key} declares no security scheme`).toBeGreaterThan(0);
      for (const scheme of (security ?? []).flatMap(Object.keys)) {
        expect(Object.keys(doc.components.securitySchemes), key).toContain(scheme);
      }
    }
  });
});
