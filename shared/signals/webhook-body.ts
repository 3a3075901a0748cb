import { readManagement, type TradeManagement } from "./management";
import { parseSignal } from "./parser";
import { type NormalizedSignal, NormalizedSignalSchema } from "./schema";
import { looksLikeTradersPost, readTradersPost, readTradersPostManagement } from "./traderspost";
import type { WebhookSignalError, WebhookSignalErrorCode } from "./webhook-errors";

/**
 * The body of `POST /webhooks/signals/:providerKey`, already parsed as JSON, read into the normalized signal. Three
 * forms: TradersPost's JSON (`ticker`, `action`, ...), `{"signal": {...}}` (the normalized signal itself) and
 * `{"text": "..."}` (free text, read by the signal parser). Each may carry `time`, when the sender says the signal
 * was sent: an ISO 8601 date-time with a zone (TradingView's `{{timenow}}`, e.g. 2026-01-28T17:12:19Z), or epoch
 * milliseconds (a number of at least 10^11; smaller numbers are epoch seconds).
 */

export type WebhookBodyForm = "traderspost" | "signal" | "text";

export type WebhookBodyReading =
  | { ok: true; kind: "signal"; form: WebhookBodyForm; signal: NormalizedSignal; sentAt: number | null }
  /**
   * Trade management of the provider's open trade on a symbol: a `{"text"}` that is management and not a whole
   * signal (as a channel message that is not a reply), or TradersPost's `cancel` (the entries not filled yet) and
   * `exit` (cancel those and close the position, or `percent_of_position` of it).
   */
  | { ok: true; kind: "management"; form: WebhookBodyForm; management: TradeManagement; sentAt: number | null }
  /** Not one of the three forms at all (400). */
  | { ok: false; unrecognized: string }
  /** One of the forms, but not a signal this platform can execute (422). */
  | { ok: false; form: WebhookBodyForm; errors: WebhookSignalError[] };

const FORMS = 'TradersPost JSON ({"ticker", "action", ...}), {"signal": {...}} or {"text": "..."}';
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const EPOCH_DIGITS = /^\d{9,13}$/;

export function readWebhookBody(body: unknown, now: Date): WebhookBodyReading {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, unrecognized: `The body must be a JSON object: ${FORMS}.` };
  }
  const fields = body as Record<string, unknown>;
  const form = formOf(fields);
  if (typeof form !== "string") return form;

  const time = sentAt(fields.time);
  const errors: WebhookSignalError[] = time.error ? [time.error] : [];
  const management = managementOf(form, fields);
  if (management && "management" in management) {
    if (errors.length > 0) return { ok: false, form, errors };
    return { ok: true, kind: "management", form, management: management.management, sentAt: time.at };
  }
  if (management) return { ok: false, form, errors: [...errors, ...management.errors] };
  const reading = readForm(form, fields, new Date(time.at ?? now.getTime()));
  if (!reading.ok) errors.push(...reading.errors);
  if (errors.length > 0 || !reading.ok) return { ok: false, form, errors };
  return { ok: true, kind: "signal", form, signal: reading.signal, sentAt: time.at };
}

/** Management in the body, its problems, or null when the body is read as a signal. */
function managementOf(
  form: WebhookBodyForm,
  fields: Record<string, unknown>,
): { management: TradeManagement } | { errors: WebhookSignalError[] } | null {
  if (form === "text") {
    if (typeof fields.text !== "string") return null;
    // A text that is a whole signal stays one ("close all AAPL" is an exit signal), as in a channel.
    if (parseSignal(fields.text).ok) return null;
    const reading = readManagement(fields.text);
    if (reading.kind === "management") return { management: reading.management };
    if (reading.kind === "unclear") {
      return { errors: [{ code: "MANAGEMENT_MESSAGE", message: reading.reason, field: "text" }] };
    }
    return null;
  }
  if (form !== "traderspost") return null;
  const action = typeof fields.action === "string" ? fields.action.trim().toLowerCase() : "";
  if (action === "cancel" || action === "exit") return readTradersPostManagement(action, fields);
  return null;
}

function formOf(fields: Record<string, unknown>): WebhookBodyForm | { ok: false; unrecognized: string } {
  const present = [
    looksLikeTradersPost(fields) ? "traderspost" : null,
    "signal" in fields ? "signal" : null,
    "text" in fields ? "text" : null,
  ].filter((form): form is WebhookBodyForm => form !== null);
  if (present.length === 1) {
    const [form] = present as [WebhookBodyForm];
    const extra = form === "traderspost" ? [] : Object.keys(fields).filter((key) => key !== form && key !== "time");
    if (extra.length === 0) return form;
    return {
      ok: false,
      unrecognized: `A {"${form}"} body has only "${form}" and "time"; unexpected: ${extra.join(", ")}.`,
    };
  }
  return {
    ok: false,
    unrecognized:
      present.length === 0
        ? `The body is not a signal: send ${FORMS}.`
        : `The body mixes ${present.join(" and ")}: send exactly one of ${FORMS}.`,
  };
}

type FormReading = { ok: true; signal: NormalizedSignal } | { ok: false; errors: WebhookSignalError[] };

function readForm(form: WebhookBodyForm, fields: Record<string, unknown>, now: Date): FormReading {
  switch (form) {
    case "traderspost":
      return readTradersPost(fields);
    case "signal":
      return readNormalized(fields.signal);
    case "text":
      return readText(fields.text, now);
  }
}

function readText(text: unknown, now: Date): FormReading {
  if (typeof text !== "string") {
    return { ok: false, errors: [{ code: "INVALID_FIELD", message: "text must be a string.", field: "text" }] };
  }
  const result = parseSignal(text, { now });
  if (result.ok) return result;
  return {
    ok: false,
    errors: result.errors.map(({ code, message, start, end }) => ({ code, message, field: "text", start, end })),
  };
}

function readNormalized(signal: unknown): FormReading {
  const parsed = NormalizedSignalSchema.safeParse(signal);
  if (parsed.success) return { ok: true, signal: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.map((issue) => {
      const signalCode = (issue as { params?: { signalCode?: WebhookSignalErrorCode } }).params?.signalCode;
      return {
        code: signalCode ?? "INVALID_FIELD",
        message: issue.message,
        field: ["signal", ...issue.path].join("."),
      };
    }),
  };
}

/** The sender's `time` in epoch ms (null when absent), or why it cannot be read. */
function sentAt(value: unknown): { at: number | null; error?: WebhookSignalError } {
  if (value === undefined || value === null) return { at: null };
  let at = Number.NaN;
  if (typeof value === "number" && Number.isInteger(value) && value > 0) at = value;
  else if (typeof value === "string" && EPOCH_DIGITS.test(value.trim())) at = Number(value.trim());
  else if (typeof value === "string" && ISO_DATE_TIME.test(value.trim())) at = Date.parse(value.trim());
  if (Number.isFinite(at) && at < 1e11) at *= 1000;
  if (Number.isFinite(at) && at > 0) return { at };
  return {
    at: null,
    error: {
      code: "INVALID_DATE",
      message: `time ${JSON.stringify(value)} is not a date-time with a zone (2026-01-28T17:12:19Z) or epoch milliseconds.`,
      field: "time",
    },
  };
}
