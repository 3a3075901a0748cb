import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ERROR_CODES, NotImplementedError } from "../../shared/errors";
import { createApp } from "../../workers/http/app";
import { DEFAULT_BODY_LIMIT_BYTES } from "../../workers/http/middleware/body-limit";
import { call, callApp, errorOf, opsHeaders } from "../support/http";

/** The real app plus a few test-only routes that exercise the shared middleware. */
function appWithProbeRoutes() {
  const app = createApp();
  const seen: unknown[] = [];
  app.post("/api/v1/__probe/echo", async (c) => {
    const body = z.object({ name: z.string() }).safeParse(await c.req.json());
    seen.push(body);
    return c.json({ ok: body.success });
  });
  app.get("/__probe/boom", () => {
    throw new Error("database password is hunter2");
  });
  app.get("/__probe/unimplemented", () => {
    throw new NotImplementedError("Probe feature");
  });
  return { app, seen };
}

describe("platform HTTP surface", () => {
  it("Scenario: Liveness answers without dependencies", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("Scenario: Readiness reports each dependency", async () => {
    const res = await call("/ready");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean; latencyMs: number }> };
    expect(body.status).toBe("ready");
    expect(Object.keys(body.checks).sort()).toEqual([
      "communityExecutor",
      "config",
      "d1",
      "rateLimiter",
      "realtimeHub",
    ]);
    for (const check of Object.values(body.checks)) expect(check.ok).toBe(true);
  });

  it("Scenario: Every response carries a request id", async () => {
    const res = await call("/health");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const ray = await call("/health", { headers: { "cf-ray": "8f1c2d3e4b5a6978-AMS" } });
    expect(ray.headers.get("x-request-id")).toBe("8f1c2d3e4b5a6978-AMS");
  });

  it("Scenario: Responses carry secure default headers", async () => {
    for (const res of [await call("/health"), await call("/nope")]) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(res.headers.get("strict-transport-security")).toContain("max-age=");
      await res.arrayBuffer();
    }
  });

  it("Scenario: Unknown route", async () => {
    const res = await call("/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect((await errorOf(res)).code).toBe("ROUTE_NOT_FOUND");
  });

  it("Scenario: Wrong method", async () => {
    const res = await call("/health", { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect((await errorOf(res)).code).toBe("METHOD_NOT_ALLOWED");
  });

  it("Scenario: A GET with a trailing slash is a 404 like the router", async () => {
    for (const path of ["/health/", "/api/v1/openapi.json/"]) {
      const res = await call(path);
      expect(res.status).toBe(404);
      expect(res.headers.get("allow")).toBeNull();
      expect((await errorOf(res)).code).toBe("ROUTE_NOT_FOUND");
    }
    const ops = await call("/api/v1/ops/metrics/", { headers: opsHeaders() });
    expect(ops.status).toBe(404);
    await ops.arrayBuffer();
  });

  it("Scenario: API and billing responses are never cached", async () => {
    const responses = [
      await call("/api/v1/openapi.json"),
      await call("/api/v1/nope"),
      await call("/api/v1/ops/metrics"),
      await call("/billing/return?status=success"),
      await call("/billing/portal"),
    ];
    for (const res of responses) {
      expect(res.headers.get("cache-control")).toBe("no-store");
      await res.arrayBuffer();
    }
  });

  it("Scenario: Static HTML carries a default-src 'none' content security policy", async () => {
    const res = await call("/billing/return?status=success");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toMatch(/^default-src 'none'(;|$)/);
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    await res.text();
  });

  it("Scenario: Body too big", async () => {
    const { app, seen } = appWithProbeRoutes();
    const big = JSON.stringify({ name: "x".repeat(DEFAULT_BODY_LIMIT_BYTES) });
    const res = await callApp(app, "/api/v1/__probe/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: big,
    });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("PAYLOAD_TOO_LARGE");
    expect(seen).toHaveLength(0);
  });

  it("Scenario: Body too big without a content length", async () => {
    const { app, seen } = appWithProbeRoutes();
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 6; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await callApp(app, "/api/v1/__probe/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      // @ts-expect-error duplex is required by the fetch spec for streamed bodies
      duplex: "half",
    });
    expect(res.status).toBe(413);
    expect(seen).toHaveLength(0);
  });

  it("Scenario: A route prefix can raise its body limit", async () => {
    const app = createApp();
    app.post("/webhooks/__probe", async (c) => c.json({ bytes: (await c.req.text()).length }));
    const body = "x".repeat(DEFAULT_BODY_LIMIT_BYTES * 2);
    const res = await callApp(app, "/webhooks/__probe", { method: "POST", body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ bytes: body.length });
    const tooBig = await callApp(app, "/webhooks/__probe", { method: "POST", body: "x".repeat(513 * 1024) });
    expect(tooBig.status).toBe(413);
    await tooBig.json();
  });

  it("Scenario: Malformed JSON", async () => {
    const { app, seen } = appWithProbeRoutes();
    const res = await callApp(app, "/api/v1/__probe/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name": ',
    });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("INVALID_JSON");
    expect(error.message).toMatch(/^Malformed JSON body: .+/);
    expect(seen).toHaveLength(0);
  });

  it("Scenario: Wrong content type", async () => {
    const { app, seen } = appWithProbeRoutes();
    const res = await callApp(app, "/api/v1/__probe/echo", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "name=x",
    });
    expect(res.status).toBe(415);
    expect((await errorOf(res)).code).toBe("UNSUPPORTED_MEDIA_TYPE");
    expect(seen).toHaveLength(0);
  });

  it("Scenario: A well-formed JSON body reaches the handler", async () => {
    const { app, seen } = appWithProbeRoutes();
    const res = await callApp(app, "/api/v1/__probe/echo", {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ name: "x" }),
    });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
  });

  it("Scenario: An unhandled throw becomes a 500 without internals", async () => {
    const { app } = appWithProbeRoutes();
    const res = await callApp(app, "/__probe/boom");
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("at ");
    expect(JSON.parse(text).error.code).toBe("INTERNAL_ERROR");
  });

  it("Scenario: Work owned by a later issue answers 501, never a fake success", async () => {
    const { app } = appWithProbeRoutes();
    const res = await callApp(app, "/__probe/unimplemented");
    expect(res.status).toBe(501);
    expect((await errorOf(res)).code).toBe("NOT_IMPLEMENTED");
  });

  it("Scenario: Production with a missing secret answers 503 CONFIG_INVALID everywhere", async () => {
    const { OPS_TOKEN: _ops, ...rest } = env as unknown as Record<string, unknown>;
    const broken = {
      ...rest,
      ENVIRONMENT: "production",
      QUOTE_FEED: "live",
      PUBLIC_BASE_URL: "https://trade.example.com",
    };
    const app = createApp();
    for (const path of ["/health", "/api/v1/openapi.json", "/nope"]) {
      const res = await callApp(app, path, undefined, broken);
      expect(res.status).toBe(503);
      const error = await errorOf(res);
      expect(error.code).toBe("CONFIG_INVALID");
      expect(error.message).toContain("OPS_TOKEN");
    }
    const ready = await callApp(app, "/ready", undefined, broken);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { checks: { config: { ok: boolean; problems: unknown[] } } };
    expect(body.checks.config).toMatchObject({ ok: false, problems: [{ variable: "OPS_TOKEN", problem: "missing" }] });
  });

  it("Scenario: The OpenAPI document describes the JSON routes", async () => {
    const res = await call("/api/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/health", "/ready"]));
  });

  it("Scenario: The OpenAPI document lists every error code", async () => {
    const doc = (await (await call("/api/v1/openapi.json")).json()) as {
      components: { schemas: Record<string, { enum?: string[]; properties?: Record<string, unknown> }> };
    };
    const { ErrorCode, ErrorBody } = doc.components.schemas;
    expect(ErrorCode?.enum).toEqual([...ERROR_CODES]);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(ErrorBody?.properties?.error).toMatchObject({
      properties: { code: { $ref: "#/components/schemas/ErrorCode" } },
    });
  });
});
