import { z } from "@hono/zod-openapi";
import { parseInstant } from "../../shared/audit/search";
import { ValidationError } from "../../shared/errors";

/**
 * The `from` and `to` query parameters of the routes that search by time (the audit log, the trade history): an ISO
 * 8601 date (midnight UTC), a date-time with its offset, or Unix epoch milliseconds; `from` inclusive, `to` exclusive.
 */

export const InstantQuery = z
  .string()
  .regex(/^[0-9T:.+Z-]{1,40}$/, "An ISO 8601 date or date-time, or Unix epoch milliseconds")
  .openapi({ example: "2026-12-01" });

/** The bounds as epoch milliseconds; a 400 names the parameter that is not a date, or `to` not after `from`. */
export function dateRangeOf(query: { from?: string; to?: string }): { from?: number; to?: number } {
  const range: { from?: number; to?: number } = {};
  for (const bound of ["from", "to"] as const) {
    const raw = query[bound];
    if (raw === undefined) continue;
    const at = parseInstant(raw);
    if (at === null)
      throw invalidQuery(bound, "Not a date: use 2026-12-01, 2026-12-01T09:30:00Z or epoch milliseconds.");
    range[bound] = at;
  }
  if (range.from !== undefined && range.to !== undefined && range.from >= range.to) {
    throw invalidQuery("to", "`to` must be after `from`.");
  }
  return range;
}

/** A 400 VALIDATION_FAILED for one query parameter, shaped like the ones zod's hook answers. */
export function invalidQuery(path: string, message: string): ValidationError {
  return new ValidationError("The request does not match the expected shape.", {
    details: [{ path, code: "invalid_value", message }],
  });
}
