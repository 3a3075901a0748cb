import { describe, expect, it } from "vitest";
import { loadConfig } from "../../shared/config";
import { TEST_VARS } from "../support/test-vars";

// Tests run on the deterministic quote feed, which production refuses.
const production = {
  ...TEST_VARS,
  ENVIRONMENT: "production",
  PUBLIC_BASE_URL: "https://trade.example.com",
  QUOTE_FEED: "live",
};

describe("configuration", () => {
  it("Scenario: Valid production configuration", () => {
    const result = loadConfig(production);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.ENVIRONMENT).toBe("production");
    expect(result.config.MASTER_KEY_ID).toBe("test-1");
  });

  it("Scenario: Outbound base URLs default to the real services", () => {
    const result = loadConfig(production);
    if (!result.ok) throw new Error("expected a valid config");
    expect(result.config.DISCORD_API_BASE).toBe("https://discord.com/api/v10");
    expect(result.config.STRIPE_API_BASE).toBe("https://api.stripe.com");
    expect(result.config.POLAR_API_BASE).toBe("https://api.polar.sh");
    expect(result.config.ALPACA_PAPER_API_BASE).toBe("https://paper-api.alpaca.markets");
  });

  it("Scenario: An outbound base URL can point at a local fake", () => {
    const result = loadConfig({
      ...production,
      ENVIRONMENT: "development",
      DISCORD_API_BASE: "http://127.0.0.1:9999/api/v10",
    });
    if (!result.ok) throw new Error("expected a valid config");
    expect(result.config.DISCORD_API_BASE).toBe("http://127.0.0.1:9999/api/v10");
  });

  it("Scenario: Production refuses to run without a required secret", () => {
    const { OPS_TOKEN: _ops, SESSION_SECRET: _session, ...rest } = production;
    const result = loadConfig(rest);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      { variable: "SESSION_SECRET", problem: "missing" },
      { variable: "OPS_TOKEN", problem: "missing" },
    ]);
  });

  it("Scenario: Production requires https for the public URL and every outbound base", () => {
    const result = loadConfig({
      ...production,
      PUBLIC_BASE_URL: "http://trade.example.com",
      DISCORD_API_BASE: "http://127.0.0.1:9999/api/v10",
      STRIPE_API_BASE: "HTTP://api.stripe.test",
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      { variable: "PUBLIC_BASE_URL", problem: "must be an https: URL in production" },
      { variable: "DISCORD_API_BASE", problem: "must be an https: URL in production" },
      { variable: "STRIPE_API_BASE", problem: "must be an https: URL in production" },
    ]);
    const development = loadConfig({
      ...production,
      ENVIRONMENT: "development",
      PUBLIC_BASE_URL: "http://localhost:8787",
    });
    expect(development.ok).toBe(true);
  });

  it("Scenario: Every configuration problem is reported at once", () => {
    const { OPS_TOKEN: _ops, SESSION_SECRET: _session, ...rest } = production;
    const result = loadConfig({
      ...rest,
      MASTER_KEY: "not-base64-SECRETVALUE",
      PUBLIC_BASE_URL: "http://trade.example.com",
      ALPACA_API_BASE: "not a url",
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.fromEntries(result.problems.map((p) => [p.variable, p.problem]))).toEqual({
      MASTER_KEY: "must be the base64 encoding of exactly 32 bytes",
      ALPACA_API_BASE: expect.stringMatching(/url/i),
      PUBLIC_BASE_URL: "must be an https: URL in production",
      SESSION_SECRET: "missing",
      OPS_TOKEN: "missing",
    });
    expect(JSON.stringify(result.problems)).not.toContain("SECRETVALUE");
  });

  it("Scenario: OPS_TOKEN may list several tokens for rotation", () => {
    const next = "next-ops-token-0123456789abcdef0123456789";
    const result = loadConfig({ ...production, OPS_TOKEN: ` ${next} , ${TEST_VARS.OPS_TOKEN} ` });
    expect(result.ok && result.config.OPS_TOKEN).toEqual([next, TEST_VARS.OPS_TOKEN]);
    const short = loadConfig({ ...production, OPS_TOKEN: `${next},short-SECRETVALUE` });
    expect(short.ok).toBe(false);
    if (short.ok) return;
    expect(short.problems.map((p) => p.variable)).toEqual(["OPS_TOKEN"]);
    expect(JSON.stringify(short.problems)).not.toContain("SECRETVALUE");
    expect(loadConfig({ ...production, OPS_TOKEN: `${next},,` }).ok).toBe(false);
  });

  it("Scenario: Production requires the selected billing provider's secrets", () => {
    const result = loadConfig({ ...production, BILLING_PROVIDER: "polar" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.variable)).toEqual(["POLAR_ACCESS_TOKEN", "POLAR_WEBHOOK_SECRET"]);
  });

  it("Scenario: A malformed secret is named but its value never appears", () => {
    const badKey = "not-base64-of-32-bytes-SECRETVALUE";
    const result = loadConfig({ ...production, MASTER_KEY: badKey, DISCORD_PUBLIC_KEY: "xyz" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.variable).sort()).toEqual(["DISCORD_PUBLIC_KEY", "MASTER_KEY"]);
    expect(JSON.stringify(result.problems)).not.toContain("SECRETVALUE");
  });

  it("Scenario: Development allows missing secrets but not malformed ones", () => {
    expect(loadConfig({ ENVIRONMENT: "development" }).ok).toBe(true);
    const result = loadConfig({ ENVIRONMENT: "development", OPS_TOKEN: "short" });
    expect(result.ok).toBe(false);
  });

  it("Scenario: An unknown environment is refused", () => {
    const result = loadConfig({ ...production, ENVIRONMENT: "staging" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]?.variable).toBe("ENVIRONMENT");
  });

  it("Scenario: Retired master keys are a JSON map of id to key", () => {
    const retired = JSON.stringify({ "old-1": TEST_VARS.MASTER_KEY });
    const ok = loadConfig({ ...production, MASTER_KEYS_RETIRED: retired });
    expect(ok.ok && ok.config.MASTER_KEYS_RETIRED).toEqual({ "old-1": TEST_VARS.MASTER_KEY });
    expect(loadConfig({ ...production, MASTER_KEYS_RETIRED: "{not json" }).ok).toBe(false);
    expect(loadConfig({ ...production, MASTER_KEYS_RETIRED: JSON.stringify({ a: "short" }) }).ok).toBe(false);
  });

  it("Scenario: An empty variable counts as missing", () => {
    const result = loadConfig({ ...production, OPS_TOKEN: "  " });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([{ variable: "OPS_TOKEN", problem: "missing" }]);
  });

  it("Scenario: The error tracker's DSN is optional, well formed, and https in production", () => {
    expect(loadConfig(production).ok).toBe(true);
    const dsn = "https://0123456789abcdef@o1.ingest.sentry.io/42";
    expect(loadConfig({ ...production, SENTRY_DSN: dsn })).toMatchObject({ ok: true, config: { SENTRY_DSN: dsn } });
    const http = loadConfig({ ...production, SENTRY_DSN: "http://key@sentry.internal/42" });
    expect(http).toEqual({
      ok: false,
      problems: [{ variable: "SENTRY_DSN", problem: "must be an https: URL in production" }],
    });
    expect(loadConfig({ ...TEST_VARS, SENTRY_DSN: "http://key@127.0.0.1:9000/42" }).ok).toBe(true);
    for (const malformed of ["not a url", "https://sentry.io/42", "https://key@sentry.io/project"]) {
      const result = loadConfig({ ...production, SENTRY_DSN: malformed });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problems.map((p) => p.variable)).toEqual(["SENTRY_DSN"]);
    }
  });
});
