import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import { computeEntryHash, nextChainRow } from "../../shared/audit/chain";
import { auditLog, communities } from "../../shared/db/schema";
import { newCommunity } from "../support/communities";
import { call, errorOf, opsHeaders } from "../support/http";

const db = database(env.DB);
const DAY = 24 * 3600_000;
/** Entries are back-dated to December 2025, before the community (created now) could have any. */
const DEC_1 = Date.parse("2025-12-01T00:00:00Z");

interface AuditPage {
  entries: Array<{ seq: number; event: string; actorId: string | null; target: string | null }>;
  nextAfterSeq: number | null;
}

/** Appends entries as if written on the given days (only Date is faked, so D1 and timers run normally). */
async function appendOn(
  tenant: ReturnType<typeof forCommunity>,
  entries: Array<{ at: number; event: string; actorId?: string; target?: string; data?: Record<string, unknown> }>,
) {
  vi.useFakeTimers({ toFake: ["Date"] });
  try {
    for (const entry of entries) {
      vi.setSystemTime(entry.at);
      await tenant.audit.append(entry);
    }
  } finally {
    vi.useRealTimers();
  }
}

async function search(communityId: string, query: string): Promise<AuditPage> {
  const res = await call(`/api/v1/communities/${communityId}/audit?${query}`, { headers: opsHeaders() });
  expect(res.status).toBe(200);
  return (await res.json()) as AuditPage;
}

const seqs = (page: AuditPage) => page.entries.map((entry) => entry.seq);

/** RFC 4180 reader, enough to read our export back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += ch;
  }
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** Chains `count` entries after the community's first in one D1 batch, as appends would, but fast. */
async function appendMany(communityId: string, count: number) {
  let head = { seq: 1, hash: (await forCommunity(db, communityId).audit.list({ limit: 1 }))[0]?.hash ?? null };
  const rows = [];
  for (let i = 0; i < count; i++) {
    const row = await nextChainRow(head, {
      communityId,
      event: "flags.override_set",
      actorId: null,
      target: null,
      data: { i },
      createdAt: Date.now(),
    });
    rows.push(db.insert(auditLog).values({ id: crypto.randomUUID(), ...row }));
    head = { seq: row.seq, hash: row.hash };
  }
  const moveHead = db
    .update(communities)
    .set({ auditHeadSeq: head.seq, auditHeadHash: head.hash })
    .where(eq(communities.id, communityId));
  await db.batch([moveHead, ...rows]);
}

afterEach(() => vi.useRealTimers());

describe("audit search and export", () => {
  it("Scenario: An operator searches the audit log by actor, subject, event and date", async () => {
    const { communityId: id, tenant } = await newCommunity({ name: "Search" });
    await appendOn(tenant, [
      { at: DEC_1 + 3600_000, event: "community.role_changed", actorId: "admin-a", target: "member-x" }, // 2
      { at: DEC_1 + DAY, event: "flags.override_set", actorId: "operator", target: "beta" }, // 3
      { at: DEC_1 + DAY + 60_000, event: "community.halted", actorId: "admin-b" }, // 4
      { at: DEC_1 + 2 * DAY, event: "community.role_changed", actorId: "admin-b", target: "member-y" }, // 5
      { at: DEC_1 + 3 * DAY, event: "risk.trading_mode_changed", actorId: "member-x", target: "member-x" }, // 6
    ]);

    expect(seqs(await search(id, "actor_id=admin-b"))).toEqual([4, 5]);
    expect(seqs(await search(id, "subject_id=member-x"))).toEqual([2, 6]);
    expect(seqs(await search(id, "event=community.role_changed"))).toEqual([2, 5]);
    expect(seqs(await search(id, "event=community.*"))).toEqual([1, 2, 4, 5]);
    expect(seqs(await search(id, "event=flags.*,risk.trading_mode_changed"))).toEqual([3, 6]);
    expect(seqs(await search(id, "from=2025-12-02&to=2025-12-03"))).toEqual([3, 4]);
    expect(seqs(await search(id, `from=${DEC_1 + DAY + 1}&to=2026-01-01`))).toEqual([4, 5, 6]);
    expect(seqs(await search(id, "to=2025-12-02T00:00:00%2B01:00"))).toEqual([2]);
    expect(seqs(await search(id, "actor_id=admin-b&event=community.role_changed&from=2025-12-02"))).toEqual([5]);
    expect(seqs(await search(id, "actor_id=nobody"))).toEqual([]);

    const first = await search(id, "event=community.*&limit=2");
    expect(seqs(first)).toEqual([1, 2]);
    expect(first.nextAfterSeq).toBe(2);
    const second = await search(id, "event=community.*&limit=2&after_seq=2");
    expect(seqs(second)).toEqual([4, 5]);
  });

  it("Scenario: An audit user filter accepts a Discord user id", async () => {
    const { communityId: id, tenant } = await newCommunity({ name: "Search" });
    const discordId = `9${Date.now()}${String(Math.floor(Math.random() * 1000)).padStart(3, "0")}`;
    const user = await upsertUser(db, { discordId });
    await tenant.audit.append({ event: "community.role_changed", actorId: "admin-a", target: user.id });
    await tenant.audit.append({ event: "community.role_changed", actorId: user.id, target: "someone-else" });

    expect(seqs(await search(id, `subject_id=${discordId}`))).toEqual([2]);
    expect(seqs(await search(id, `actor_id=${discordId}`))).toEqual([3]);
    expect(seqs(await search(id, `subject_id=${user.id}`))).toEqual([2]);
  });

  it("Scenario: An invalid audit search is a 400", async () => {
    const { communityId: id } = await newCommunity({ name: "Search" });
    const cases: Array<[string, string]> = [
      ["event=RoleChanged", "event"],
      ["event=community.", "event"],
      [`event=${Array.from({ length: 21 }, (_, i) => `a.e${i}`).join(",")}`, "event"],
      ["from=yesterday", "from"],
      ["from=2026-02-30", "from"],
      ["to=2026-12-01T25:00:00Z", "to"],
      ["from=2026-12-02&to=2026-12-01", "to"],
      ["from=2026-12-01&to=2026-12-01", "to"],
      ["actor_id=a%20b", "actor_id"],
      ["subject_id=%3Cscript%3E", "subject_id"],
      ["format=xml", "format"],
      ["limit=501", "limit"],
    ];
    for (const [query, parameter] of cases) {
      const res = await call(`/api/v1/communities/${id}/audit?${query}`, { headers: opsHeaders() });
      expect(res.status, query).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe("VALIDATION_FAILED");
      expect(JSON.stringify(error.details), query).toContain(parameter);
    }
  });

  it("Scenario: The audit log exports as CSV with a header row and proper escaping", async () => {
    const { communityId: id, tenant } = await newCommunity({ name: "Search" });
    const tricky = { note: 'He said "sell", then\r\nbought', list: [1, 2] };
    await tenant.audit.append({
      event: "community.settings_changed",
      actorId: "admin-a",
      target: "=HYPERLINK(1)",
      data: tricky,
    });
    await tenant.audit.append({ event: "flags.override_set", actorId: "operator", target: "beta, gamma" });
    await tenant.audit.append({ event: "community.halted", actorId: "admin-a", target: null });

    const res = await call(`/api/v1/communities/${id}/audit?format=csv&actor_id=admin-a`, { headers: opsHeaders() });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="audit-[\w-]+\.csv"$/);
    const text = await res.text();
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(["seq", "created_at", "event", "actor_id", "target", "data", "prev_hash", "hash"]);
    expect(rows.slice(1).map((row) => row[0])).toEqual(["2", "4"]);
    const [seq, createdAt, event, actorId, target, data, prevHash, hash] = rows[1] as string[];
    expect(event).toBe("community.settings_changed");
    expect(target).toBe("'=HYPERLINK(1)");
    expect(JSON.parse(data as string)).toEqual(tricky);
    expect(createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // The row carries everything its hash covers: an auditor can recompute it from the file alone.
    const recomputed = await computeEntryHash(prevHash as string, {
      communityId: id,
      seq: Number(seq),
      event: event as string,
      actorId: actorId as string,
      target: "=HYPERLINK(1)",
      data: JSON.parse(data as string),
      createdAt: Date.parse(createdAt as string),
    });
    expect(recomputed).toBe(hash);
    expect(text).toContain('"{""list"":[1,2],""note"":""He said \\""sell\\"", then\\r\\nbought""}"');

    const operator = parseCsv(
      await (
        await call(`/api/v1/communities/${id}/audit?format=csv&actor_id=operator`, { headers: opsHeaders() })
      ).text(),
    );
    expect(operator[1]?.[4]).toBe("beta, gamma");
  });

  it("Scenario: A CSV export holds every matching entry beyond one page", async () => {
    const { communityId: id } = await newCommunity({ name: "Search" });
    await appendMany(id, 520);

    const res = await call(`/api/v1/communities/${id}/audit?format=csv&verify=1`, { headers: opsHeaders() });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-audit-verification")).toBe("ok; count=521");
    expect(res.headers.get("x-export-truncated")).toBeNull();
    const rows = parseCsv(await res.text());
    expect(rows.length).toBe(1 + 521);
    expect(rows.slice(1).map((row) => Number(row[0]))).toEqual(Array.from({ length: 521 }, (_, i) => i + 1));

    const capped = parseCsv(
      await (
        await call(`/api/v1/communities/${id}/audit?format=csv&limit=600&after_seq=10`, { headers: opsHeaders() })
      ).text(),
    );
    expect(capped.length).toBe(1 + 511);
    expect(capped[1]?.[0]).toBe("11");
    const fewRes = await call(`/api/v1/communities/${id}/audit?format=csv&limit=3`, { headers: opsHeaders() });
    const few = parseCsv(await fewRes.text());
    expect(few.slice(1).map((row) => row[0])).toEqual(["1", "2", "3"]);
    // Stopped at its cap with more to come: the download says so, and where the next one starts.
    expect(fewRes.headers.get("x-export-truncated")).toBe("true");
    expect(fewRes.headers.get("x-next-cursor")).toBe("3");
    const link = /^<([^>]+)>; rel="next"$/.exec(fewRes.headers.get("link") ?? "")?.[1] ?? "";
    const next = parseCsv(await (await call(link, { headers: opsHeaders() })).text());
    expect(next.slice(1).map((row) => row[0])).toEqual(["4", "5", "6"]);
  });
});
