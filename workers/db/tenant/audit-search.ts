import { and, eq, gt, gte, inArray, lt, or, type SQL } from "drizzle-orm";
import type { AuditSearch } from "../../../shared/audit/search";
import { auditLog, users } from "../../../shared/db/schema";
import type { Database } from "../client";

/** The WHERE clause of one community's audit search, from `afterSeq` on. */
export function auditSearchWhere(communityId: string, search: AuditSearch, afterSeq: number): SQL | undefined {
  const conditions: (SQL | undefined)[] = [eq(auditLog.communityId, communityId), gt(auditLog.seq, afterSeq)];
  if (search.actorIds?.length) conditions.push(inArray(auditLog.actorId, [...search.actorIds]));
  if (search.subjectIds?.length) conditions.push(inArray(auditLog.target, [...search.subjectIds]));
  const eventConditions = [
    ...(search.events?.length ? [inArray(auditLog.event, [...search.events])] : []),
    // `domain.` ≤ event < `domain/` is exactly the names starting with `domain.` ("/" follows "." in ASCII).
    ...(search.eventDomains ?? []).map((domain) =>
      and(gte(auditLog.event, `${domain}.`), lt(auditLog.event, `${domain}/`)),
    ),
  ];
  if (eventConditions.length > 0) conditions.push(or(...eventConditions));
  if (search.from !== undefined) conditions.push(gte(auditLog.createdAt, search.from));
  if (search.to !== undefined) conditions.push(lt(auditLog.createdAt, search.to));
  return and(...conditions);
}

/**
 * A user as the audit log may name them: the internal id, plus the internal id of the user with that Discord id
 * (operators usually know the Discord id).
 */
export async function auditUserIds(db: Database, id: string): Promise<string[]> {
  if (!/^\d{17,20}$/.test(id)) return [id];
  const user = await db.select({ id: users.id }).from(users).where(eq(users.discordId, id)).get();
  return user ? [id, user.id] : [id];
}
