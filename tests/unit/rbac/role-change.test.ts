import { describe, expect, it } from "vitest";
import { AppError } from "../../../shared/errors";
import { COMMUNITY_ROLES, type CommunityRole, rankOf } from "../../../shared/rbac/matrix";
import { planOwnershipTransfer, planRoleChange, type RoleActor } from "../../../shared/rbac/role-change";

const member = (role: CommunityRole, userId = `u-${role}`): RoleActor => ({ kind: "member", userId, roles: [role] });
const OPERATOR: RoleActor = { kind: "operator" };

/** The refusal's status and code, or "ok" with what the plan says. */
function decide(actor: RoleActor, target: { userId: string; role: CommunityRole }, to: string) {
  try {
    const plan = planRoleChange({ actor, target, to });
    return { ok: true as const, ...plan };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { ok: false as const, status: error.status, code: error.code };
  }
}

describe("role changes", () => {
  it("Scenario: The role-change rules hold for every actor, target and role", () => {
    const actors: RoleActor[] = [OPERATOR, ...COMMUNITY_ROLES.map((role) => member(role))];
    for (const actor of actors) {
      for (const from of COMMUNITY_ROLES) {
        for (const to of COMMUNITY_ROLES) {
          const target = { userId: "target", role: from };
          const outcome = decide(actor, target, to);
          const label = `${actor.kind === "member" ? actor.roles[0] : "operator"}: ${from} → ${to}`;
          const actorRole = actor.kind === "member" ? (actor.roles[0] ?? null) : null;
          if (actorRole !== null && actorRole !== "owner" && actorRole !== "admin") {
            expect(outcome, label).toEqual({ ok: false, status: 403, code: "FORBIDDEN" });
            continue;
          }
          if (from === to) {
            expect(outcome, label).toEqual({ ok: true, changed: false, stepUp: null });
          } else if (to === "owner") {
            expect(outcome, label).toMatchObject({ ok: false, status: 422, code: "OWNER_BY_TRANSFER_ONLY" });
          } else if (from === "owner") {
            expect(outcome, label).toMatchObject({ ok: false, status: 409, code: "LAST_OWNER" });
          } else if (actorRole === "admin" && (rankOf(to) > rankOf("admin") || rankOf(from) >= rankOf("admin"))) {
            expect(outcome, label).toMatchObject({ ok: false, status: 403, code: "ROLE_ABOVE_OWN" });
          } else {
            expect(outcome, label).toMatchObject({ ok: true, changed: true });
          }
        }
      }
    }
    // An admin may step themselves down, not another admin.
    expect(decide(member("admin", "me"), { userId: "me", role: "admin" }, "trader")).toMatchObject({ ok: true });
    expect(decide(member("admin", "me"), { userId: "other", role: "admin" }, "trader")).toMatchObject({
      code: "ROLE_ABOVE_OWN",
    });
    // Several roles count by the highest: a trader who is also an admin in Discord is an admin here.
    const both: RoleActor = { kind: "member", userId: "x", roles: ["trader", "admin"] };
    expect(decide(both, { userId: "t", role: "trader" }, "moderator")).toMatchObject({ ok: true, changed: true });
  });

  it("Scenario: An unknown role is refused", () => {
    for (const to of ["superuser", "", "OWNER", "admin "]) {
      expect(decide(OPERATOR, { userId: "t", role: "trader" }, to), to).toEqual({
        ok: false,
        status: 400,
        code: "VALIDATION_FAILED",
      });
    }
  });

  it("Scenario: Transfers and raises to admin name their step-up", () => {
    const target = (role: CommunityRole) => ({ userId: "t", role });
    expect(planOwnershipTransfer({ actor: member("owner"), target: target("trader") })).toEqual({
      changed: true,
      stepUp: "ownership.transfer",
    });
    expect(planRoleChange({ actor: member("owner"), target: target("trader"), to: "admin" }).stepUp).toBe(
      "role.raise_to_admin",
    );
    expect(planRoleChange({ actor: member("owner"), target: target("trader"), to: "moderator" }).stepUp).toBeNull();
    expect(planRoleChange({ actor: member("owner"), target: target("admin"), to: "viewer" }).stepUp).toBeNull();
  });

  it("ownership transfer: only the owner or an operator, never to the owner", () => {
    const target = { userId: "t", role: "trader" as const };
    expect(planOwnershipTransfer({ actor: OPERATOR, target }).changed).toBe(true);
    for (const role of ["admin", "moderator", "provider", "trader", "viewer"] as const) {
      expect(() => planOwnershipTransfer({ actor: member(role), target }), role).toThrow(/Only the community's owner/);
    }
    expect(() => planOwnershipTransfer({ actor: member("owner"), target: { userId: "t", role: "owner" } })).toThrow(
      expect.objectContaining({ code: "ALREADY_OWNER", status: 409 }),
    );
  });
});
