import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import type { AuditEntry } from "../../platform/db/tenant/scope";
import { computeEntryHash, GENESIS_HASH } from "../../shared/audit/chain";
import { asAttacker, tamperSql } from "../support/audit-tamper";
import { communityWithEntries } from "../support/communities";

const db = database(env.DB);

describe("audit log", () => {
  it("Scenario: Creating a community starts its chain", async () => {
    const { community, tenant } = await communityWithEntries(0, { ownerUserId: "u-owner" });
    const [first] = await tenant.audit.list();
    expect(first).toMatchObject({ seq: 1, event: "community.created", prevHash: GENESIS_HASH, actorId: "u-owner" });
    expect(community.auditHeadSeq).toBe(1);
    expect(community.auditHeadHash).toBe(first?.hash);
  });

  it("Scenario: Appended entries verify", async () => {
    const { tenant } = await communityWithEntries(3);
    const entry = await tenant.audit.append({
      event: "auth.oauth2_token_exchange",
      actorId: "u-1",
      target: "alpaca",
      data: { broker: "alpaca", scopes: ["trading"], nested: { b: 2, a: 1 } },
    });
    expect(entry.seq).toBe(5);
    const entries = await tenant.audit.list();
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[4]).toEqual(entry);
    expect(await tenant.audit.verify()).toEqual({ ok: true, count: 5, headHash: entry.hash });
    expect((await tenant.community.get())?.auditHeadSeq).toBe(5);
  });

  it("Scenario: A malformed event name is refused", async () => {
    const { tenant } = await communityWithEntries(0);
    await expect(tenant.audit.append({ event: "RoleChanged" })).rejects.toMatchObject({ status: 400 });
    expect(await tenant.audit.list()).toHaveLength(1);
  });

  it("Scenario: Appending to an unknown community fails", async () => {
    const tenant = forCommunity(db, crypto.randomUUID());
    await expect(tenant.audit.append({ event: "auth.mfa_failed" })).rejects.toMatchObject({
      code: "COMMUNITY_NOT_FOUND",
    });
    expect(await tenant.audit.list()).toEqual([]);
  });

  it("Scenario: The application cannot update or delete audit rows", async () => {
    const { community, tenant } = await communityWithEntries(2);
    await expect(
      env.DB.prepare("UPDATE audit_log SET data = '{}' WHERE community_id = ? AND seq = 2").bind(community.id).run(),
    ).rejects.toThrow(/append-only/);
    await expect(
      env.DB.prepare("DELETE FROM audit_log WHERE community_id = ? AND seq = 3").bind(community.id).run(),
    ).rejects.toThrow(/append-only/);
    expect(await tenant.audit.verify()).toMatchObject({ ok: true, count: 3 });
  });

  it("Scenario: An edited row is detected", async () => {
    const { community, tenant } = await communityWithEntries(4);
    await asAttacker(() =>
      tamperSql(`UPDATE audit_log SET data = '{"attempt":99}' WHERE community_id = ? AND seq = 3`, community.id),
    );
    expect(await tenant.audit.verify()).toEqual({ ok: false, count: 2, brokenAt: { seq: 3, reason: "hash_mismatch" } });
  });

  it("Scenario: An edited first entry is detected", async () => {
    const edits = [
      `data = '{"forged":true}'`,
      `actor_id = 'u-attacker'`,
      `event = 'community.resumed'`,
      "created_at = created_at + 1",
      `target = 'elsewhere'`,
    ];
    for (const edit of edits) {
      const { community, tenant } = await communityWithEntries(3);
      await asAttacker(() =>
        tamperSql(`UPDATE audit_log SET ${edit} WHERE community_id = ? AND seq = 1`, community.id),
      );
      expect(await tenant.audit.verify(), edit).toEqual({
        ok: false,
        count: 0,
        brokenAt: { seq: 1, reason: "hash_mismatch" },
      });
    }
    // Rewriting the first entry and its hash still breaks the link from the second one.
    const { community, tenant } = await communityWithEntries(3);
    const [first] = await tenant.audit.list({ limit: 1 });
    const forged = await computeEntryHash(GENESIS_HASH, { ...(first as AuditEntry), actorId: "u-attacker" });
    await asAttacker(() =>
      tamperSql(
        "UPDATE audit_log SET actor_id = 'u-attacker', hash = ? WHERE community_id = ? AND seq = 1",
        forged,
        community.id,
      ),
    );
    expect(await tenant.audit.verify()).toEqual({
      ok: false,
      count: 1,
      brokenAt: { seq: 2, reason: "prev_hash_mismatch" },
    });
    // And a first entry that claims another predecessor than the genesis hash is refused.
    const other = await communityWithEntries(1);
    await asAttacker(() =>
      tamperSql(
        "UPDATE audit_log SET prev_hash = ? WHERE community_id = ? AND seq = 1",
        "f".repeat(64),
        other.community.id,
      ),
    );
    expect(await other.tenant.audit.verify()).toEqual({
      ok: false,
      count: 0,
      brokenAt: { seq: 1, reason: "prev_hash_mismatch" },
    });
  });

  it("Scenario: A deleted middle row is detected", async () => {
    const { community, tenant } = await communityWithEntries(4);
    await asAttacker(() => tamperSql("DELETE FROM audit_log WHERE community_id = ? AND seq = 3", community.id));
    expect(await tenant.audit.verify()).toEqual({ ok: false, count: 2, brokenAt: { seq: 3, reason: "seq_gap" } });

    // Renumbering the rows after the gap does not hide it either.
    await asAttacker(() =>
      tamperSql("UPDATE audit_log SET seq = seq - 1 WHERE community_id = ? AND seq > 3", community.id),
    );
    await asAttacker(() =>
      tamperSql("UPDATE communities SET audit_head_seq = audit_head_seq - 1 WHERE id = ?", community.id),
    );
    expect(await tenant.audit.verify()).toMatchObject({
      ok: false,
      brokenAt: { seq: 3, reason: "prev_hash_mismatch" },
    });
  });

  it("Scenario: A deleted last row is detected", async () => {
    const { community, tenant } = await communityWithEntries(4);
    await asAttacker(() => tamperSql("DELETE FROM audit_log WHERE community_id = ? AND seq = 5", community.id));
    expect(await tenant.audit.verify()).toEqual({ ok: false, count: 4, brokenAt: { seq: 5, reason: "head_mismatch" } });
  });

  it("Scenario: Reordered rows are detected", async () => {
    const { community, tenant } = await communityWithEntries(4);
    await asAttacker(async () => {
      await tamperSql("UPDATE audit_log SET seq = -1 WHERE community_id = ? AND seq = 2", community.id);
      await tamperSql("UPDATE audit_log SET seq = 2 WHERE community_id = ? AND seq = 3", community.id);
      await tamperSql("UPDATE audit_log SET seq = 3 WHERE community_id = ? AND seq = -1", community.id);
    });
    const result = await tenant.audit.verify();
    expect(result).toMatchObject({ ok: false, count: 1, brokenAt: { seq: 2 } });
  });

  it("Scenario: A row added beyond the head is detected", async () => {
    const { community, tenant } = await communityWithEntries(2);
    const [last] = (await tenant.audit.list({ afterSeq: 2 })) ?? [];
    await asAttacker(() =>
      tamperSql(
        "INSERT INTO audit_log (id, community_id, seq, event, data, created_at, prev_hash, hash) VALUES (?, ?, 4, 'auth.mfa_verified', '{}', 0, ?, ?)",
        crypto.randomUUID(),
        community.id,
        last?.hash,
        "f".repeat(64),
      ),
    );
    expect(await tenant.audit.verify()).toEqual({ ok: false, count: 3, brokenAt: { seq: 4, reason: "head_mismatch" } });
  });

  it("Scenario: Concurrent appends keep one unbroken chain", async () => {
    // Through this file's database handle, so its batches can be counted.
    const tenant = forCommunity(db, (await communityWithEntries(0)).communityId);
    const batches = vi.spyOn(db, "batch");
    const appended = await Promise.all(
      Array.from({ length: 10 }, (_, i) => tenant.audit.append({ event: "auth.key_rotated", data: { writer: i } })),
    );
    // All ten read the same head first, so the losers must have retried.
    expect(batches.mock.calls.length).toBeGreaterThan(10);
    batches.mockRestore();
    expect(appended.map((entry) => entry.seq).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const entries = await tenant.audit.list();
    expect(entries.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(new Set(entries.map((entry) => (entry.data as { writer?: number }).writer)).size).toBe(11);
    expect(await tenant.audit.verify()).toMatchObject({ ok: true, count: 11 });
  });

  it("Scenario: A role change and its audit entry commit together", async () => {
    const { tenant } = await communityWithEntries(0);
    const users = Array.from({ length: 6 }, () => crypto.randomUUID());
    await Promise.all(users.map((userId) => tenant.memberships.upsert(userId, "admin", { actorId: "u-owner" })));
    const roleChanges = (await tenant.audit.list()).filter((entry) => entry.event === "community.role_changed");
    expect(roleChanges.map((entry) => entry.target).sort()).toEqual([...users].sort());
    expect(roleChanges[0]?.data).toMatchObject({ previousRole: null, role: "admin" });
    expect(await tenant.audit.verify()).toMatchObject({ ok: true, count: 7 });

    // A write whose audit row cannot be chained is rolled back with it.
    const userId = users[0] as string;
    await asAttacker(() =>
      tamperSql(
        "INSERT INTO audit_log (id, community_id, seq, event, data, created_at, prev_hash, hash) VALUES (?, ?, 8, 'auth.mfa_verified', '{}', 0, 'x', 'y')",
        crypto.randomUUID(),
        tenant.communityId,
      ),
    );
    await expect(tenant.memberships.upsert(userId, "viewer")).rejects.toMatchObject({ code: "AUDIT_APPEND_CONFLICT" });
    expect((await tenant.memberships.get(userId))?.role).toBe("admin");
  });

  it("Scenario: Audit pages follow the seq cursor", async () => {
    const { tenant } = await communityWithEntries(5);
    const first = await tenant.audit.list({ limit: 4 });
    const rest = await tenant.audit.list({ limit: 4, afterSeq: first.at(-1)?.seq });
    expect(first.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(rest.map((e) => e.seq)).toEqual([5, 6]);
  });
});
