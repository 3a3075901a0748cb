import { describe, expect, it } from "vitest";
import { Logger, REDACTED, redact } from "../../shared/logging";

function capture() {
  const lines: string[] = [];
  const logger = new Logger({ requestId: "req-1" }, (line) => lines.push(line));
  return { logger, lines, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe("structured logging", () => {
  it("Scenario: One JSON object per event with the request context", () => {
    const { logger, entries } = capture();
    logger.child({ communityId: "c1", userId: "u1" }).info("request", { route: "/health", status: 200, durationMs: 3 });
    expect(entries()).toEqual([
      expect.objectContaining({
        level: "info",
        msg: "request",
        requestId: "req-1",
        communityId: "c1",
        userId: "u1",
        route: "/health",
        status: 200,
        durationMs: 3,
      }),
    ]);
  });

  it("Scenario: Secrets are redacted by key name", () => {
    const { logger, lines } = capture();
    logger.warn("oauth", {
      accessToken: "tok-123",
      refresh_token: "tok-456",
      clientSecret: "s3cr3t",
      headers: { Authorization: "Bearer abc", "x-signature-ed25519": "sig" },
      password: "hunter2",
      code: "oauth-code",
      nested: [{ apiKey: "k-1", symbol: "AAPL" }],
    });
    const text = lines.join("\n");
    for (const secret of ["tok-123", "tok-456", "s3cr3t", "Bearer abc", "hunter2", "oauth-code", "k-1", '"sig"']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain("AAPL");
    expect(text).toContain(REDACTED);
  });

  it("Scenario: Errors are logged as name and message", () => {
    expect(redact({ error: new TypeError("boom") })).toEqual({ error: { name: "TypeError", message: "boom" } });
  });
});
