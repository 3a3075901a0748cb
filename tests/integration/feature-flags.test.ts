import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../platform/db/client";
import { featureFlagDefinitions } from "../../platform/db/feature-flags";
import { rolloutBucket } from "../../shared/flags";
import { newCommunity } from "../support/communities";

const db = database(env.DB);
const definitions = featureFlagDefinitions(db);

const newFlagKey = () => `flag_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;

describe("feature flags (D1)", () => {
  it("Scenario: A defined flag follows its global default", async () => {
    const key = newFlagKey();
    const tenant = (await newCommunity({ name: "Flags" })).tenant;
    expect(await tenant.flags.evaluate(key)).toEqual({ enabled: false, reason: "unknown_flag" });

    const defined = await definitions.define({ key, description: "New dashboard", enabledByDefault: true });
    expect(defined).toMatchObject({ key, enabledByDefault: true, rolloutPercent: null });
    expect(await tenant.flags.evaluate(key)).toEqual({ enabled: true, reason: "default" });

    await definitions.define({ key, enabledByDefault: false });
    expect(await tenant.flags.isEnabled(key)).toBe(false);
    expect((await definitions.get(key))?.description).toBe("");
    expect((await definitions.list()).map((flag) => flag.key)).toContain(key);
  });

  it("Scenario: A community override is set, audited and cleared", async () => {
    const key = newFlagKey();
    await definitions.define({ key, enabledByDefault: false, rolloutPercent: 100 });
    const tenant = (await newCommunity({ name: "Flags" })).tenant;
    const other = (await newCommunity({ name: "Flags" })).tenant;
    expect(await tenant.flags.evaluate(key)).toEqual({ enabled: true, reason: "rollout" });

    await tenant.flags.setOverride(key, false, "u-admin");
    expect(await tenant.flags.evaluate(key)).toEqual({ enabled: false, reason: "override" });
    expect(await other.flags.evaluate(key)).toEqual({ enabled: true, reason: "rollout" });

    expect(await tenant.flags.clearOverride(key, "u-admin")).toBe(true);
    expect(await tenant.flags.evaluate(key)).toEqual({ enabled: true, reason: "rollout" });

    const events = (await tenant.audit.list()).map((entry) => [entry.event, entry.target, entry.data]);
    expect(events.slice(1)).toEqual([
      ["flags.override_set", key, { flag: key, enabled: false }],
      ["flags.override_cleared", key, { flag: key }],
    ]);
    expect(await tenant.audit.verify()).toMatchObject({ ok: true, count: 3 });
  });

  it("Scenario: Overriding an undefined flag is refused", async () => {
    const tenant = (await newCommunity({ name: "Flags" })).tenant;
    await expect(tenant.flags.setOverride(newFlagKey(), true)).rejects.toMatchObject({ code: "FLAG_NOT_FOUND" });
    await expect(definitions.define({ key: newFlagKey(), rolloutPercent: 101 })).rejects.toMatchObject({ status: 400 });
    await expect(definitions.define({ key: "Bad Key" })).rejects.toMatchObject({ status: 400 });
  });

  it("Scenario: A percentage rollout is decided by the community's bucket", async () => {
    const key = newFlagKey();
    await definitions.define({ key, rolloutPercent: 30 });
    const tenants = await Promise.all(
      Array.from({ length: 20 }, async () => (await newCommunity({ name: "Flags" })).tenant),
    );
    for (const tenant of tenants) {
      const expected = rolloutBucket(key, tenant.communityId) < 30;
      expect(await tenant.flags.evaluate(key)).toEqual({ enabled: expected, reason: "rollout" });
    }
  });
});
