import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../platform/db/client";
import { communityDirectory } from "../../platform/db/cross-community/community-directory";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { sha256Hex } from "../../shared/crypto/constant-time";
import { createApp } from "../../workers/http/app";
import { call, callApp, errorOf } from "../support/http";
import { TEST_VARS } from "../support/test-vars";

const db = database(env.DB);
const TOKEN = TEST_VARS.OPS_TOKEN;
/** A fresh client address per test: failures are throttled per cf-connecting-ip, and storage is per file. */
const freshIp = () => `198.18.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`;
const bearer = (token: string, ip: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  "cf-connecting-ip": ip,
  ...extra,
});

describe("operator authentication", () => {
  it("Scenario: A strict prefix of OPS_TOKEN is refused", async () => {
    const ip = freshIp();
    for (const candidate of [TOKEN.slice(0, -1), TOKEN.slice(0, 32), TOKEN.slice(0, 1), `${TOKEN}x`, ` ${TOKEN}x`]) {
      const res = await call("/api/v1/ops/metrics", { headers: bearer(candidate, ip) });
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe("INVALID_TOKEN");
    }
    const right = await call("/api/v1/ops/metrics", { headers: bearer(TOKEN, ip) });
    expect(right.status).toBe(200);
    await right.json();
  });

  it("Scenario: Every listed operator token is accepted while tokens rotate", async () => {
    const next = "next-ops-token-fedcba9876543210fedcba98";
    const rotating = { ...env, OPS_TOKEN: `${next},${TOKEN}` };
    const app = createApp();
    const ip = freshIp();
    for (const token of [next, TOKEN]) {
      const res = await callApp(app, "/api/v1/ops/metrics", { headers: bearer(token, ip) }, rotating);
      expect(res.status).toBe(200);
      await res.json();
    }
    const retired = await callApp(
      app,
      "/api/v1/ops/metrics",
      { headers: bearer(TOKEN, ip) },
      { ...env, OPS_TOKEN: next },
    );
    expect(retired.status).toBe(401);
    expect((await errorOf(retired)).code).toBe("INVALID_TOKEN");
  });

  it("Scenario: Repeated operator authentication failures from one address are throttled", async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await call("/api/v1/ops/metrics", {
        headers: i % 2 ? bearer(`wrong-${i}`, ip) : { "cf-connecting-ip": ip },
      });
      statuses.push(res.status);
      if (res.status === 429) {
        // 90 s for the throttled address, less the seconds this loop took on a slow machine.
        const retryAfter = Number(res.headers.get("retry-after"));
        expect(retryAfter).toBeGreaterThan(60);
        expect(retryAfter).toBeLessThanOrEqual(90);
        expect((await errorOf(res)).code).toBe("RATE_LIMITED");
      } else await res.json();
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
    // While the address is throttled even the right token is refused, so a guess cannot be confirmed.
    const right = await call("/api/v1/ops/metrics", { headers: bearer(TOKEN, ip) });
    expect(right.status).toBe(429);
    await right.json();
    // Other addresses, and the right token on them, are not affected; successes never spend the budget.
    const elsewhere = freshIp();
    for (let i = 0; i < 12; i++) {
      const res = await call("/api/v1/ops/metrics", { headers: bearer(TOKEN, elsewhere) });
      expect(res.status).toBe(200);
      await res.json();
    }
  });

  it("Scenario: Operator mutations are audited with a token fingerprint, never the token", async () => {
    const ip = freshIp();
    const fingerprint = (await sha256Hex(TOKEN)).slice(0, 12);
    const key = `flag_${crypto.randomUUID().slice(0, 8)}`;
    const json = bearer(TOKEN, ip, { "content-type": "application/json" });
    const defined = await call(`/api/v1/ops/flags/${key}`, {
      method: "PUT",
      headers: json,
      body: JSON.stringify({ enabledByDefault: false }),
    });
    expect(defined.status).toBe(200);
    await defined.json();
    const { community } = await communityDirectory(db).create({ guildId: crypto.randomUUID(), name: "Ops audit" });
    const override = await call(`/api/v1/communities/${community.id}/flags/${key}`, {
      method: "PUT",
      headers: json,
      body: JSON.stringify({ enabled: true }),
    });
    expect(override.status).toBe(200);
    const requestId = override.headers.get("x-request-id");
    await override.json();
    const refused = await call(`/api/v1/ops/dead-letters/${crypto.randomUUID()}/replay`, {
      method: "POST",
      headers: bearer(TOKEN, ip),
    });
    expect(refused.status).toBe(404);
    await refused.json();
    const read = await call("/api/v1/ops/metrics", { headers: bearer(TOKEN, ip) });
    await read.json();

    const entries = await forCommunity(db, community.id).audit.list();
    expect(entries.map((e) => [e.event, e.actorId])).toEqual([
      ["community.created", null],
      ["flags.override_set", `ops:${fingerprint}`],
    ]);
    const actions = (
      await env.DB.prepare(
        "SELECT method, path, status, token_fingerprint, community_id, request_id FROM operator_actions WHERE token_fingerprint = ? ORDER BY at, rowid",
      )
        .bind(fingerprint)
        .all<Record<string, unknown>>()
    ).results.filter((row) => String(row.path).includes(key) || String(row.path).includes("/dead-letters/"));
    expect(actions.slice(-3)).toEqual([
      expect.objectContaining({ method: "PUT", path: `/api/v1/ops/flags/${key}`, status: 200 }),
      {
        method: "PUT",
        path: `/api/v1/communities/${community.id}/flags/${key}`,
        status: 200,
        token_fingerprint: fingerprint,
        community_id: community.id,
        request_id: requestId,
      },
      expect.objectContaining({ method: "POST", status: 404 }),
    ]);
    const everything = JSON.stringify(
      (await env.DB.prepare("SELECT * FROM operator_actions").all()).results.concat(entries as never[]),
    );
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(TOKEN.slice(0, 16));
  });

  it("Scenario: The operator action log is append-only", async () => {
    const ip = freshIp();
    const res = await call(`/api/v1/ops/dead-letters/${crypto.randomUUID()}/replay`, {
      method: "POST",
      headers: bearer(TOKEN, ip),
    });
    await res.json();
    const requestId = res.headers.get("x-request-id");
    await expect(
      env.DB.prepare("UPDATE operator_actions SET status = 200 WHERE request_id = ?").bind(requestId).run(),
    ).rejects.toThrow(/append-only/);
    await expect(
      env.DB.prepare("DELETE FROM operator_actions WHERE request_id = ?").bind(requestId).run(),
    ).rejects.toThrow(/append-only/);
  });
});
