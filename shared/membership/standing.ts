import { skip } from "../risk/skip-reasons";
import type { SkipDecision } from "../risk/types";

/**
 * A member's standing in a community: may their signals' copies be placed?
 * Two things stop them, each checked at follow time and again for every
 * signal: an admin suspended them, or the community sells access through a
 * Discord role (`/setup access_role:`) that they do not hold. The roles
 * checked are those the platform last saw (an interaction, or the Gateway's
 * GUILD_MEMBER_ADD and GUILD_MEMBER_UPDATE), so a fan-out never asks Discord.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** Why a member stopped trading here: the cause their canceled entries record. */
export const MEMBER_STOP_CAUSES = ["member_left", "member_suspended", "access_role_lost"] as const;
export type MemberStopCause = (typeof MEMBER_STOP_CAUSES)[number];

/** How long a community's access role is kept after the bot left its server: a re-invite within it restores it. */
export const ACCESS_SETTING_RETENTION_MS = 30 * DAY_MS;

/** The community's paid-access rule; `accessRoleId` null: every member may copy. */
export interface AccessRule {
  guildId: string;
  accessRoleId: string | null;
  /** The role's name when /setup set it (a DM cannot render a role mention). */
  accessRoleName: string | null;
}

export interface MemberStanding {
  suspendedAt: number | null;
  suspendedReason: string | null;
  /** null: never seen, which counts as not holding the access role (the member is told how to fix it). */
  discordRoleIds: readonly string[] | null;
}

export function holdsAccessRole(rule: Pick<AccessRule, "accessRoleId">, roleIds: readonly string[] | null): boolean {
  return rule.accessRoleId === null || (roleIds ?? []).includes(rule.accessRoleId);
}

/** Where a member gets the role: the server's subscriptions page, or its staff (an outside shop grants it there). */
export function accessRoleMessage(rule: AccessRule): string {
  const role = rule.accessRoleName ? `the **${rule.accessRoleName}** role` : "this server's access role";
  return `Copy trading in this server is for members with ${role}. Get it from the server's subscriptions (https://discord.com/channels/${rule.guildId}/role-subscriptions) or ask the server's staff; once you have it, signals are copied again (if you just got it, run any command here, e.g. /portfolio, so it is seen at once).`;
}

export function suspensionMessage(reason: string | null): string {
  return `An admin suspended your copy trading in this server${reason ? ` (reason: ${reason})` : ""}. Your open positions and their stops are untouched; ask an admin to lift it.`;
}

export function communitySuspendedMessage(suspension: { reason: string | null }): string {
  return `This community is suspended by the platform's operators${suspension.reason ? ` (reason: ${suspension.reason})` : ""}; no signal or trade is executed until it is lifted.`;
}

/** Why a member's copies are not placed now, or null when they may be. Suspension first: it is the admin's word. */
export function standingRefusal(rule: AccessRule, standing: MemberStanding): SkipDecision | null {
  if (standing.suspendedAt !== null) return skip("member_suspended", suspensionMessage(standing.suspendedReason));
  if (!holdsAccessRole(rule, standing.discordRoleIds)) return skip("access_role_missing", accessRoleMessage(rule));
  return null;
}

export interface RoleLoss {
  /** Held the access role before, does not now. */
  accessRole: boolean;
  /** Held at least one provider role before, holds none now. */
  providerRole: boolean;
}

/**
 * What a role change took away. `before` null (roles never seen): only what
 * the change proves is counted, so a member first seen without a role is not
 * said to have lost it.
 */
export function rolesLost(
  before: readonly string[] | null,
  after: readonly string[],
  settings: { accessRoleId: string | null; providerRoleIds: readonly string[] },
): RoleLoss {
  const held = (roles: readonly string[], ids: readonly string[]) => roles.some((role) => ids.includes(role));
  const access = settings.accessRoleId === null ? [] : [settings.accessRoleId];
  return {
    accessRole: before !== null && held(before, access) && !held(after, access),
    providerRole: before !== null && held(before, settings.providerRoleIds) && !held(after, settings.providerRoleIds),
  };
}

/** Whether a community's access role has outlived the bot's departure from its server. */
export function accessSettingExpired(botLeftAt: number | null, now: number): boolean {
  return botLeftAt !== null && now - botLeftAt >= ACCESS_SETTING_RETENTION_MS;
}

/** Sameness of two role lists, in any order (a stored list is rewritten only when it changed). */
export function sameRoles(a: readonly string[] | null, b: readonly string[]): boolean {
  if (a === null || a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((role) => set.has(role));
}
