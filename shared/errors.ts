/**
 * Every error the product answers with is an AppError: a status, a stable
 * SNAKE_CASE code and a message that is safe to show to the caller.
 */

/**
 * Every `error.code` the product answers with, in one list: `AppError` accepts nothing else, and the OpenAPI document
 * lists them as the enum of the error body's `code` (`workers/http/schemas.ts`). A new code is added here first.
 */
export const ERROR_CODES = [
  // 400
  "VALIDATION_FAILED",
  "INVALID_JSON",
  "INVALID_INTERACTION",
  "HTTP_ERROR",
  "PLAN_NOT_AVAILABLE",
  "PAYMENT_ID_INVALID",
  "UNRECOGNIZED_BODY",
  "OAUTH_STATE_INVALID",
  "MFA_CODE_INVALID",
  // 401
  "UNAUTHORIZED",
  "INVALID_TOKEN",
  "MISSING_SIGNATURE",
  "INVALID_SIGNATURE",
  "STALE_TIMESTAMP",
  "WEBHOOK_SIGNATURE_INVALID",
  "WEBHOOK_TIMESTAMP_STALE",
  "BILLING_LINK_INVALID",
  "BILLING_LINK_EXPIRED",
  "SESSION_REQUIRED",
  "SESSION_EXPIRED",
  "SESSION_INVALID",
  // 403
  "FORBIDDEN",
  "HANDOFF_INVALID",
  "SIGN_IN_DENIED",
  "CSRF_REJECTED",
  "ROLE_ABOVE_OWN",
  "MFA_REQUIRED",
  "STEP_UP_REQUIRED",
  // 404
  "NOT_FOUND",
  "ROUTE_NOT_FOUND",
  "COMMUNITY_NOT_FOUND",
  "USER_NOT_FOUND",
  "SIGNAL_NOT_FOUND",
  "FLAG_NOT_FOUND",
  "DEAD_LETTER_NOT_FOUND",
  "PAYMENT_NOT_FOUND",
  "NO_BILLING_ACCOUNT",
  "SIGNAL_WEBHOOK_NOT_FOUND",
  "MEMBER_NOT_FOUND",
  "BROKER_CONNECTION_NOT_FOUND",
  "PLAN_GRANT_NOT_FOUND",
  // 405
  "METHOD_NOT_ALLOWED",
  // 409
  "CONFLICT",
  "SUBSCRIPTION_EXISTS",
  "ALREADY_REFUNDED",
  "PAYMENT_NOT_PAID",
  "ALREADY_REPLAYED",
  "NOT_REPLAYABLE",
  "QUEUE_NOT_REPLAYABLE",
  "MEMBERSHIP_CONFLICT",
  "AUDIT_APPEND_CONFLICT",
  "ILLEGAL_ORDER_TRANSITION",
  "GATEWAY_DISABLED",
  "SIGNAL_WEBHOOK_EXISTS",
  "LAST_OWNER",
  "ALREADY_OWNER",
  "MEMBER_NOT_SUSPENDED",
  "MFA_NOT_ENROLLED",
  "MFA_ALREADY_ENROLLED",
  "SUBSCRIPTION_ACTIVE",
  "BROKER_CONNECTION_BUSY",
  // 410
  "BILLING_LINK_USED",
  "SIGN_IN_LINK_INVALID",
  // 413, 415
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  // 422, 426
  "UNPROCESSABLE",
  "SIGNAL_INVALID",
  "REFUND_TOO_LARGE",
  "WEBHOOK_PAYLOAD_UNSUPPORTED",
  "SIGNAL_EXPIRED",
  "MANAGEMENT_REFUSED",
  "NOT_A_PROVIDER",
  "OWNER_BY_TRANSFER_ONLY",
  "UPGRADE_REQUIRED",
  // 429
  "RATE_LIMITED",
  "TOO_MANY_CONNECTIONS",
  "MFA_LOCKED",
  // 500, 501, 502
  "INTERNAL_ERROR",
  "NOT_IMPLEMENTED",
  "UPSTREAM_FAILED",
  "DISCORD_SIGN_IN_FAILED",
  // 503
  "SERVICE_UNAVAILABLE",
  "CONFIG_INVALID",
  "FEATURE_NOT_CONFIGURED",
  "RATE_LIMITER_UNAVAILABLE",
  "AUDIT_UNAVAILABLE",
  "QUEUE_UNAVAILABLE",
  "EXECUTOR_UNAVAILABLE",
  "SIGNING_SECRET_UNAVAILABLE",
  "DATA_KEY_EXPIRED",
  "REALTIME_UNAVAILABLE",
  "REALTIME_FULL",
  // A broker's answer (shared/brokers/errors.ts), should one reach a response
  "BROKER_UNAVAILABLE",
  "BROKER_OUTCOME_UNKNOWN",
  "BROKER_INSUFFICIENT_FUNDS",
  "BROKER_INSUFFICIENT_POSITION",
  "BROKER_INVALID_SYMBOL",
  "BROKER_MARKET_CLOSED",
  "BROKER_AUTH_FAILED",
  "BROKER_ORDER_NOT_FOUND",
  "BROKER_ORDER_NOT_CANCELABLE",
  "BROKER_DUPLICATE_CLIENT_ORDER_ID",
  "BROKER_UNSUPPORTED",
  "BROKER_INVALID_ORDER",
  "BROKER_ACCOUNT_RESTRICTED",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetail {
  [key: string]: unknown;
}

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    requestId: string;
    details?: ErrorDetail[];
  };
}

export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details?: ErrorDetail[];
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    options: { details?: ErrorDetail[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  toBody(requestId: string): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        requestId,
        ...(this.details && this.details.length > 0 ? { details: this.details } : {}),
      },
    };
  }
}

type Options = { details?: ErrorDetail[]; cause?: unknown };
type CodeOption = { code?: ErrorCode };

export class ValidationError extends AppError {
  constructor(message: string, options: Options & CodeOption = {}) {
    super(400, options.code ?? "VALIDATION_FAILED", message, options);
  }
}

export class InvalidJsonError extends AppError {
  constructor(parserMessage: string) {
    super(400, "INVALID_JSON", `Malformed JSON body: ${parserMessage}`);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = "Authentication is required.", code: ErrorCode = "UNAUTHORIZED") {
    super(401, code, message, { headers: { "www-authenticate": "Bearer" } });
  }
}

export class ForbiddenError extends AppError {
  constructor(message = "You are not allowed to do this.", code: ErrorCode = "FORBIDDEN") {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = "Not found.", code: ErrorCode = "NOT_FOUND") {
    super(404, code, message);
  }
}

export class MethodNotAllowedError extends AppError {
  constructor(method: string, allowed: string[]) {
    super(405, "METHOD_NOT_ALLOWED", `${method} is not allowed here. Allowed: ${allowed.join(", ")}.`, {
      headers: { allow: allowed.join(", ") },
    });
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code: ErrorCode = "CONFLICT") {
    super(409, code, message);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(413, "PAYLOAD_TOO_LARGE", `The request body is larger than the ${limitBytes}-byte limit of this route.`);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(expected: string, received: string | undefined) {
    super(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      `Expected content-type ${expected}, received ${received ? received : "none"}.`,
    );
  }
}

export class UnprocessableError extends AppError {
  constructor(message: string, options: Options & CodeOption = {}) {
    super(422, options.code ?? "UNPROCESSABLE", message, options);
  }
}

export class RateLimitedError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterMs: number, message = "Too many requests. Try again later.") {
    const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super(429, "RATE_LIMITED", message, { headers: { "retry-after": String(retryAfterSeconds) } });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class InternalError extends AppError {
  constructor(cause?: unknown) {
    super(500, "INTERNAL_ERROR", "An unexpected error occurred. Quote the request id when reporting it.", {
      cause,
    });
  }
}

export class NotImplementedError extends AppError {
  constructor(feature: string) {
    super(501, "NOT_IMPLEMENTED", `${feature} is not implemented yet.`);
  }
}

export class UpstreamError extends AppError {
  constructor(service: string, message?: string, cause?: unknown) {
    super(502, "UPSTREAM_FAILED", message ?? `${service} answered with an error.`, { cause });
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(
    message: string,
    code: ErrorCode = "SERVICE_UNAVAILABLE",
    options: Options & { retryAfterSeconds?: number } = {},
  ) {
    super(503, code, message, {
      ...options,
      headers: options.retryAfterSeconds ? { "retry-after": String(options.retryAfterSeconds) } : undefined,
    });
  }
}

export class ConfigInvalidError extends ServiceUnavailableError {
  constructor(variables: string[]) {
    super(
      `The service is misconfigured: ${variables.join(", ")} missing or invalid. An operator must fix the configuration.`,
      "CONFIG_INVALID",
      { details: variables.map((variable) => ({ variable })) },
    );
  }
}

/** Anything thrown becomes an AppError; unknown throws become a 500 with no internals exposed. */
export function toAppError(error: unknown): AppError {
  return error instanceof AppError ? error : new InternalError(error);
}
