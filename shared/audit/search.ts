import { isValidAuditEventName } from "./chain";

/**
 * A search of one community's audit log. Every given criterion must hold; a list matches any of its values. `from`
 * is inclusive and `to` exclusive (Unix epoch milliseconds), so consecutive ranges never overlap.
 */
export interface AuditSearch {
  actorIds?: readonly string[];
  subjectIds?: readonly string[];
  /** Exact event names. */
  events?: readonly string[];
  /** Event domains, from `domain.*` (e.g. `community` for every `community.<action>`). */
  eventDomains?: readonly string[];
  from?: number;
  to?: number;
}

/** At most this many names in one `event` filter. */
export const MAX_EVENT_FILTERS = 20;

const DOMAIN_WILDCARD = /^([a-z][a-z0-9_]*)\.\*$/;

/** `community.role_changed,billing.*` → exact names and domains; null when any part is malformed. */
export function parseEventFilter(raw: string): Pick<AuditSearch, "events" | "eventDomains"> | null {
  const parts = raw.split(",").map((part) => part.trim());
  if (parts.length === 0 || parts.length > MAX_EVENT_FILTERS) return null;
  const events: string[] = [];
  const eventDomains: string[] = [];
  for (const part of parts) {
    const domain = DOMAIN_WILDCARD.exec(part)?.[1];
    if (domain) eventDomains.push(domain);
    else if (isValidAuditEventName(part)) events.push(part);
    else return null;
  }
  return { events, eventDomains };
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const EPOCH_MS = /^\d{1,15}$/;

/**
 * A bound of a date range: an ISO 8601 date (midnight UTC), a date-time with its offset, or Unix epoch
 * milliseconds. Null when unreadable or not a real calendar date.
 */
export function parseInstant(raw: string): number | null {
  if (EPOCH_MS.test(raw)) return Number(raw);
  if (!ISO_DATE.test(raw) && !ISO_DATE_TIME.test(raw)) return null;
  if (!isCalendarDate(raw.slice(0, 10))) return null;
  const at = Date.parse(ISO_DATE.test(raw) ? `${raw}T00:00:00Z` : raw);
  return Number.isNaN(at) ? null : at;
}

/** Date.parse rolls 2026-02-30 over to March 2: accept only days that exist. */
function isCalendarDate(day: string): boolean {
  const [year, month, date] = day.split("-").map(Number) as [number, number, number];
  const probe = new Date(Date.UTC(year, month - 1, date));
  return probe.getUTCFullYear() === year && probe.getUTCMonth() === month - 1 && probe.getUTCDate() === date;
}
