import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { newCommunity } from "../support/communities";
import { call, errorOf, opsHeaders } from "../support/http";

const db = database(env.DB);
const jsonHeaders = opsHeaders({ "content-type": "application/json" });
const newFlagKey = () => `flag_${crypto.randomUUID().slice(0, 8)}`;

async function defineFlag(key: string, body: Record<string, unknown>) {
  return call(`/api/v1/ops/flags/${key}`, { method: "PUT", headers: jsonHeaders, body: JSON.stringify(body) });
}

describe("feature flag operator API", () => {
  it("Scenario: An operator defines a flag and sees it evaluated per community", async () => {
    const key = newFlagKey();
    const res = await defineFlag(key, { description: "New dashboard", enabledByDefault: true });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { flag: { key: string } }).flag.key).toBe(key);

    const list = (await (await call("/api/v1/ops/flags", { headers: opsHeaders() })).json()) as {
      flags: Array<{ key: string; enabledByDefault: boolean }>;
    };
    expect(list.flags).toContainEqual(expect.objectContaining({ key, enabledByDefault: true }));

    const { communityId } = await newCommunity({ name: "Flags API" });
    const evaluated = (await (
      await call(`/api/v1/communities/${communityId}/flags`, { headers: opsHeaders() })
    ).json()) as { flags: Array<{ key: string; enabled: boolean; reason: string }> };
    expect(evaluated.flags).toContainEqual({ key, enabled: true, reason: "default" });
  });

  it("Scenario: An operator overrides a flag for one community, audited", async () => {
    const key = newFlagKey();
    await (await defineFlag(key, { enabledByDefault: false })).json();
    const { communityId } = await newCommunity({ name: "Flags API" });
    const path = `/api/v1/communities/${communityId}/flags/${key}`;

    const set = await call(path, { method: "PUT", headers: jsonHeaders, body: JSON.stringify({ enabled: true }) });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ key, enabled: true, reason: "override" });

    const cleared = await call(path, { method: "DELETE", headers: opsHeaders() });
    expect(await cleared.json()).toEqual({ key, enabled: false, reason: "default", cleared: true });

    const events = (await forCommunity(db, communityId).audit.list({ limit: 10 })).map((e) => [e.event, e.actorId]);
    expect(events).toEqual([
      ["community.created", null],
      ["flags.override_set", expect.stringMatching(/^ops:[0-9a-f]{12}$/)],
      ["flags.override_cleared", expect.stringMatching(/^ops:[0-9a-f]{12}$/)],
    ]);
  });

  it("Scenario: Bad flag input is refused and writes nothing", async () => {
    const key = newFlagKey();
    const badPercent = await defineFlag(key, { rolloutPercent: 101 });
    expect(badPercent.status).toBe(400);
    expect((await errorOf(badPercent)).details?.[0]).toMatchObject({ path: "rolloutPercent" });

    const unknownField = await defineFlag(key, { enabled: true });
    expect(unknownField.status).toBe(400);

    const badKey = await defineFlag("Not A Key", {});
    expect(badKey.status).toBe(400);

    const malformed = await call(`/api/v1/ops/flags/${key}`, { method: "PUT", headers: jsonHeaders, body: "{" });
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).code).toBe("INVALID_JSON");

    const notJson = await call(`/api/v1/ops/flags/${key}`, {
      method: "PUT",
      headers: opsHeaders({ "content-type": "application/x-www-form-urlencoded" }),
      body: "enabledByDefault=true",
    });
    expect(notJson.status).toBe(415);
    await notJson.json();

    const list = (await (await call("/api/v1/ops/flags", { headers: opsHeaders() })).json()) as {
      flags: Array<{ key: string }>;
    };
    expect(list.flags.map((f) => f.key)).not.toContain(key);
  });

  it("Scenario: Overriding an unknown flag or community is a 404", async () => {
    const { communityId } = await newCommunity({ name: "Flags API" });
    const unknownFlag = await call(`/api/v1/communities/${communityId}/flags/${newFlagKey()}`, {
      method: "PUT",
      headers: jsonHeaders,
      body: JSON.stringify({ enabled: true }),
    });
    expect(unknownFlag.status).toBe(404);
    expect((await errorOf(unknownFlag)).code).toBe("FLAG_NOT_FOUND");

    const unknownCommunity = await call(`/api/v1/communities/${crypto.randomUUID()}/flags`, { headers: opsHeaders() });
    expect(unknownCommunity.status).toBe(404);
    expect((await errorOf(unknownCommunity)).code).toBe("COMMUNITY_NOT_FOUND");
  });

  it("Scenario: Flag endpoints require the operator token", async () => {
    const { communityId } = await newCommunity({ name: "Flags API" });
    for (const [path, method] of [
      ["/api/v1/ops/flags", "GET"],
      [`/api/v1/ops/flags/${newFlagKey()}`, "PUT"],
      [`/api/v1/communities/${communityId}/flags`, "GET"],
      [`/api/v1/communities/${communityId}/flags/x`, "DELETE"],
    ] as const) {
      const res = await call(path, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
      await res.json();
    }
  });
});
