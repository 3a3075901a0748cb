import { describe, expect, it } from "vitest";
import { PUBLISHED_RATE_LIMITS, throttlePolicy } from "../../../shared/brokers/adapter";

describe("broker throttles", () => {
  it("Scenario: Each broker's throttle is half its published limit", () => {
    expect(throttlePolicy({ rateLimit: PUBLISHED_RATE_LIMITS.alpaca })).toEqual({ limit: 100, periodMs: 60_000 });
    expect(throttlePolicy({ rateLimit: PUBLISHED_RATE_LIMITS.schwab })).toEqual({ limit: 60, periodMs: 60_000 });
    expect(throttlePolicy({ rateLimit: PUBLISHED_RATE_LIMITS.ibkr })).toEqual({ limit: 5, periodMs: 1_000 });
  });
});
