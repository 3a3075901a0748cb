/**
 * The role matrix: who may do what in a community, in one table. The spec's table
 * (openspec/specs/rbac/spec.md) is this table; the API's route middleware and the
 * Discord commands both ask `can()`.
 *
 * A member may hold several roles at once: the stored membership role, and what
 * Discord says live (Manage Server or Administrator makes an admin, the guild's owner
 * an owner, a provider role or an admin's naming a provider). An action is allowed
 * when any of them grants it. An action no role grants is for operators only
 * (OPS_TOKEN), who may do everything.
 */

/** Highest first: the rank decides whose roles an admin may change (never above their own). */
export const COMMUNITY_ROLES = ["owner", "admin", "moderator", "provider", "trader", "viewer"] as const;
export type CommunityRole = (typeof COMMUNITY_ROLES)[number];

const ALL = COMMUNITY_ROLES;
const STAFF = ["owner", "admin", "moderator"] as const;
const ADMINS = ["owner", "admin"] as const;

/** Action → the roles that grant it. */
export const ROLE_MATRIX = {
  /** See the community (tier, kill switch, counts), its live signals, one's own account; /help, /portfolio. */
  "community.view": ALL,
  /** Trade one's own account: /trade, /follow, /unfollow, /risk, /paper, /broker, /cancel, /close. */
  "trading.own": ["owner", "admin", "moderator", "provider", "trader"],
  /** Export or delete one's own personal data in the community (/privacy export, /privacy delete). */
  "privacy.own": ALL,
  /** Post signals (/signal, a signal channel, Execute as signal, one's own signal webhook). */
  "signals.post": ["owner", "admin", "provider"],
  /** Name and remove providers, provider roles, signal channels, providers' signal webhooks (/setup). */
  "providers.manage": STAFF,
  /** The member list with each member's role. */
  "members.view": STAFF,
  /** Suspend or unsuspend a member. */
  "member.suspend": STAFF,
  /** Lift a member's circuit-breaker lock (/risk unlock member:). */
  "member.unlock": STAFF,
  /** Change a member's role (up to one's own; see role-change.ts). */
  "member.role.change": ADMINS,
  /** Hand the community to another member. */
  "ownership.transfer": ["owner"],
  /** Delete the community (a step-up; its data is purged 30 days on). */
  "community.delete": ["owner"],
  /** Halt or resume all trading (/killswitch). */
  "killswitch.set": ADMINS,
  /** Every member's broker connections (never their credentials), and removing them. */
  "brokers.manage": ADMINS,
  /** Every member's orders and each follower's outcome of a signal; realtime aggregates. */
  "orders.view_all": ADMINS,
  /** The audit log, its search, export and verification. */
  "audit.view": ADMINS,
  /** The community's plan, usage, subscriptions and payments. */
  "billing.view": ADMINS,
  /** Checkout, the billing portal and refunds of the community's plan. */
  "billing.manage": ADMINS,
  /** Community-wide settings (access role, limits). */
  "community.configure": ADMINS,
  /** Feature-flag overrides: a platform rollout, for operators only. */
  "flags.manage": [],
} as const satisfies Record<string, readonly CommunityRole[]>;

export type Action = keyof typeof ROLE_MATRIX;
export const ACTIONS = Object.keys(ROLE_MATRIX) as Action[];

export function isCommunityRole(value: unknown): value is CommunityRole {
  return typeof value === "string" && (COMMUNITY_ROLES as readonly string[]).includes(value);
}

export function isAction(value: unknown): value is Action {
  return typeof value === "string" && Object.hasOwn(ROLE_MATRIX, value);
}

/** Whether any of `roles` grants `action`. */
export function can(roles: CommunityRole | Iterable<CommunityRole>, action: Action): boolean {
  const granted: readonly CommunityRole[] = ROLE_MATRIX[action];
  for (const role of typeof roles === "string" ? [roles] : roles) if (granted.includes(role)) return true;
  return false;
}

/** 5 for owner down to 0 for viewer. */
export function rankOf(role: CommunityRole): number {
  return COMMUNITY_ROLES.length - 1 - COMMUNITY_ROLES.indexOf(role);
}

/** The highest of `roles` (null for none). */
export function highestRole(roles: Iterable<CommunityRole>): CommunityRole | null {
  let best: CommunityRole | null = null;
  for (const role of roles) if (best === null || rankOf(role) > rankOf(best)) best = role;
  return best;
}

/** The lowest-ranked role that grants `action`; null for an operators-only action. */
export function lowestRoleFor(action: Action): CommunityRole | null {
  return ROLE_MATRIX[action].reduce<CommunityRole | null>(
    (lowest, role) => (lowest === null || rankOf(role) < rankOf(lowest) ? role : lowest),
    null,
  );
}

/** Staff-only: no provider, trader or viewer may do it (Discord shows such commands to Manage Server by default). */
export function isStaffOnly(action: Action): boolean {
  const lowest = lowestRoleFor(action);
  return lowest === null || rankOf(lowest) >= rankOf("moderator");
}

/** How a refusal names who may do it: "owners and admins", "operators". */
export function whoMay(action: Action): string {
  const roles: readonly CommunityRole[] = ROLE_MATRIX[action];
  if (roles.length === 0) return "operators";
  return inWords(roles.map((role) => `${role}s`));
}

/** "a", "a and b", "a, b and c". */
export function inWords(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}
