import { eq, sql } from "drizzle-orm";
import { communities, TENANT_TABLES } from "../../../shared/db/schema";
import type { TenantScope } from "./scope";

/** Rows deleted per statement, and statements per call: a large community is purged over several runs. */
const ROWS_PER_STATEMENT = 5_000;
const STATEMENTS_PER_CALL = 40;

/**
 * Purging a deleted community's data (`platform/members/community-deletion.ts` decides when): every tenant table but
 * the audit log, its members' notices from it, then the community row, so its guild may register anew. The audit log
 * is append-only (a trigger refuses every delete): its rows stay as the record, `community.deleted` among them.
 */
const PURGED_TABLES = [
  ...Object.values(TENANT_TABLES).filter((table) => table !== TENANT_TABLES.auditLog),
  // keyed by user, but each notice names the community it came from
  "member_notices",
];
export function purgeRepository(scope: TenantScope) {
  const { db, communityId } = scope;
  return {
    /** Deletes what is left, a bounded amount per call; `done` once the community row itself is gone. */
    async everything(): Promise<{ done: boolean; rowsDeleted: number }> {
      let rowsDeleted = 0;
      let statements = 0;
      for (const table of PURGED_TABLES) {
        for (;;) {
          if (statements >= STATEMENTS_PER_CALL) return { done: false, rowsDeleted };
          statements += 1;
          const name = sql.identifier(table);
          const result = await db.run(
            sql`DELETE FROM ${name} WHERE rowid IN (SELECT rowid FROM ${name} WHERE community_id = ${communityId} LIMIT ${ROWS_PER_STATEMENT})`,
          );
          rowsDeleted += result.meta.changes;
          if (result.meta.changes < ROWS_PER_STATEMENT) break;
        }
      }
      await db.delete(communities).where(eq(communities.id, communityId));
      return { done: true, rowsDeleted };
    },
  };
}
