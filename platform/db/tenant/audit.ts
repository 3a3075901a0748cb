import { and, asc, eq, gt, lte, max } from "drizzle-orm";
import { type ChainVerification, ChainVerifier } from "../../../shared/audit/chain";
import type { AuditSearch } from "../../../shared/audit/search";
import { auditLog } from "../../../shared/db/schema";
import { auditSearchWhere } from "./audit-search";
import type { AuditEntry, AuditEntryInput, TenantScope } from "./scope";

/** The community's hash-chained audit log: append, list, and verify the chain. */

const VERIFY_PAGE_SIZE = 500;
const MAX_LIST_LIMIT = 500;

export function auditRepository(scope: TenantScope) {
  const { db, communityId, auditedWrite, readHead } = scope;

  return {
    async append(input: AuditEntryInput): Promise<AuditEntry> {
      const { entry } = await auditedWrite(async () => ({ entry: input, statements: [], result: undefined }));
      if (!entry) throw new Error("unreachable: an append always writes");
      return entry;
    },

    /** Entries after `afterSeq` in seq order, at most `limit`, matching every criterion of `search`. */
    list(options: { limit?: number; afterSeq?: number; search?: AuditSearch } = {}): Promise<AuditEntry[]> {
      const limit = Math.min(Math.max(1, Math.trunc(options.limit ?? 100)), MAX_LIST_LIMIT);
      return db
        .select()
        .from(auditLog)
        .where(auditSearchWhere(communityId, options.search ?? {}, options.afterSeq ?? 0))
        .orderBy(asc(auditLog.seq))
        .limit(limit)
        .all();
    },

    /** Where a download capped at `cap` entries stops short: its last seq when more match after it, else null. */
    async cutoff(cap: number, afterSeq: number, search: AuditSearch = {}): Promise<number | null> {
      const rows = await db
        .select({ seq: auditLog.seq })
        .from(auditLog)
        .where(auditSearchWhere(communityId, search, afterSeq))
        .orderBy(asc(auditLog.seq))
        .limit(2)
        .offset(cap - 1)
        .all();
      return rows.length === 2 && rows[0] ? rows[0].seq : null;
    },

    /**
     * verifyChain: walks the rows up to the head read at the start, page by
     * page, then checks that no row sits beyond the head (appends that land
     * meanwhile move the head first, so they are not mistaken for forgeries).
     */
    async verify(): Promise<ChainVerification> {
      const head = await readHead();
      const verifier = new ChainVerifier();
      let afterSeq = 0;
      while (afterSeq < head.seq) {
        const page = await db
          .select()
          .from(auditLog)
          .where(and(eq(auditLog.communityId, communityId), gt(auditLog.seq, afterSeq), lte(auditLog.seq, head.seq)))
          .orderBy(asc(auditLog.seq))
          .limit(VERIFY_PAGE_SIZE)
          .all();
        for (const row of page) {
          if (!(await verifier.add(row))) return verifier.finish(head);
        }
        const last = page.at(-1);
        if (!last) break;
        afterSeq = last.seq;
      }
      const result = verifier.finish(head);
      if (!result.ok) return result;
      const beyond = await db
        .select({ seq: max(auditLog.seq) })
        .from(auditLog)
        .where(and(eq(auditLog.communityId, communityId), gt(auditLog.seq, head.seq)))
        .get();
      if (beyond?.seq != null) {
        const fresh = await readHead();
        if (beyond.seq > fresh.seq) {
          return { ok: false, count: result.count, brokenAt: { seq: fresh.seq + 1, reason: "head_mismatch" } };
        }
      }
      return result;
    },
  };
}
