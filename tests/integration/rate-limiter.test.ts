import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../workers/http/app";
import { rateLimit } from "../../workers/http/middleware/rate-limit";
import { callApp, errorOf } from "../support/http";

const uniqueKey = (prefix: string) => `${prefix}:${crypto.randomUUID()}`;

describe("RateLimiter Durable Object", () => {
  it("Scenario: 100 concurrent calls against a limit of 10 allow exactly 10", async () => {
    const key = uniqueKey("exact");
    const stub = env.RATE_LIMITER.getByName(key);
    const results = await Promise.all(
      Array.from({ length: 100 }, () => stub.limit(key, { limit: 10, periodMs: 60_000 })),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    const refused = results.filter((r) => !r.allowed);
    expect(refused).toHaveLength(90);
    for (const r of refused) {
      expect(r.remaining).toBe(0);
      expect(r.retryAfterMs).toBeGreaterThan(0);
      expect(r.retryAfterMs).toBeLessThanOrEqual(6_000);
    }
    await runDurableObjectAlarm(stub);
  });

  it("Scenario: Keys do not share a budget", async () => {
    const a = uniqueKey("a");
    const b = uniqueKey("b");
    const policy = { limit: 1, periodMs: 60_000 };
    expect((await env.RATE_LIMITER.getByName(a).limit(a, policy)).allowed).toBe(true);
    expect((await env.RATE_LIMITER.getByName(a).limit(a, policy)).allowed).toBe(false);
    expect((await env.RATE_LIMITER.getByName(b).limit(b, policy)).allowed).toBe(true);
    await runDurableObjectAlarm(env.RATE_LIMITER.getByName(a));
    await runDurableObjectAlarm(env.RATE_LIMITER.getByName(b));
  });

  it("Scenario: Several limits on one subject are spent together or not at all", async () => {
    const name = uniqueKey("multi");
    const stub = env.RATE_LIMITER.getByName(name);
    const limits = [
      { key: `${name}:short`, policy: { limit: 2, periodMs: 60_000 } },
      { key: `${name}:long`, policy: { limit: 3, periodMs: 3_600_000 } },
    ];
    expect((await stub.limitAll(limits)).allowed).toBe(true);
    expect((await stub.limitAll(limits)).allowed).toBe(true);
    const refused = await stub.limitAll(limits);
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(refused.retryAfterMs).toBeGreaterThan(25_000);
    // The refusal spent nothing: the long limit still has its third request.
    expect((await stub.limit(`${name}:long`, { limit: 3, periodMs: 3_600_000 })).allowed).toBe(true);
    expect((await stub.limit(`${name}:long`, { limit: 3, periodMs: 3_600_000 })).allowed).toBe(false);
    await runDurableObjectAlarm(stub);
  });

  it("Scenario: Idle state is cleaned up by the alarm", async () => {
    const key = uniqueKey("cleanup");
    const stub = env.RATE_LIMITER.getByName(key);
    await stub.limit(key, { limit: 5, periodMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    await runDurableObjectAlarm(stub); // the alarm may already have fired on its own
    const rows = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec("SELECT COUNT(*) AS n FROM buckets").one(),
    );
    expect(rows.n).toBe(0);
  });
});

describe("rate-limit middleware", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("Scenario: An invalid policy is refused where it is declared", () => {
    expect(() => rateLimit({ name: "bad", keyBy: "ip", limit: 0, periodMs: 1000 })).toThrow(/positive integer/);
  });

  function limitedApp(name: string) {
    const app = createApp();
    app.use("/__probe/limited", rateLimit({ name, keyBy: "ip", limit: 3, periodMs: 60_000 }));
    app.get("/__probe/limited", (c) => c.json({ ok: true }));
    return app;
  }

  it("Scenario: Over the limit answers 429 with Retry-After", async () => {
    const app = limitedApp(uniqueKey("mw"));
    const headers = { "cf-connecting-ip": "203.0.113.7" };
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await callApp(app, "/__probe/limited", { headers });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect((await errorOf(res)).code).toBe("RATE_LIMITED");
      } else {
        expect(res.headers.get("ratelimit-remaining")).toBe(String(2 - i));
        await res.json();
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("Scenario: Retry-After is the period divided by the limit", async () => {
    // A fake clock: the refused request arrives at the very instant of the burst, whatever the machine's speed.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2026, 5, 1, 12, 0, 0));
    const key = uniqueKey("retry-after");
    const policy = { limit: 3, periodMs: 60_000 };
    const stub = env.RATE_LIMITER.getByName(key);
    for (let i = 0; i < 3; i++) expect((await stub.limit(key, policy)).allowed).toBe(true);
    expect(await stub.limit(key, policy)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 20_000 });

    const app = limitedApp(uniqueKey("mw-retry-after"));
    const headers = { "cf-connecting-ip": "203.0.113.99" };
    for (let i = 0; i < 3; i++) await (await callApp(app, "/__probe/limited", { headers })).json();
    const refused = await callApp(app, "/__probe/limited", { headers });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("20");
    await refused.json();
    vi.setSystemTime(Date.UTC(2026, 5, 1, 12, 0, 20));
    const later = await callApp(app, "/__probe/limited", { headers });
    expect(later.status).toBe(200);
    await later.json();
  });

  it("Scenario: Requests without cf-connecting-ip share one bucket", async () => {
    const app = limitedApp(uniqueKey("mw-no-ip"));
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await callApp(app, "/__probe/limited", {
        headers: { "x-real-ip": `192.0.2.${i}`, "x-forwarded-for": `192.0.2.${i}`, "true-client-ip": `192.0.2.${i}` },
      });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("Scenario: The client identity is cf-connecting-ip only", async () => {
    const app = limitedApp(uniqueKey("mw-spoof"));
    const ip = "198.51.100.77";
    for (let i = 0; i < 3; i++) {
      const headers = { "cf-connecting-ip": ip, "x-real-ip": `10.0.0.${i}`, "x-forwarded-for": `10.0.0.${i}` };
      await (await callApp(app, "/__probe/limited", { headers })).json();
    }
    const spent = await callApp(app, "/__probe/limited", {
      headers: { "cf-connecting-ip": ip, "x-real-ip": "10.9.9.9", "true-client-ip": "10.9.9.9" },
    });
    expect(spent.status).toBe(429);
    await spent.json();
  });

  it("Scenario: Limits keyed by IP are independent per client", async () => {
    const app = limitedApp(uniqueKey("mw-ip"));
    for (let i = 0; i < 3; i++)
      await (await callApp(app, "/__probe/limited", { headers: { "cf-connecting-ip": "198.51.100.1" } })).json();
    const other = await callApp(app, "/__probe/limited", { headers: { "cf-connecting-ip": "198.51.100.2" } });
    expect(other.status).toBe(200);
    await other.json();
  });
});
