import { AppError, type ErrorCode } from "../errors";

/**
 * What a broker call's failure means for the caller (docs/architecture.md §7, step 3):
 * - `TransientError`: nothing happened that matters; retry with backoff, waiting
 *   at least `retryAfterMs` when the broker said so.
 * - `PermanentError`: the broker refused; retrying the same request cannot help.
 *   `reason` is from a closed list, so callers can branch on it.
 * - `UnknownOutcomeError`: the request may have reached the broker (a timeout or
 *   dropped connection after sending a non-idempotent call). Resolve it by
 *   looking the order up by its client order id, never by sending it again blind.
 * All three are AppErrors, so a route that lets one escape answers sensibly.
 */

export const PERMANENT_REASONS = [
  "insufficient_funds",
  "insufficient_position",
  "invalid_symbol",
  "market_closed",
  "auth_failed",
  "order_not_found",
  "order_not_cancelable",
  "duplicate_client_order_id",
  "unsupported",
  "invalid_order",
  "account_restricted",
] as const;

export type PermanentReason = (typeof PERMANENT_REASONS)[number];

/** The error code of each refusal (in `ERROR_CODES`, so the API document lists them). */
const PERMANENT_CODES: Record<PermanentReason, ErrorCode> = {
  insufficient_funds: "BROKER_INSUFFICIENT_FUNDS",
  insufficient_position: "BROKER_INSUFFICIENT_POSITION",
  invalid_symbol: "BROKER_INVALID_SYMBOL",
  market_closed: "BROKER_MARKET_CLOSED",
  auth_failed: "BROKER_AUTH_FAILED",
  order_not_found: "BROKER_ORDER_NOT_FOUND",
  order_not_cancelable: "BROKER_ORDER_NOT_CANCELABLE",
  duplicate_client_order_id: "BROKER_DUPLICATE_CLIENT_ORDER_ID",
  unsupported: "BROKER_UNSUPPORTED",
  invalid_order: "BROKER_INVALID_ORDER",
  account_restricted: "BROKER_ACCOUNT_RESTRICTED",
};

export type BrokerErrorKind = "transient" | "permanent" | "unknown_outcome";

export interface BrokerErrorContext {
  broker?: string;
  operation?: string;
  /** The HTTP status the broker answered with, when it answered. */
  status?: number;
  cause?: unknown;
}

export abstract class BrokerError extends AppError {
  abstract readonly kind: BrokerErrorKind;
  readonly broker: string | undefined;
  readonly operation: string | undefined;
  readonly httpStatus: number | undefined;

  constructor(status: number, code: ErrorCode, message: string, context: BrokerErrorContext, retryAfterMs?: number) {
    const headers: Record<string, string> =
      retryAfterMs !== undefined ? { "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } : {};
    super(status, code, message, { cause: context.cause, headers });
    this.broker = context.broker;
    this.operation = context.operation;
    this.httpStatus = context.status;
  }
}

export class TransientError extends BrokerError {
  readonly kind = "transient";
  readonly retryAfterMs: number | undefined;

  constructor(message: string, context: BrokerErrorContext & { retryAfterMs?: number } = {}) {
    super(503, "BROKER_UNAVAILABLE", message, context, context.retryAfterMs);
    this.retryAfterMs = context.retryAfterMs;
  }
}

export class PermanentError extends BrokerError {
  readonly kind = "permanent";
  readonly reason: PermanentReason;

  constructor(reason: PermanentReason, message: string, context: BrokerErrorContext = {}) {
    super(422, PERMANENT_CODES[reason], message, context);
    this.reason = reason;
  }
}

export class UnknownOutcomeError extends BrokerError {
  readonly kind = "unknown_outcome";

  constructor(message: string, context: BrokerErrorContext = {}) {
    super(502, "BROKER_OUTCOME_UNKNOWN", message, context);
  }
}

/**
 * Retry-After as milliseconds from `nowMs`: delay-seconds ("120") or an
 * HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT"). Undefined when absent or malformed.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** A broker's own refinement of a 4xx: a reason from its error code or message, or undefined for the default. */
export type ReasonMapper = (status: number, message: string, body: unknown) => PermanentReason | undefined;

export interface ClassifyOptions extends BrokerErrorContext {
  /** Whether repeating the call is harmless (reads, cancels). Decides what a lost response means. */
  idempotent: boolean;
  mapReason?: ReasonMapper;
  nowMs?: number;
}

/** Wording brokers use, mapped to reasons. Checked before the status defaults. */
const MESSAGE_REASONS: ReadonlyArray<[RegExp, PermanentReason]> = [
  [/insufficient (buying power|funds|balance|cash|margin)|not enough (buying power|funds|cash)/i, "insufficient_funds"],
  [/insufficient (qty|quantity|position|shares)|not enough (shares|qty|quantity)/i, "insufficient_position"],
  [/client[_ ]order[_ ]id.*(unique|exists|duplicate)|duplicate client/i, "duplicate_client_order_id"],
  [/market (is )?(closed|not open)|outside (of )?(regular )?(trading|market) hours/i, "market_closed"],
  [/(asset|symbol|instrument|contract)\b.*\b(not found|invalid|unknown|not tradable|not active)/i, "invalid_symbol"],
  [/not (cancelable|cancellable)|already (filled|canceled|cancelled)/i, "order_not_cancelable"],
  [/(account|trading) (is )?(blocked|restricted|suspended|disabled)/i, "account_restricted"],
  [/not supported|unsupported/i, "unsupported"],
];

const STATUS_REASONS: Readonly<Record<number, PermanentReason>> = {
  401: "auth_failed",
  403: "account_restricted",
  404: "order_not_found",
  409: "duplicate_client_order_id",
};

/**
 * An HTTP answer that is not a success, as a BrokerError: 408, 5xx and 429 are
 * transient (429 and 503 keep their Retry-After); other 4xx are permanent, with
 * a reason from the broker's mapper, then its wording, then the status.
 */
export function classifyHttpError(
  status: number,
  headers: Headers,
  body: unknown,
  options: ClassifyOptions,
): BrokerError {
  const message = brokerMessage(body) ?? `HTTP ${status}`;
  const context: BrokerErrorContext = { broker: options.broker, operation: options.operation, status };
  const who = options.broker ?? "the broker";
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs =
      parseRetryAfter(headers.get("retry-after"), options.nowMs) ?? rateLimitReset(headers, options.nowMs);
    return new TransientError(`${who} answered ${status}: ${message}`, {
      ...context,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  const reason =
    options.mapReason?.(status, message, body) ??
    MESSAGE_REASONS.find(([pattern]) => pattern.test(message))?.[1] ??
    STATUS_REASONS[status] ??
    "invalid_order";
  return new PermanentError(reason, `${who} refused: ${message}`, context);
}

/** Reads and classifies a failed response (consumes its body). */
export async function errorFromResponse(response: Response, options: ClassifyOptions): Promise<BrokerError> {
  let body: unknown = null;
  try {
    const text = await response.text();
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  } catch {
    body = null;
  }
  return classifyHttpError(response.status, response.headers, body, options);
}

/**
 * A thrown fetch (timeout, abort, dropped connection) as a BrokerError. For a
 * non-idempotent call the request may have been sent, so its outcome is unknown;
 * for an idempotent one it is simply worth retrying.
 */
export function classifyException(error: unknown, options: ClassifyOptions): BrokerError {
  if (error instanceof BrokerError) return error;
  const name = error instanceof Error || error instanceof DOMException ? error.name : "";
  const timedOut = name === "TimeoutError" || name === "AbortError";
  const what = timedOut ? "timed out" : "failed";
  const who = options.broker ?? "the broker";
  const context: BrokerErrorContext = { broker: options.broker, operation: options.operation, cause: error };
  if (options.idempotent) return new TransientError(`${who} ${options.operation ?? "call"} ${what}`, context);
  return new UnknownOutcomeError(
    `${who} ${options.operation ?? "call"} ${what} after it may have been sent: look the order up by its client order id`,
    context,
  );
}

function brokerMessage(body: unknown): string | undefined {
  if (typeof body === "string") return body.trim().slice(0, 300) || undefined;
  if (!body || typeof body !== "object") return undefined;
  const record = body as Record<string, unknown>;
  for (const key of ["message", "error", "error_description", "detail"]) {
    const value = record[key];
    if (typeof value === "string" && value.trim()) return value.trim().slice(0, 300);
  }
  return undefined;
}

/** X-RateLimit-Reset as a Unix time in seconds (Alpaca's form), as milliseconds from now. */
function rateLimitReset(headers: Headers, nowMs = Date.now()): number | undefined {
  const value = headers.get("x-ratelimit-reset");
  if (!value || !/^\d+$/.test(value.trim())) return undefined;
  return Math.max(0, Number(value) * 1000 - nowMs);
}
