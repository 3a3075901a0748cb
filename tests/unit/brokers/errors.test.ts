import { afterEach, describe, expect, it, vi } from "vitest";
import {
  classifyException,
  classifyHttpError,
  PermanentError,
  parseRetryAfter,
  TransientError,
  UnknownOutcomeError,
} from "../../../shared/brokers/errors";
import { fetchWithTimeout, requestJson } from "../../../shared/brokers/http";

const NOW = Date.parse("2026-10-21T07:27:00Z");
const read = { broker: "alpaca", operation: "getOrder", idempotent: true, nowMs: NOW };
const write = { broker: "alpaca", operation: "placeOrder", idempotent: false, nowMs: NOW };

function alpacaError(status: number, code: number, message: string, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify({ code, message }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** A fetch that never answers until its signal aborts, like a broker that stopped responding. */
function hangingFetch() {
  return vi.spyOn(globalThis, "fetch").mockImplementation(
    (_input, init) =>
      new Promise<Response>((_resolve, reject) => {
        const signal = init?.signal;
        signal?.addEventListener("abort", () => reject(signal.reason));
      }),
  );
}

afterEach(() => vi.restoreAllMocks());

describe("broker error classification", () => {
  it("Scenario: Server errors, timeouts of reads and rate limits are transient", async () => {
    for (const status of [500, 503, 408]) {
      const error = classifyHttpError(status, new Headers(), { message: "internal server error" }, read);
      expect(error).toBeInstanceOf(TransientError);
      expect(error.kind).toBe("transient");
      expect(error.httpStatus).toBe(status);
    }

    const seconds = classifyHttpError(
      429,
      new Headers({ "retry-after": "7" }),
      { message: "too many requests" },
      write,
    );
    expect(seconds).toBeInstanceOf(TransientError);
    expect((seconds as TransientError).retryAfterMs).toBe(7_000);
    expect(seconds.headers["retry-after"]).toBe("7");

    const date = classifyHttpError(
      429,
      new Headers({ "retry-after": "Wed, 21 Oct 2026 07:28:00 GMT" }),
      "rate limit exceeded",
      write,
    );
    expect((date as TransientError).retryAfterMs).toBe(60_000);

    hangingFetch();
    const timedOut = await fetchWithTimeout(
      "https://broker.test/v2/orders/1",
      { method: "GET" },
      { ...read, timeoutMs: 20 },
    )
      .then(() => null)
      .catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(TransientError);
  });

  it("Scenario: A timeout after sending an order is an unknown outcome", async () => {
    hangingFetch();
    const timedOut = await fetchWithTimeout(
      "https://broker.test/v2/orders",
      { method: "POST", body: "{}" },
      {
        ...write,
        timeoutMs: 20,
      },
    ).catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(UnknownOutcomeError);
    expect((timedOut as UnknownOutcomeError).kind).toBe("unknown_outcome");
    expect((timedOut as Error).message).toContain("client order id");

    const dropped = classifyException(new TypeError("Network connection lost."), write);
    expect(dropped).toBeInstanceOf(UnknownOutcomeError);
    // The same loss on a read is only worth a retry.
    expect(classifyException(new TypeError("Network connection lost."), read)).toBeInstanceOf(TransientError);
  });

  it("Scenario: Client errors map to permanent reasons", async () => {
    const cases: Array<[Response, string]> = [
      [new Response(JSON.stringify({ message: "unauthorized." }), { status: 401 }), "auth_failed"],
      [alpacaError(403, 40310000, "insufficient buying power"), "insufficient_funds"],
      [alpacaError(404, 40410000, "order not found"), "order_not_found"],
      [alpacaError(422, 40010001, 'asset "ZZZZ" not found'), "invalid_symbol"],
      [alpacaError(422, 40010001, "client_order_id must be unique"), "duplicate_client_order_id"],
    ];
    for (const [response, reason] of cases) {
      vi.spyOn(globalThis, "fetch").mockResolvedValueOnce(response);
      const error = await requestJson("https://broker.test/v2/orders", { method: "POST" }, write).catch((e) => e);
      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).reason).toBe(reason);
      expect((error as PermanentError).code).toBe(`BROKER_${reason.toUpperCase()}`);
    }
  });

  it("falls back to the status when the wording is unknown, and lets a broker refine the reason", () => {
    const restricted = classifyHttpError(403, new Headers(), { message: "forbidden" }, read);
    expect((restricted as PermanentError).reason).toBe("account_restricted");
    const other = classifyHttpError(400, new Headers(), "bad request", read);
    expect((other as PermanentError).reason).toBe("invalid_order");
    const mapped = classifyHttpError(
      403,
      new Headers(),
      { message: "potential wash trade detected" },
      {
        ...read,
        mapReason: () => "invalid_order",
      },
    );
    expect((mapped as PermanentError).reason).toBe("invalid_order");
  });

  it("parses Retry-After as seconds or an HTTP date, and ignores garbage", () => {
    expect(parseRetryAfter("120", NOW)).toBe(120_000);
    expect(parseRetryAfter("Wed, 21 Oct 2026 07:27:30 GMT", NOW)).toBe(30_000);
    expect(parseRetryAfter("Wed, 21 Oct 2026 07:00:00 GMT", NOW)).toBe(0);
    expect(parseRetryAfter("soon", NOW)).toBeUndefined();
    expect(parseRetryAfter("-5", NOW)).toBeUndefined();
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
  });

  it("uses X-RateLimit-Reset when a 429 has no Retry-After", () => {
    const reset = String(Math.floor(NOW / 1000) + 12);
    const error = classifyHttpError(429, new Headers({ "x-ratelimit-reset": reset }), null, read);
    expect((error as TransientError).retryAfterMs).toBe(12_000);
  });

  it("treats an unparseable success body of an order placement as an unknown outcome", async () => {
    vi.spyOn(globalThis, "fetch").mockResolvedValueOnce(new Response("<html>gateway</html>", { status: 200 }));
    const error = await requestJson("https://broker.test/v2/orders", { method: "POST" }, write).catch((e) => e);
    expect(error).toBeInstanceOf(UnknownOutcomeError);
  });
});
