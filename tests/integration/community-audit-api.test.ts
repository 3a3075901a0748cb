import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../platform/db/client";
import { asAttacker, tamperSql } from "../support/audit-tamper";
import { communityWithEntries } from "../support/communities";
import { call, errorOf, opsHeaders } from "../support/http";

const _db = database(env.DB);

interface AuditPage {
  entries: Array<{ seq: number; event: string; hash: string; prevHash: string; data: Record<string, unknown> }>;
  nextAfterSeq: number | null;
  verification?: { ok: boolean; count: number; brokenAt?: { seq: number; reason: string } };
}

const auditPath = (communityId: string, query = "") => `/api/v1/communities/${communityId}/audit${query}`;

describe("community audit API", () => {
  it("Scenario: The audit endpoint requires the operator token", async () => {
    const { communityId } = await communityWithEntries(0);
    const none = await call(auditPath(communityId));
    expect(none.status).toBe(401);
    // Without any credential the route asks for a session (members may read it too, rbac spec).
    expect((await errorOf(none)).code).toBe("SESSION_REQUIRED");
    const wrong = await call(auditPath(communityId), { headers: { authorization: "Bearer not-the-token" } });
    expect(wrong.status).toBe(401);
    expect((await errorOf(wrong)).code).toBe("INVALID_TOKEN");
  });

  it("Scenario: An operator reads and verifies a community's audit log", async () => {
    const { communityId } = await communityWithEntries(3);
    const res = await call(auditPath(communityId, "?verify=1"), { headers: opsHeaders() });
    expect(res.status).toBe(200);
    const body = (await res.json()) as AuditPage;
    expect(body.entries.map((entry) => entry.seq)).toEqual([1, 2, 3, 4]);
    expect(body.entries[0]?.event).toBe("community.created");
    expect(body.nextAfterSeq).toBeNull();
    expect(body.verification).toMatchObject({ ok: true, count: 4 });

    const page = await call(auditPath(communityId, "?limit=2&after_seq=1"), { headers: opsHeaders() });
    const paged = (await page.json()) as AuditPage;
    expect(paged.entries.map((entry) => entry.seq)).toEqual([2, 3]);
    expect(paged.nextAfterSeq).toBe(3);
    expect(paged.verification).toBeUndefined();
  });

  it("Scenario: The audit endpoint reports a tampered chain", async () => {
    const { communityId } = await communityWithEntries(3);
    await asAttacker(() =>
      tamperSql(`UPDATE audit_log SET data = '{"i":7}' WHERE community_id = ? AND seq = 2`, communityId),
    );
    const res = await call(auditPath(communityId, "?verify=true"), { headers: opsHeaders() });
    expect(res.status).toBe(200);
    const body = (await res.json()) as AuditPage;
    expect(body.verification).toEqual({ ok: false, count: 1, brokenAt: { seq: 2, reason: "hash_mismatch" } });
  });

  it("Scenario: The audit log of an unknown community is a 404", async () => {
    const res = await call(auditPath(crypto.randomUUID(), "?verify=1"), { headers: opsHeaders() });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("COMMUNITY_NOT_FOUND");
  });

  it("Scenario: An invalid audit page size is a 400", async () => {
    const { communityId } = await communityWithEntries(0);
    for (const limit of ["0", "501", "ten"]) {
      const res = await call(auditPath(communityId, `?limit=${limit}`), { headers: opsHeaders() });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe("VALIDATION_FAILED");
    }
  });

  it("Scenario: The audit endpoint is described in the OpenAPI document", async () => {
    const res = await call("/api/v1/openapi.json");
    const doc = (await res.json()) as { paths: Record<string, { get?: { security?: unknown[] } }> };
    const operation = doc.paths["/api/v1/communities/{communityId}/audit"]?.get;
    expect(operation?.security).toEqual([{ sessionCookie: ["audit.view"] }, { opsToken: [] }]);
  });
});
