import { describe, expect, it } from "vitest";
import { isProvider, type MemberFacts, memberMay, rolesOf } from "../../shared/discord/permissions";
import { discordSettingsOf } from "../../shared/discord/settings";
import { ACTIONS, ROLE_MATRIX } from "../../shared/rbac/matrix";
import { authorize, whoMayInWords } from "../../workers/discord/permissions";

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
  it("Scenario: Discord's live permissions add admin rights to the stored role", () => {
    for (const permissions of [ADMINISTRATOR, MANAGE_GUILD, String(BigInt(ORDINARY) | BigInt(MANAGE_GUILD))]) {
      expect(rolesOf(facts({ permissions }), settings)).toContain("admin");
      expect(authorize("killswitch.set", facts({ permissions }), settings).ok).toBe(true);
    }
    // Stored grants count as they are: owner and admin may halt, nobody below them.
    for (const role of ["owner", "admin"] as const) {
      expect(authorize("killswitch.set", facts({ role }), settings).ok, role).toBe(true);
    }
    for (const role of ["moderator", "provider", "trader", "viewer", null] as const) {
      const refused = authorize("killswitch.set", facts({ role }), settings);
      expect(refused, String(role)).toEqual({ ok: false, message: expect.stringMatching(/^Only server admins/) });
    }
    // A malformed or ordinary permission set grants nothing on top of the stored role.
    for (const permissions of ["0", "", "not-a-number", "-8", String(1n << 4n)]) {
      expect(rolesOf(facts({ permissions }), settings), permissions).toEqual(["trader"]);
    }
    // The guild's owner, where known, is an owner; a member with no membership yet is a trader.
    expect(rolesOf(facts({ role: null, guildOwner: true }), settings)).toEqual(["trader", "owner"]);
    expect(memberMay(facts({ role: null, guildOwner: true }), settings, "ownership.transfer")).toBe(true);
  });

  it("Scenario: Provider rights come from Discord, a name or an explicit grant", () => {
    expect(isProvider(facts({ permissions: MANAGE_GUILD }), settings)).toBe(true);
    expect(isProvider(facts({ discordRoles: ["300000000000000001"] }), settings)).toBe(true);
    expect(isProvider(facts({ namedProvider: true }), settings)).toBe(true);
    expect(isProvider(facts({ role: "provider" }), settings)).toBe(true);
    expect(isProvider(facts({ role: "owner" }), settings)).toBe(true);
    expect(isProvider(facts({ role: "admin" }), settings)).toBe(true);
    // Moderators manage providers but post signals only when they are providers too.
    expect(isProvider(facts({ role: "moderator" }), settings)).toBe(false);
    expect(isProvider(facts({ role: "moderator", namedProvider: true }), settings)).toBe(true);
    expect(isProvider(facts({ discordRoles: ["300000000000000002"] }), settings)).toBe(false);
    expect(authorize("community.view", facts({ role: null }), settings).ok).toBe(true);
    expect(authorize("trading.own", facts({ role: "viewer" }), settings)).toEqual({
      ok: false,
      message: expect.stringContaining("viewer"),
    });
  });

  it("Scenario: A refusal names the roles the matrix grants", () => {
    const words = {
      owner: "the community's owner",
      admin: "server admins",
      moderator: "moderators",
    } as const;
    for (const action of ACTIONS) {
      const sentence = whoMayInWords(action);
      for (const [role, named] of Object.entries(words)) {
        if (action === "signals.post") continue;
        const granted = (ROLE_MATRIX[action] as readonly string[]).includes(role);
        expect(sentence.includes(named), `${action} ${role}`).toBe(granted);
      }
    }
    expect(whoMayInWords("member.suspend")).toBe(
      "Only server admins (Manage Server permission), moderators and the community's owner can do this",
    );
    expect(whoMayInWords("flags.manage")).toBe("Only the platform's operators can do this");
    expect(authorize("member.suspend", facts(), settings)).toEqual({
      ok: false,
      message:
        "Only server admins (Manage Server permission), moderators and the community's owner can do this; your role here is trader.",
    });
  });
});
