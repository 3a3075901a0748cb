import { type CsvValue, csvLine } from "../csv";
import { type AuditChainRow, canonicalJson } from "./chain";

/** The CSV export of an audit log: one header row, then one row per entry in seq order. */
const AUDIT_CSV_COLUMNS = ["seq", "created_at", "event", "actor_id", "target", "data", "prev_hash", "hash"] as const;

export const AUDIT_CSV_HEADER = csvLine(AUDIT_CSV_COLUMNS);

/** `created_at` as ISO 8601 UTC and `data` as canonical JSON, so a row can be re-hashed from the file. */
export function auditCsvRow(entry: AuditChainRow): string {
  const values: CsvValue[] = [
    entry.seq,
    new Date(entry.createdAt).toISOString(),
    entry.event,
    entry.actorId,
    entry.target,
    canonicalJson(entry.data),
    entry.prevHash,
    entry.hash,
  ];
  return csvLine(values);
}
