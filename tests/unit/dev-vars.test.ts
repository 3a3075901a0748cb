import { describe, expect, it } from "vitest";
import { devVarsProblems, freshLocalSecrets } from "../../scripts/lib/dev-vars.ts";
import { loadConfig } from "../../shared/config";

describe("npm start's generated vars", () => {
  it("Scenario: A fresh machine's generated vars satisfy the Worker's config", () => {
    const { vars } = freshLocalSecrets(8787);
    expect(vars.PUBLIC_BASE_URL).toBe("http://localhost:8787");
    expect(vars.ENVIRONMENT).toBe("development");
    expect(devVarsProblems(vars, { complete: true })).toEqual([]);
    const keptHttp = loadConfig({ ...vars, ENVIRONMENT: "production", QUOTE_FEED: "live" });
    expect(keptHttp.ok ? [] : keptHttp.problems).toEqual([
      { variable: "PUBLIC_BASE_URL", problem: "must be an https: URL in production" },
    ]);
  });
});
