import { describe, expect, it } from "vitest";
import {
  type AppError,
  ConfigInvalidError,
  ConflictError,
  ForbiddenError,
  InternalError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  ServiceUnavailableError,
  toAppError,
  UnauthorizedError,
  UnprocessableError,
  UnsupportedMediaTypeError,
  UpstreamError,
  ValidationError,
} from "../../shared/errors";

describe("error hierarchy", () => {
  it("Scenario: Each error class maps to its status code", () => {
    const cases: Array<[AppError, number, string]> = [
      [new ValidationError("bad"), 400, "VALIDATION_FAILED"],
      [new UnauthorizedError(), 401, "UNAUTHORIZED"],
      [new ForbiddenError(), 403, "FORBIDDEN"],
      [new NotFoundError(), 404, "NOT_FOUND"],
      [new MethodNotAllowedError("PUT", ["GET"]), 405, "METHOD_NOT_ALLOWED"],
      [new ConflictError("dup"), 409, "CONFLICT"],
      [new PayloadTooLargeError(10), 413, "PAYLOAD_TOO_LARGE"],
      [new UnsupportedMediaTypeError("application/json", "text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE"],
      [new UnprocessableError("nope"), 422, "UNPROCESSABLE"],
      [new RateLimitedError(1500), 429, "RATE_LIMITED"],
      [new UpstreamError("Discord"), 502, "UPSTREAM_FAILED"],
      [new ServiceUnavailableError("down"), 503, "SERVICE_UNAVAILABLE"],
      [new ConfigInvalidError(["OPS_TOKEN"]), 503, "CONFIG_INVALID"],
      [new InternalError(), 500, "INTERNAL_ERROR"],
    ];
    for (const [error, status, code] of cases) {
      expect([error.status, error.code]).toEqual([status, code]);
    }
  });

  it("Scenario: Rate limited errors carry Retry-After in whole seconds", () => {
    expect(new RateLimitedError(1500).headers["retry-after"]).toBe("2");
    expect(new RateLimitedError(10).headers["retry-after"]).toBe("1");
  });

  it("Scenario: The error body has code, message, requestId and optional details", () => {
    expect(new ValidationError("bad", { details: [{ path: "a" }] }).toBody("r1")).toEqual({
      error: { code: "VALIDATION_FAILED", message: "bad", requestId: "r1", details: [{ path: "a" }] },
    });
    expect(new NotFoundError().toBody("r2")).toEqual({
      error: { code: "NOT_FOUND", message: "Not found.", requestId: "r2" },
    });
  });

  it("Scenario: An unknown throw becomes an internal error without its message", () => {
    const error = toAppError(new Error("db password is hunter2"));
    expect(error.status).toBe(500);
    expect(JSON.stringify(error.toBody("r"))).not.toContain("hunter2");
  });
});
