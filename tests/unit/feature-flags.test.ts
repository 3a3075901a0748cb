import { describe, expect, it } from "vitest";
import { evaluateFlag, type FlagDefinition, fnv1a32, rolloutBucket } from "../../shared/flags";

const flag = (overrides: Partial<FlagDefinition> = {}): FlagDefinition => ({
  key: "new_dashboard",
  enabledByDefault: false,
  rolloutPercent: null,
  ...overrides,
});

const ids = (count: number) => Array.from({ length: count }, (_, i) => `community-${i}-${(i * 7919) % 10007}`);

describe("feature flag evaluation", () => {
  it("Scenario: A community override wins over rollout and default", () => {
    const rolledOut = flag({ enabledByDefault: true, rolloutPercent: 100 });
    expect(evaluateFlag({ flag: rolledOut, override: { enabled: false }, communityId: "c1" })).toEqual({
      enabled: false,
      reason: "override",
    });
    expect(evaluateFlag({ flag: flag(), override: { enabled: true }, communityId: "c1" })).toEqual({
      enabled: true,
      reason: "override",
    });
  });

  it("Scenario: The global default applies without override or rollout", () => {
    expect(evaluateFlag({ flag: flag({ enabledByDefault: true }), override: null, communityId: "c1" })).toEqual({
      enabled: true,
      reason: "default",
    });
    expect(evaluateFlag({ flag: flag(), override: undefined, communityId: "c1" })).toEqual({
      enabled: false,
      reason: "default",
    });
  });

  it("Scenario: An unknown flag is disabled", () => {
    expect(evaluateFlag({ flag: null, override: { enabled: true }, communityId: "c1" })).toEqual({
      enabled: false,
      reason: "unknown_flag",
    });
  });

  it("Scenario: The rollout bucket is stable for a flag and community", () => {
    // FNV-1a 32-bit reference values, so every isolate and Node agree.
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    const bucket = rolloutBucket("new_dashboard", "c-42");
    expect(bucket).toBe(fnv1a32("new_dashboard:c-42") % 100);
    for (let i = 0; i < 5; i++) expect(rolloutBucket("new_dashboard", "c-42")).toBe(bucket);
    const spread = new Set(ids(200).map((id) => rolloutBucket("new_dashboard", id)));
    expect(spread.size).toBeGreaterThan(80);
  });

  it("Scenario: A percentage rollout enables roughly that share of communities", () => {
    const communities = ids(10_000);
    for (const percent of [1, 10, 25, 50, 90]) {
      const f = flag({ rolloutPercent: percent });
      const enabled = communities.filter(
        (communityId) => evaluateFlag({ flag: f, override: null, communityId }).enabled,
      );
      expect(Math.abs(enabled.length / communities.length - percent / 100)).toBeLessThanOrEqual(0.02);
    }
    const tenPercent = flag({ rolloutPercent: 10 });
    const twentyPercent = flag({ rolloutPercent: 20 });
    for (const communityId of communities.slice(0, 500)) {
      // Raising the percentage only ever adds communities.
      if (evaluateFlag({ flag: tenPercent, override: null, communityId }).enabled) {
        expect(evaluateFlag({ flag: twentyPercent, override: null, communityId }).enabled).toBe(true);
      }
    }
  });

  it("Scenario: Rollout at 0% and 100% is none and all", () => {
    for (const communityId of ids(1_000)) {
      expect(
        evaluateFlag({ flag: flag({ rolloutPercent: 0, enabledByDefault: true }), override: null, communityId }),
      ).toEqual({
        enabled: false,
        reason: "rollout",
      });
      expect(evaluateFlag({ flag: flag({ rolloutPercent: 100 }), override: null, communityId })).toEqual({
        enabled: true,
        reason: "rollout",
      });
    }
  });
});
