import { and, eq, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type AuditHead, isValidAuditEventName, nextChainRow } from "../../../shared/audit/chain";
import { auditLog, communities } from "../../../shared/db/schema";
import { ConflictError, NotFoundError, ValidationError } from "../../../shared/errors";
import { sleep } from "../../../shared/timeout";
import type { Database } from "../client";

export type AuditEntry = typeof auditLog.$inferSelect;

/** Who made an audited change (a platform user id, an operator, `billing`...); null when nobody in particular. */
export interface Actor {
  actorId?: string | null;
}

export interface AuditEntryInput {
  event: string;
  actorId?: string | null;
  target?: string | null;
  data?: Record<string, unknown>;
}

/**
 * What one prepare() round of an audited write decides: write these statements with this entry, or skip.
 * `onlyIf`: a condition that must still hold when the batch runs (what prepare() read to decide); if it no longer
 * does, nothing is written and prepare() decides again on what is there now.
 */
type AuditedPlan<T> =
  | { entry: AuditEntryInput; statements: BatchItem<"sqlite">[]; result: T; onlyIf?: SQL }
  | { skip: T };

const MAX_APPEND_ATTEMPTS = 12;

/**
 * One community's scope, shared by every tenant repository module in this
 * folder: the database, the community id, and audited writes (an audited
 * write and its audit row go into one D1 batch).
 */
export interface TenantScope {
  db: Database;
  communityId: string;
  readHead(): Promise<AuditHead>;
  auditedWrite<T>(prepare: () => Promise<AuditedPlan<T>>): Promise<{ result: T; entry: AuditEntry | null }>;
}

export function createTenantScope(db: Database, communityId: string): TenantScope {
  const byCommunity = eq(communities.id, communityId);

  async function readHead(): Promise<AuditHead> {
    const row = await db
      .select({ seq: communities.auditHeadSeq, hash: communities.auditHeadHash })
      .from(communities)
      .where(byCommunity)
      .get();
    if (!row) throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
    return row;
  }

  /**
   * Optimistic concurrency on the chain head: the audit row is inserted only
   * if the head is still the one read and the plan's `onlyIf` still holds
   * (otherwise its NOT NULL hash fails and D1 rolls the whole batch back), and
   * the unique (community_id, seq) index backs that up. On a conflict,
   * re-read and retry a bounded number of times.
   */
  async function auditedWrite<T>(
    prepare: () => Promise<AuditedPlan<T>>,
  ): Promise<{ result: T; entry: AuditEntry | null }> {
    for (let attempt = 1; ; attempt++) {
      const head = await readHead();
      const plan = await prepare();
      if ("skip" in plan) return { result: plan.skip, entry: null };
      const { entry, statements, result, onlyIf } = plan;
      if (!isValidAuditEventName(entry.event)) {
        throw new ValidationError(`Audit event "${entry.event}" must look like domain.action.`);
      }
      const row = await nextChainRow(head, {
        communityId,
        event: entry.event,
        actorId: entry.actorId ?? null,
        target: entry.target ?? null,
        data: entry.data ?? {},
        createdAt: Date.now(),
      });
      const stored: AuditEntry = { id: crypto.randomUUID(), ...row };
      const stillHolds = onlyIf ? sql` and ${onlyIf}` : sql``;
      const headStillAt = sql`(select ${row.hash} from ${communities} where ${byCommunity} and ${communities.auditHeadSeq} = ${head.seq}${stillHolds})`;
      try {
        await db.batch([
          db.insert(auditLog).values({ ...stored, hash: headStillAt }),
          db
            .update(communities)
            .set({ auditHeadSeq: row.seq, auditHeadHash: row.hash })
            .where(and(byCommunity, eq(communities.auditHeadSeq, head.seq))),
          ...statements,
        ]);
        return { result, entry: stored };
      } catch (error) {
        if (!isChainConflict(error)) throw error;
        if (attempt >= MAX_APPEND_ATTEMPTS) {
          throw new ConflictError("The audit log is busy; try again.", "AUDIT_APPEND_CONFLICT");
        }
        await sleep(Math.random() * Math.min(2 ** attempt, 50));
      }
    }
  }

  return { db, communityId, readHead, auditedWrite };
}

function isChainConflict(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (/constraint failed: audit_log\./i.test(current.message)) return true;
  }
  return false;
}
