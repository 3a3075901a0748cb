import type { StepUpReason } from "../auth/mfa";
import { AppError, ConflictError, ForbiddenError, ValidationError } from "../errors";
import { type CommunityRole, can, highestRole, isCommunityRole, rankOf } from "./matrix";

/**
 * The rules of changing a member's role and of transferring ownership, pure so the
 * API and Discord decide them the same way. Each throws the AppError the caller
 * answers with, or says what the change needs: whether it changes anything, and
 * which step-up (a second factor verified in the last 10 minutes, shared/auth/mfa.ts) it needs.
 *
 * - A community has one owner. The owner role moves only by transfer: it is never
 *   granted by a role change, and the owner is never demoted by one (there would be
 *   no owner left).
 * - Owners and admins change roles; an admin grants at most admin (never above their
 *   own role) and changes only members ranked below them, or themselves downwards.
 * - Operators (OPS_TOKEN) have every right, but the owner rules hold for them too.
 */

export type RoleActor = { kind: "operator" } | { kind: "member"; userId: string; roles: readonly CommunityRole[] };

export interface RoleChangePlan {
  changed: boolean;
  stepUp: StepUpReason | null;
}

export function planRoleChange(input: {
  actor: RoleActor;
  target: { userId: string; role: CommunityRole };
  to: string;
}): RoleChangePlan {
  const { actor, target, to } = input;
  if (!isCommunityRole(to)) {
    throw new ValidationError(`Unknown role "${to}".`, {
      details: [
        { path: "role", code: "invalid_value", message: "owner, admin, moderator, provider, trader or viewer" },
      ],
    });
  }
  if (actor.kind === "member" && !can(actor.roles, "member.role.change")) {
    throw new ForbiddenError("Only the community's owner and admins can change roles.");
  }
  if (to === target.role) return { changed: false, stepUp: null };
  if (to === "owner") {
    throw new AppError(
      422,
      "OWNER_BY_TRANSFER_ONLY",
      "A community has one owner: make someone the owner by transferring ownership.",
    );
  }
  if (target.role === "owner") {
    throw new ConflictError(
      "The owner cannot be demoted, or the community would have no owner: transfer ownership first.",
      "LAST_OWNER",
    );
  }
  if (actor.kind === "member") assertWithinOwnRank(actor, target, to);
  const raisesToAdmin = rankOf(to) >= rankOf("admin") && rankOf(target.role) < rankOf("admin");
  return { changed: true, stepUp: raisesToAdmin ? "role.raise_to_admin" : null };
}

function assertWithinOwnRank(
  actor: Extract<RoleActor, { kind: "member" }>,
  target: { userId: string; role: CommunityRole },
  to: CommunityRole,
): void {
  const own = highestRole(actor.roles);
  if (own === "owner" || own === null) return;
  if (rankOf(to) > rankOf(own)) {
    throw new ForbiddenError(`You can grant roles up to your own (${own}), not ${to}.`, "ROLE_ABOVE_OWN");
  }
  const self = actor.userId === target.userId;
  if (!self && rankOf(target.role) >= rankOf(own)) {
    throw new ForbiddenError(
      `Only the owner can change the role of a member ranked ${target.role}, as high as you.`,
      "ROLE_ABOVE_OWN",
    );
  }
}

/** What the previous owner becomes after a transfer. */
export const FORMER_OWNER_ROLE: CommunityRole = "admin";

export function planOwnershipTransfer(input: {
  actor: RoleActor;
  target: { userId: string; role: CommunityRole };
}): RoleChangePlan {
  const { actor, target } = input;
  if (actor.kind === "member" && !can(actor.roles, "ownership.transfer")) {
    throw new ForbiddenError("Only the community's owner can transfer ownership.");
  }
  if (target.role === "owner") {
    throw new ConflictError("That member already owns the community.", "ALREADY_OWNER");
  }
  return { changed: true, stepUp: "ownership.transfer" };
}
