import { describe, expect, it } from "vitest";
import { isGuildRoleEvent, readGuildRolesEvent } from "../../../shared/gateway/guild-roles";

const GUILD = "81384788765712384";
const OWNER = "80351110224678912";
const ROLE = "41771983423143936";

describe("guild role events, as the Gateway watcher reads them", () => {
  it("names the guild events it keeps and no others", () => {
    expect(isGuildRoleEvent("GUILD_ROLE_UPDATE")).toBe(true);
    expect(isGuildRoleEvent("MESSAGE_CREATE")).toBe(false);
  });

  it("takes GUILD_CREATE and GUILD_UPDATE as the whole picture of owner and role permissions", () => {
    const guild = { id: GUILD, owner_id: OWNER, roles: [{ id: ROLE, permissions: "32" }], name: "Traders" };
    for (const event of ["GUILD_CREATE", "GUILD_UPDATE"] as const) {
      expect(readGuildRolesEvent(event, guild)).toEqual({
        outcome: "change",
        change: { kind: "guild", guildId: GUILD, ownerId: OWNER, roles: { [ROLE]: "32" } },
      });
    }
  });

  it("ignores a guild that is only unavailable (an outage) and a GUILD_DELETE that says so", () => {
    expect(readGuildRolesEvent("GUILD_CREATE", { id: GUILD, unavailable: true })).toEqual({ outcome: "ignored" });
    expect(readGuildRolesEvent("GUILD_DELETE", { id: GUILD, unavailable: true })).toEqual({ outcome: "ignored" });
  });

  it("forgets a guild the bot left", () => {
    expect(readGuildRolesEvent("GUILD_DELETE", { id: GUILD })).toEqual({
      outcome: "change",
      change: { kind: "guild_removed", guildId: GUILD },
    });
  });

  it("applies a role created, updated or deleted", () => {
    const role = { guild_id: GUILD, role: { id: ROLE, permissions: "8" } };
    for (const event of ["GUILD_ROLE_CREATE", "GUILD_ROLE_UPDATE"] as const) {
      expect(readGuildRolesEvent(event, role)).toEqual({
        outcome: "change",
        change: { kind: "role", guildId: GUILD, roleId: ROLE, permissions: "8" },
      });
    }
    expect(readGuildRolesEvent("GUILD_ROLE_DELETE", { guild_id: GUILD, role_id: ROLE })).toEqual({
      outcome: "change",
      change: { kind: "role_deleted", guildId: GUILD, roleId: ROLE },
    });
  });

  it("reports a malformed event with the field at fault, never a change", () => {
    expect(readGuildRolesEvent("GUILD_CREATE", { id: GUILD, roles: [] })).toEqual({
      outcome: "malformed",
      problem: expect.stringContaining("owner_id"),
    });
    expect(readGuildRolesEvent("GUILD_DELETE", { id: "not-a-snowflake" })).toMatchObject({ outcome: "malformed" });
    expect(readGuildRolesEvent("GUILD_ROLE_UPDATE", { guild_id: GUILD, role: { id: ROLE, permissions: "x" } })).toEqual(
      { outcome: "malformed", problem: expect.stringContaining("role.permissions") },
    );
    expect(readGuildRolesEvent("GUILD_ROLE_DELETE", { guild_id: GUILD })).toEqual({
      outcome: "malformed",
      problem: expect.stringContaining("role_id"),
    });
    expect(readGuildRolesEvent("GUILD_UPDATE", null)).toEqual({
      outcome: "malformed",
      problem: expect.stringContaining("(data)"),
    });
  });
});
