import { describe, expect, it } from "vitest";
import {
  ACCESS_SETTING_RETENTION_MS,
  accessSettingExpired,
  holdsAccessRole,
  rolesLost,
  sameRoles,
  standingRefusal,
} from "../../../shared/membership/standing";

const GUILD = "1100000000000000001";
const ACCESS = "1400000000000000011";
const PROVIDER = "1400000000000000022";
const OTHER = "1400000000000000033";
const rule = { guildId: GUILD, accessRoleId: ACCESS, accessRoleName: "VIP" };
const open = { guildId: GUILD, accessRoleId: null, accessRoleName: null };
const member = (overrides: Partial<Parameters<typeof standingRefusal>[1]> = {}) => ({
  suspendedAt: null,
  suspendedReason: null,
  discordRoleIds: [ACCESS],
  ...overrides,
});

describe("member standing", () => {
  it("Scenario: Standing refuses a suspended member before the access role", () => {
    const suspended = standingRefusal(rule, member({ suspendedAt: 1, suspendedReason: "spam", discordRoleIds: [] }));
    expect(suspended).toMatchObject({ kind: "skip", reason: "member_suspended" });
    expect(suspended?.message).toContain("spam");
    expect(suspended?.message).toContain("untouched");

    const without = standingRefusal(rule, member({ discordRoleIds: [OTHER] }));
    expect(without).toMatchObject({ reason: "access_role_missing" });
    expect(without?.message).toContain("**VIP**");
    expect(without?.message).toContain(`https://discord.com/channels/${GUILD}/role-subscriptions`);
    expect(standingRefusal(rule, member({ discordRoleIds: null }))).toMatchObject({ reason: "access_role_missing" });
    expect(standingRefusal({ ...rule, accessRoleName: null }, member({ discordRoleIds: [] }))?.message).toContain(
      "this server's access role",
    );

    expect(standingRefusal(rule, member())).toBeNull();
    expect(standingRefusal(open, member({ discordRoleIds: null }))).toBeNull();
    expect(standingRefusal(open, member({ suspendedAt: 5 }))).toMatchObject({ reason: "member_suspended" });
    expect(holdsAccessRole(open, null)).toBe(true);
  });

  it("Scenario: Role loss counts only what the change proves", () => {
    const settings = { accessRoleId: ACCESS, providerRoleIds: [PROVIDER] };
    expect(rolesLost([ACCESS, PROVIDER, OTHER], [OTHER], settings)).toEqual({ accessRole: true, providerRole: true });
    expect(rolesLost(null, [OTHER], settings)).toEqual({ accessRole: false, providerRole: false });
    expect(rolesLost([ACCESS], [ACCESS, PROVIDER], settings)).toEqual({ accessRole: false, providerRole: false });
    expect(rolesLost([PROVIDER], [], { accessRoleId: null, providerRoleIds: [PROVIDER] })).toEqual({
      accessRole: false,
      providerRole: true,
    });
    expect(sameRoles([ACCESS, OTHER], [OTHER, ACCESS])).toBe(true);
    expect(sameRoles(null, [])).toBe(false);
    expect(sameRoles([ACCESS], [OTHER])).toBe(false);
  });

  it("Scenario: The access setting expires 30 days after the bot left", () => {
    const now = Date.UTC(2026, 11, 2);
    expect(accessSettingExpired(now - ACCESS_SETTING_RETENTION_MS + 60 * 60 * 1000, now)).toBe(false);
    expect(accessSettingExpired(now - ACCESS_SETTING_RETENTION_MS, now)).toBe(true);
    expect(accessSettingExpired(null, now)).toBe(false);
  });
});
