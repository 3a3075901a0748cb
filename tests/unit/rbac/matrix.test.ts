/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import {
  ACTIONS,
  COMMUNITY_ROLES,
  type CommunityRole,
  can,
  highestRole,
  isAction,
  isCommunityRole,
  isStaffOnly,
  lowestRoleFor,
  ROLE_MATRIX,
  rankOf,
  whoMay,
} from "../../../shared/rbac/matrix";

const SPEC = Object.values(
  import.meta.glob<string>("../../../openspec/specs/rbac/spec.md", { query: "?raw", import: "default", eager: true }),
)[0];

/** The spec's role table: action → the roles ticked, in the column order of its header. */
function specTable(): { roles: string[]; grants: Record<string, string[]> } {
  const lines = (SPEC ?? "").split("\n").filter((line) => line.startsWith("|"));
  const header = (lines[0] ?? "").split("|").map((cell) => cell.trim());
  const roles = header.slice(2, 2 + COMMUNITY_ROLES.length);
  const grants: Record<string, string[]> = {};
  for (const line of lines.slice(2)) {
    const cells = line.split("|").map((cell) => cell.trim());
    const action = /^`([a-z_.]+)`$/.exec(cells[1] ?? "")?.[1];
    if (!action) continue;
    grants[action] = roles.filter((_, i) => cells[2 + i] === "✓");
  }
  return { roles, grants };
}

describe("role matrix", () => {
  it("Scenario: The code's matrix is the spec's table", () => {
    const { roles, grants } = specTable();
    expect(roles).toEqual([...COMMUNITY_ROLES]);
    expect(Object.keys(grants).sort()).toEqual([...ACTIONS].sort());
    for (const action of ACTIONS) {
      expect([...(grants[action] ?? [])].sort(), action).toEqual([...ROLE_MATRIX[action]].sort());
    }
  });

  it("Scenario: A member holding several roles may do what any of them allows", () => {
    const traderProvider: CommunityRole[] = ["trader", "provider"];
    expect(can(traderProvider, "signals.post")).toBe(true);
    expect(can(traderProvider, "trading.own")).toBe(true);
    expect(can(traderProvider, "providers.manage")).toBe(false);
    expect(can("moderator", "providers.manage")).toBe(true);
    expect(can("moderator", "member.suspend")).toBe(true);
    for (const action of ["killswitch.set", "billing.manage", "billing.view", "member.role.change"] as const) {
      expect(can("moderator", action), action).toBe(false);
    }
    expect(can("viewer", "trading.own")).toBe(false);
    expect(can("viewer", "community.view")).toBe(true);
    for (const action of ACTIONS) {
      expect(can([], action), action).toBe(false);
      // The owner may do everything a role may do; operators-only actions are nobody's.
      expect(can("owner", action), action).toBe(ROLE_MATRIX[action].length > 0);
    }
  });

  it("ranks, names and staff-only actions", () => {
    expect(COMMUNITY_ROLES.map(rankOf)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(highestRole(["trader", "moderator", "provider"])).toBe("moderator");
    expect(highestRole([])).toBeNull();
    expect(lowestRoleFor("community.view")).toBe("viewer");
    expect(lowestRoleFor("killswitch.set")).toBe("admin");
    expect(lowestRoleFor("flags.manage")).toBeNull();
    expect(ACTIONS.filter(isStaffOnly).includes("providers.manage")).toBe(true);
    expect(isStaffOnly("signals.post")).toBe(false);
    expect(isStaffOnly("flags.manage")).toBe(true);
    expect(whoMay("ownership.transfer")).toBe("owners");
    expect(whoMay("killswitch.set")).toBe("owners and admins");
    expect(whoMay("providers.manage")).toBe("owners, admins and moderators");
    expect(whoMay("flags.manage")).toBe("operators");
    expect(isCommunityRole("moderator")).toBe(true);
    for (const value of ["superuser", "", "Owner", null, 3]) expect(isCommunityRole(value)).toBe(false);
    expect(isAction("killswitch.set")).toBe(true);
    expect(isAction("toString")).toBe(false);
  });
});
