import { and, eq, gt, gte, inArray, lt, or, type SQL } from "drizzle-orm";
import type { AuditSearch } from "../../../shared/audit/search";
import { auditLog } from "../../../shared/db/schema";

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
