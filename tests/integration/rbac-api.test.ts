import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import type { MembershipRole } from "../../shared/db/schema";
import { isAction } from "../../shared/rbac/matrix";
import { createApp } from "../../workers/http/app";
import { OPS_TOKEN_SCHEME } from "../../workers/http/middleware/ops-auth";
import { snowflake } from "../support/discord";
import { call, csrfTokenOf, errorOf, opsHeaders } from "../support/http";
import { enrolMfa } from "../support/mfa";
import { memberOf, newCommunityId } from "../support/realtime";
import { TEST_VARS } from "../support/test-vars";

const db = database(env.DB);
const PREFIX = "/api/v1/communities/:communityId";

/**
 * Every route under /api/v1/communities/:communityId, with what a call to it needs beyond the path. The cross-tenant
 * test fails for a registered route missing here (and for a stale entry), so every new route gets its case.
 */
const ROUTE_CASES: Record<string, { body?: unknown; headers?: Record<string, string> }> = {
  "GET /api/v1/communities/:communityId": {},
  "DELETE /api/v1/communities/:communityId": {},
  "GET /api/v1/communities/:communityId/audit": {},
  "GET /api/v1/communities/:communityId/billing": {},
  "GET /api/v1/communities/:communityId/brokers": {},
  "DELETE /api/v1/communities/:communityId/brokers/:connectionId": {},
  "GET /api/v1/communities/:communityId/billing/payments": {},
  "POST /api/v1/communities/:communityId/billing/checkout": { body: { plan: "professional" } },
  "POST /api/v1/communities/:communityId/billing/portal": { body: {} },
  "POST /api/v1/communities/:communityId/billing/refunds": { body: { paymentId: "in_1Pgc6tB7WZ01zgkWu9fdqL6I" } },
  "GET /api/v1/communities/:communityId/flags": {},
  "PUT /api/v1/communities/:communityId/flags/:key": { body: { enabled: true } },
  "DELETE /api/v1/communities/:communityId/flags/:key": {},
  "PUT /api/v1/communities/:communityId/killswitch": { body: { halted: true, reason: "cross-tenant probe" } },
  "GET /api/v1/communities/:communityId/members": {},
  "PUT /api/v1/communities/:communityId/members/:userId/role": { body: { role: "viewer" } },
  "PUT /api/v1/communities/:communityId/members/:userId/suspension": { body: { reason: "cross-tenant probe" } },
  "DELETE /api/v1/communities/:communityId/members/:userId/suspension": {},
  "PUT /api/v1/communities/:communityId/owner": { body: { userId: "someone" } },
  "GET /api/v1/communities/:communityId/orders": {},
  "GET /api/v1/communities/:communityId/realtime": { headers: { upgrade: "websocket" } },
  "GET /api/v1/communities/:communityId/signal-webhooks": {},
  "POST /api/v1/communities/:communityId/signal-webhooks": { body: { provider: "100000000000000202" } },
  "DELETE /api/v1/communities/:communityId/signal-webhooks/:id": {},
  "GET /api/v1/communities/:communityId/signals/:signalId": {},
  "GET /api/v1/communities/:communityId/trades": {},
};

/** The community routes as Hono registered them. */
function communityRoutes(): { method: string; path: string; key: string }[] {
  const routes = new Map<string, { method: string; path: string; key: string }>();
  for (const { method, path } of createApp().routes) {
    if (method === "ALL" || !(path === PREFIX || path.startsWith(`${PREFIX}/`))) continue;
    routes.set(`${method} ${path}`, { method, path, key: `${method} ${path}` });
  }
  return [...routes.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** Calls a route of `communityId` as `who` (a member's cookie, or operator headers). */
async function callAs(
  who: { cookie: string } | "operator",
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    // A browser sends its Origin on every mutation, and the session's CSRF token with one that has no JSON body.
    ...(who === "operator" ? opsHeaders() : { cookie: who.cookie, origin: TEST_VARS.PUBLIC_BASE_URL }),
    ...options.headers,
  };
  if (who !== "operator" && method !== "GET" && options.body === undefined) {
    headers["x-csrf-token"] = await csrfTokenOf(who.cookie);
  }
  if (options.body !== undefined) headers["content-type"] = "application/json";
  return call(path, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
}

const concrete = (path: string, communityId: string) =>
  path.replace(":communityId", communityId).replace(/:[A-Za-z]+/g, () => `x${crypto.randomUUID().slice(0, 8)}`);

async function expectRefused(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status);
  const error = await errorOf(res);
  expect(error.code).toBe(code);
  return error.message;
}

async function roleOf(communityId: string, userId: string): Promise<MembershipRole | null> {
  return (await forCommunity(db, communityId).memberships.get(userId))?.role ?? null;
}

async function auditEvents(communityId: string, event: string) {
  return (await forCommunity(db, communityId).audit.list({ limit: 100 })).filter((e) => e.event === event);
}

/** A member of `communityId` with a user row but no session (the target of a change). */
async function plainMember(communityId: string, role: MembershipRole) {
  const user = await upsertUser(db, { discordId: snowflake(), username: `m-${role}` });
  await forCommunity(db, communityId).memberships.upsert(user.id, role);
  return user;
}

const haltedOf = async (communityId: string) => (await forCommunity(db, communityId).community.get())?.halted;

afterEach(() => vi.restoreAllMocks());

describe("community routes across tenants", () => {
  it("Scenario: A member of one community gets 404 for every route of another", { timeout: 60_000 }, async () => {
    const routes = communityRoutes();
    expect(routes.map((r) => r.key)).toEqual(Object.keys(ROUTE_CASES).sort());
    const ownerOfA = await memberOf(null, "owner");
    const b = await newCommunityId();
    await plainMember(b, "owner");
    for (const { method, path, key } of routes) {
      const res = await callAs(ownerOfA, method, concrete(path, b), ROUTE_CASES[key]);
      expect(res.status, key).toBe(404);
      const error = await errorOf(res);
      expect(error.code, key).toBe("COMMUNITY_NOT_FOUND");
      expect(error.message, key).toBe(`Community ${b} does not exist.`);
    }
    // B is untouched: not halted, its owner still its owner.
    expect(await haltedOf(b)).toBe(false);
  });

  it("Scenario: Every community route declares its action in the API document", async () => {
    const doc = (await (await call("/api/v1/openapi.json")).json()) as {
      paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
    };
    const operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/api/v1/communities/{communityId}"))
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method} ${path}`, op })));
    expect(operations.length).toBe(Object.keys(ROUTE_CASES).length);
    for (const { key, op } of operations) {
      const [member, operator] = op.security ?? [];
      expect(Object.keys(member ?? {}), key).toEqual(["sessionCookie"]);
      expect(member?.sessionCookie?.length, key).toBe(1);
      expect(isAction(member?.sessionCookie?.[0]), key).toBe(true);
      expect(operator, key).toEqual({ [OPS_TOKEN_SCHEME]: [] });
    }
  });
});

describe("roles on the API", () => {
  it("Scenario: A viewer cannot trip the kill switch", async () => {
    const viewer = await memberOf(null, "viewer");
    const res = await callAs(viewer, "PUT", `/api/v1/communities/${viewer.communityId}/killswitch`, {
      body: { halted: true },
    });
    const message = await expectRefused(res, 403, "FORBIDDEN");
    expect(message).toContain("(viewer)");
    expect(message).toContain("killswitch.set is for owners and admins");
    expect(await haltedOf(viewer.communityId)).toBe(false);
    expect(await auditEvents(viewer.communityId, "community.halted")).toEqual([]);
  });

  it("Scenario: A moderator cannot change billing", async () => {
    const moderator = await memberOf(null, "moderator");
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const base = `/api/v1/communities/${moderator.communityId}/billing`;
    for (const [method, path, body] of [
      ["GET", base, undefined],
      ["GET", `${base}/payments`, undefined],
      ["POST", `${base}/checkout`, { plan: "professional" }],
      ["POST", `${base}/portal`, {}],
      ["POST", `${base}/refunds`, { paymentId: "in_1Pgc6tB7WZ01zgkWu9fdqL6I" }],
    ] as const) {
      const message = await expectRefused(await callAs(moderator, method, path, { body }), 403, "FORBIDDEN");
      expect(message, path).toMatch(/\(moderator\).*billing\.(view|manage) is for owners and admins/);
    }
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("Scenario: A moderator manages signal webhooks but not the kill switch or roles", async () => {
    const moderator = await memberOf(null, "moderator");
    const { communityId } = moderator;
    const provider = await plainMember(communityId, "provider");
    const created = await callAs(moderator, "POST", `/api/v1/communities/${communityId}/signal-webhooks`, {
      body: { provider: provider.discordId },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const revoked = await callAs(moderator, "DELETE", `/api/v1/communities/${communityId}/signal-webhooks/${id}`);
    expect(revoked.status).toBe(200);
    await revoked.arrayBuffer();
    const audited = (await forCommunity(db, communityId).audit.list({ limit: 100 })).filter((e) =>
      e.event.startsWith("signal_webhook."),
    );
    expect(audited.length).toBeGreaterThanOrEqual(2);
    for (const entry of audited) expect(entry.actorId).toBe(moderator.userId);

    await expectRefused(
      await callAs(moderator, "PUT", `/api/v1/communities/${communityId}/killswitch`, { body: { halted: true } }),
      403,
      "FORBIDDEN",
    );
    await expectRefused(
      await callAs(moderator, "PUT", `/api/v1/communities/${communityId}/members/${provider.id}/role`, {
        body: { role: "trader" },
      }),
      403,
      "FORBIDDEN",
    );
    expect(await roleOf(communityId, provider.id)).toBe("provider");
    expect(await haltedOf(communityId)).toBe(false);
  });

  it("Scenario: An admin halts trading through the API", async () => {
    const admin = await memberOf(null, "admin");
    const path = `/api/v1/communities/${admin.communityId}/killswitch`;
    const halt = await callAs(admin, "PUT", path, { body: { halted: true, reason: "broker outage" } });
    expect(halt.status).toBe(200);
    expect(await halt.json()).toMatchObject({
      halted: true,
      reason: "broker outage",
      changed: true,
      executorNotified: true,
    });
    expect(await haltedOf(admin.communityId)).toBe(true);
    const resume = await callAs(admin, "PUT", path, { body: { halted: false } });
    expect(await resume.json()).toMatchObject({ halted: false, changed: true, executorNotified: true });
    expect(await haltedOf(admin.communityId)).toBe(false);
    const [halted] = await auditEvents(admin.communityId, "community.halted");
    const [resumed] = await auditEvents(admin.communityId, "community.resumed");
    expect(halted).toMatchObject({ actorId: admin.userId, data: { reason: "broker outage" } });
    expect(resumed?.actorId).toBe(admin.userId);
    // Bad input is refused before anything is saved.
    for (const body of [{ halted: "yes" }, { halted: true, extra: 1 }, {}]) {
      await expectRefused(await callAs(admin, "PUT", path, { body }), 400, "VALIDATION_FAILED");
    }
    expect(await haltedOf(admin.communityId)).toBe(false);
  });

  it("Scenario: An operator keeps full rights", async () => {
    const communityId = await newCommunityId();
    const target = await plainMember(communityId, "trader");
    const members = await callAs("operator", "GET", `/api/v1/communities/${communityId}/members`);
    expect(members.status).toBe(200);
    expect(((await members.json()) as { members: { userId: string }[] }).members.map((m) => m.userId)).toEqual([
      target.id,
    ]);
    const changed = await callAs(
      "operator",
      "PUT",
      `/api/v1/communities/${communityId}/members/${target.discordId}/role`,
      {
        body: { role: "admin" },
      },
    );
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ changed: true, member: { userId: target.id, role: "admin" } });
    const halt = await callAs("operator", "PUT", `/api/v1/communities/${communityId}/killswitch`, {
      body: { halted: true },
    });
    expect(halt.status).toBe(200);
    await halt.arrayBuffer();
    const [roleChange] = await auditEvents(communityId, "community.role_changed");
    expect(roleChange?.actorId).toMatch(/^ops:/);
    expect(roleChange?.data).toMatchObject({ previousRole: "trader", role: "admin", stepUp: "role.raise_to_admin" });
    expect((await auditEvents(communityId, "community.halted"))[0]?.actorId).toMatch(/^ops:/);
  });

  it("Scenario: A trader reads the community but not the audit log or others' orders", async () => {
    const trader = await memberOf(null, "trader");
    const base = `/api/v1/communities/${trader.communityId}`;
    const community = await callAs(trader, "GET", base);
    expect(community.status).toBe(200);
    expect(((await community.json()) as { community: { id: string } }).community.id).toBe(trader.communityId);
    await expectRefused(await callAs(trader, "GET", `${base}/audit`), 403, "FORBIDDEN");
    await expectRefused(await callAs(trader, "GET", `${base}/orders`), 403, "FORBIDDEN");
    // Signed in but no member at all: the community does not exist for them.
    const stranger = await memberOf(null, "owner");
    await expectRefused(await callAs(stranger, "GET", base), 404, "COMMUNITY_NOT_FOUND");
  });
});

describe("role changes", () => {
  const rolePath = (communityId: string, userId: string) => `/api/v1/communities/${communityId}/members/${userId}/role`;

  it("Scenario: An admin changes a member's role and it is audited", async () => {
    const admin = await memberOf(null, "admin");
    const target = await plainMember(admin.communityId, "trader");
    const first = await callAs(admin, "PUT", rolePath(admin.communityId, target.id), { body: { role: "moderator" } });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      changed: true,
      member: { userId: target.id, discordId: target.discordId, role: "moderator" },
    });
    const again = await callAs(admin, "PUT", rolePath(admin.communityId, target.id), { body: { role: "moderator" } });
    expect(await again.json()).toMatchObject({ changed: false, member: { role: "moderator" } });
    const changes = (await auditEvents(admin.communityId, "community.role_changed")).filter(
      (e) => e.target === target.id,
    );
    expect(changes.map((e) => ({ actorId: e.actorId, data: e.data }))).toEqual([
      { actorId: admin.userId, data: { userId: target.id, previousRole: "trader", role: "moderator" } },
    ]);
    // The member list pages by user id.
    const list = await callAs(admin, "GET", `/api/v1/communities/${admin.communityId}/members?limit=1`);
    const page = (await list.json()) as { members: unknown[]; nextAfterUserId: string | null };
    expect(page.members).toHaveLength(1);
    expect(page.nextAfterUserId).not.toBeNull();
  });

  it("Scenario: An admin cannot raise anyone above their own role", async () => {
    const admin = await memberOf(null, "admin");
    const trader = await plainMember(admin.communityId, "trader");
    const otherAdmin = await plainMember(admin.communityId, "admin");
    await expectRefused(
      await callAs(admin, "PUT", rolePath(admin.communityId, trader.id), { body: { role: "owner" } }),
      422,
      "OWNER_BY_TRANSFER_ONLY",
    );
    const message = await expectRefused(
      await callAs(admin, "PUT", rolePath(admin.communityId, otherAdmin.id), { body: { role: "trader" } }),
      403,
      "ROLE_ABOVE_OWN",
    );
    expect(message).toContain("Only the owner");
    expect(await roleOf(admin.communityId, trader.id)).toBe("trader");
    expect(await roleOf(admin.communityId, otherAdmin.id)).toBe("admin");
  });

  it("Scenario: An unknown role is refused", async () => {
    const admin = await memberOf(null, "admin");
    const trader = await plainMember(admin.communityId, "trader");
    const res = await callAs(admin, "PUT", rolePath(admin.communityId, trader.id), { body: { role: "superuser" } });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.details?.[0]).toMatchObject({ path: "role" });
    await expectRefused(
      await callAs(admin, "PUT", rolePath(admin.communityId, trader.id), { body: { role: "viewer", as: "owner" } }),
      400,
      "VALIDATION_FAILED",
    );
    expect(await roleOf(admin.communityId, trader.id)).toBe("trader");
  });

  it("Scenario: The last owner cannot be demoted", async () => {
    const owner = await memberOf(null, "owner");
    for (const who of [owner, "operator"] as const) {
      const message = await expectRefused(
        await callAs(who, "PUT", rolePath(owner.communityId, owner.userId), { body: { role: "admin" } }),
        409,
        "LAST_OWNER",
      );
      expect(message).toContain("transfer ownership first");
    }
    expect(await roleOf(owner.communityId, owner.userId)).toBe("owner");
  });

  it("Scenario: A role change across tenants is refused", async () => {
    const adminOfA = await memberOf(null, "admin");
    const b = await newCommunityId();
    const memberOfB = await plainMember(b, "trader");
    await expectRefused(
      await callAs(adminOfA, "PUT", rolePath(adminOfA.communityId, memberOfB.id), { body: { role: "viewer" } }),
      404,
      "MEMBER_NOT_FOUND",
    );
    await expectRefused(
      await callAs(adminOfA, "PUT", rolePath(b, memberOfB.id), { body: { role: "viewer" } }),
      404,
      "COMMUNITY_NOT_FOUND",
    );
    expect(await roleOf(b, memberOfB.id)).toBe("trader");
  });
});

describe("ownership transfer", () => {
  const ownerPath = (communityId: string) => `/api/v1/communities/${communityId}/owner`;

  it("Scenario: The owner transfers ownership and it is audited", async () => {
    const owner = await memberOf(null, "owner");
    const heir = await plainMember(owner.communityId, "trader");
    // A transfer is a step-up: the owner has two-factor authentication, verified in this session.
    await enrolMfa(owner.cookie);
    const res = await callAs(owner, "PUT", ownerPath(owner.communityId), { body: { userId: heir.discordId } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      member: { userId: heir.id, role: "owner" },
      previousOwners: [owner.userId],
    });
    expect(await roleOf(owner.communityId, heir.id)).toBe("owner");
    expect(await roleOf(owner.communityId, owner.userId)).toBe("admin");
    expect((await forCommunity(db, owner.communityId).community.get())?.ownerUserId).toBe(heir.id);
    const [entry] = await auditEvents(owner.communityId, "community.ownership_transferred");
    expect(entry).toMatchObject({
      actorId: owner.userId,
      target: heir.id,
      data: { from: [owner.userId], to: heir.id, previousRole: "trader", stepUp: "ownership.transfer" },
    });
    expect((await forCommunity(db, owner.communityId).audit.verify()).ok).toBe(true);
    // The former owner is an admin now: a second transfer is refused.
    await expectRefused(
      await callAs(owner, "PUT", ownerPath(owner.communityId), { body: { userId: owner.userId } }),
      403,
      "FORBIDDEN",
    );
  });

  it("Scenario: Only the owner can transfer ownership", async () => {
    const owner = await memberOf(null, "owner");
    const admin = await memberOf(owner.communityId, "admin");
    await expectRefused(
      await callAs(admin, "PUT", ownerPath(owner.communityId), { body: { userId: admin.userId } }),
      403,
      "FORBIDDEN",
    );
    await expectRefused(
      await callAs(owner, "PUT", ownerPath(owner.communityId), { body: { userId: owner.userId } }),
      409,
      "ALREADY_OWNER",
    );
    const stranger = await memberOf(null, "trader");
    await expectRefused(
      await callAs(owner, "PUT", ownerPath(owner.communityId), { body: { userId: stranger.userId } }),
      404,
      "MEMBER_NOT_FOUND",
    );
    expect(await roleOf(owner.communityId, owner.userId)).toBe("owner");
    expect(await roleOf(owner.communityId, admin.userId)).toBe("admin");
    expect(await auditEvents(owner.communityId, "community.ownership_transferred")).toEqual([]);
  });
});

describe("stored roles from before the matrix", () => {
  it("Scenario: Stored admin rows from before the matrix are migrated to trader", async () => {
    const communityId = await newCommunityId();
    const owner = await plainMember(communityId, "owner");
    const admin = await plainMember(communityId, "admin");
    const provider = await plainMember(communityId, "provider");
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.endsWith("_legacy_admin_roles.sql"));
    expect(migration).toBeDefined();
    for (const query of migration?.queries ?? []) await env.DB.prepare(query).run();
    expect(await roleOf(communityId, admin.id)).toBe("trader");
    expect(await roleOf(communityId, owner.id)).toBe("owner");
    expect(await roleOf(communityId, provider.id)).toBe("provider");
  });
});
