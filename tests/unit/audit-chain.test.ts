import { describe, expect, it } from "vitest";
import {
  AUDIT_EVENTS,
  type AuditChainRow,
  canonicalJson,
  computeEntryHash,
  GENESIS_HASH,
  isValidAuditEventName,
  nextChainRow,
  verifyEntries,
} from "../../shared/audit/chain";
import { sha256Hex } from "../../shared/crypto/constant-time";

const COMMUNITY = "c-unit";

async function chainOf(length: number): Promise<AuditChainRow[]> {
  const rows: AuditChainRow[] = [];
  for (let i = 0; i < length; i++) {
    const last = rows.at(-1);
    rows.push(
      await nextChainRow(last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: null }, {
        communityId: COMMUNITY,
        event: "community.role_changed",
        actorId: "u-admin",
        target: `u-${i}`,
        data: { role: "admin", index: i },
        createdAt: 1_700_000_000_000 + i,
      }),
    );
  }
  return rows;
}

const headOf = (rows: AuditChainRow[]) => ({ seq: rows.at(-1)?.seq ?? 0, hash: rows.at(-1)?.hash ?? null });

describe("audit hash chain", () => {
  it("Scenario: Canonical JSON sorts keys at every depth", () => {
    const a = canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } });
    const b = canonicalJson({ a: { c: null, d: [3, { y: 2, z: 1 }] }, b: 1 });
    expect(a).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(b).toBe(a);
    expect(canonicalJson({ keep: "x", drop: undefined })).toBe('{"keep":"x"}');
  });

  it("Scenario: An entry hash covers the previous hash and the canonical content", async () => {
    const content = {
      communityId: COMMUNITY,
      seq: 1,
      event: "auth.mfa_verified",
      actorId: null,
      target: null,
      data: { method: "totp" },
      createdAt: 1,
    };
    const expected = await sha256Hex(
      `${GENESIS_HASH}{"actorId":null,"communityId":"c-unit","createdAt":1,"data":{"method":"totp"},"event":"auth.mfa_verified","seq":1,"target":null}`,
    );
    expect(await computeEntryHash(GENESIS_HASH, content)).toBe(expected);
    expect(await computeEntryHash(GENESIS_HASH, { ...content, data: { method: "sms" } })).not.toBe(expected);
    expect(GENESIS_HASH).toMatch(/^0{64}$/);
  });

  it("Scenario: Event names are domain.action", () => {
    for (const event of AUDIT_EVENTS) expect(isValidAuditEventName(event)).toBe(true);
    expect(isValidAuditEventName("auth.oauth2_token_exchange")).toBe(true);
    expect(isValidAuditEventName("orders.placed")).toBe(true);
    for (const bad of ["auth", "Auth.login", "auth.login.extra", "auth.", ".login", "auth-x.login", "1auth.x"]) {
      expect(isValidAuditEventName(bad)).toBe(false);
    }
  });

  it("Scenario: An intact chain verifies", async () => {
    const rows = await chainOf(5);
    expect(rows[0]?.prevHash).toBe(GENESIS_HASH);
    expect(rows[1]?.prevHash).toBe(rows[0]?.hash);
    expect(await verifyEntries(rows, headOf(rows))).toEqual({ ok: true, count: 5, headHash: rows[4]?.hash });
    expect(await verifyEntries([], { seq: 0, hash: null })).toEqual({ ok: true, count: 0, headHash: GENESIS_HASH });
  });

  it("Scenario: Each kind of tampering is named", async () => {
    const rows = await chainOf(5);
    const head = headOf(rows);
    const at = (i: number) => rows[i] as AuditChainRow;

    const edited = rows.map((row, i) => (i === 2 ? { ...row, data: { role: "owner" } } : row));
    expect(await verifyEntries(edited, head)).toEqual({
      ok: false,
      count: 2,
      brokenAt: { seq: 3, reason: "hash_mismatch" },
    });

    const withoutMiddle = rows.filter((_, i) => i !== 2);
    expect(await verifyEntries(withoutMiddle, head)).toMatchObject({
      ok: false,
      brokenAt: { seq: 3, reason: "seq_gap" },
    });

    const renumbered = withoutMiddle.map((row, i) => ({ ...row, seq: i + 1 }));
    expect(await verifyEntries(renumbered)).toMatchObject({
      ok: false,
      brokenAt: { seq: 3, reason: "prev_hash_mismatch" },
    });

    const swapped = rows.map((row, i) => (i === 1 ? { ...row, seq: 3 } : i === 2 ? { ...row, seq: 2 } : row));
    expect(await verifyEntries(swapped, head)).toMatchObject({ ok: false, brokenAt: { seq: 2 } });

    const truncated = rows.slice(0, 4);
    expect(await verifyEntries(truncated)).toMatchObject({ ok: true, count: 4 });
    expect(await verifyEntries(truncated, head)).toEqual({
      ok: false,
      count: 4,
      brokenAt: { seq: 5, reason: "head_mismatch" },
    });

    const rehashedTail = [...rows.slice(0, 4), await nextChainRow(headOf(rows.slice(0, 4)), { ...at(4), data: {} })];
    expect(await verifyEntries(rehashedTail, head)).toMatchObject({
      ok: false,
      brokenAt: { seq: 5, reason: "head_mismatch" },
    });
  });

  it("Scenario: Verification does not depend on the order rows are given in", async () => {
    const rows = await chainOf(4);
    expect(await verifyEntries([...rows].reverse(), headOf(rows))).toMatchObject({ ok: true, count: 4 });
  });
});
