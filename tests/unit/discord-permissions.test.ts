import { describe, expect, it } from "vitest";
import { isAdmin, isProvider, type MemberFacts } from "../../shared/discord/permissions";
import { discordSettingsOf } from "../../shared/discord/settings";
import { authorize } from "../../workers/discord/permissions";

const ADMINISTRATOR = String(1n << 3n);
const MANAGE_GUILD = String(1n << 5n);
/** VIEW_CHANNEL | SEND_MESSAGES | USE_APPLICATION_COMMANDS and a high bit (BigInt-sized bit sets). */
const ORDINARY = String((1n << 10n) | (1n << 11n) | (1n << 31n) | (1n << 46n));
const settings = discordSettingsOf({ providerRoleIds: ["300000000000000001"] });

const facts = (overrides: Partial<MemberFacts> = {}): MemberFacts => ({
  discordRoles: [],
  permissions: ORDINARY,
  role: "trader",
  namedProvider: false,
  ...overrides,
});

describe("permissions", () => {
  it("Scenario: Admin rights come from the live Discord permissions only", () => {
    expect(isAdmin(facts({ permissions: ADMINISTRATOR }))).toBe(true);
    expect(isAdmin(facts({ permissions: MANAGE_GUILD }))).toBe(true);
    expect(isAdmin(facts({ permissions: String(BigInt(ORDINARY) | BigInt(MANAGE_GUILD)) }))).toBe(true);
    for (const role of ["owner", "admin", "provider", "trader", "viewer", null] as const) {
      expect(isAdmin(facts({ role })), String(role)).toBe(false);
      expect(authorize("admin", facts({ role }), settings).ok, String(role)).toBe(false);
    }
    for (const permissions of ["0", "", "not-a-number", "-8", String(1n << 4n)]) {
      expect(isAdmin(facts({ permissions, role: "owner" })), permissions).toBe(false);
    }
  });

  it("Scenario: Provider rights come from Discord, a name or an explicit grant", () => {
    expect(isProvider(facts({ permissions: MANAGE_GUILD }), settings)).toBe(true);
    expect(isProvider(facts({ discordRoles: ["300000000000000001"] }), settings)).toBe(true);
    expect(isProvider(facts({ namedProvider: true }), settings)).toBe(true);
    expect(isProvider(facts({ role: "provider" }), settings)).toBe(true);
    // A stored owner or admin role without the Discord permission grants nothing.
    expect(isProvider(facts({ role: "owner" }), settings)).toBe(false);
    expect(isProvider(facts({ role: "admin" }), settings)).toBe(false);
    expect(isProvider(facts({ discordRoles: ["300000000000000002"] }), settings)).toBe(false);
    expect(authorize("member", facts({ role: null }), settings).ok).toBe(true);
  });
});
