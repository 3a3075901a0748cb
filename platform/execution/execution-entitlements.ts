import { checkSignalQuota, type Decision } from "../../shared/billing/entitlements";
import { DEFAULT_PLAN_CATALOG } from "../../shared/billing/plans";
import { configFor } from "../../shared/config";
import { discordSettingsOf } from "../../shared/discord/settings";
import { NotFoundError } from "../../shared/errors";
import type { AccessRule } from "../../shared/membership/standing";
import { communityRiskDefaultsOf, type RiskLimits } from "../../shared/risk/limits";
import { planCatalogFor } from "../billing/context";
import { loadEntitlements, loadMemberEntitlements } from "../billing/load-entitlements";
import { database } from "../db/client";
import type { Community } from "../db/tenant/community";
import { forCommunity } from "../db/tenant/for-community";

/**
 * What the executor needs from `entitlements()` (the one place that answers
 * what a plan allows) and from the community's row (risk defaults, the
 * paid-access role, an operator's suspension), read once for one signal.
 */
export interface ExecutionEntitlements {
  plan: string;
  signalsPerDay: number;
  /** Whether one more signal fits today's quota; `signalsToday` is the executor's own exact count. */
  checkSignals(signalsToday: number): Decision;
  communityRiskDefaults: RiskLimits;
  /** Live trading for a member, as their trader plan allows (load the members first). */
  liveTradingFor(userId: string): boolean;
  /** Reads the trader plans of the members who asked for live trading (paper members need none). */
  loadMembers(userIds: readonly string[]): Promise<void>;
  /** An operator's suspension of the whole community (null: none): nothing executes while it holds. */
  suspension: { reason: string | null } | null;
  /** The paid-access role members need to have orders copied (`/setup access_role:`). */
  access: AccessRule;
}

/**
 * `read`: the community's row when the caller read it already (the executor reads it once for the kill switch
 * and this); its tier is the plan, so no second read of the row is made.
 */
export async function executionEntitlements(
  env: Env,
  communityId: string,
  read?: Promise<Community | null>,
): Promise<ExecutionEntitlements> {
  const db = database(env.DB);
  const configResult = configFor(env);
  const config = configResult.ok ? configResult.config : undefined;
  const catalog = config ? planCatalogFor(config) : DEFAULT_PLAN_CATALOG;
  const community = await (read ?? forCommunity(db, communityId).community.get());
  if (!community) throw new NotFoundError(`Community ${communityId} does not exist.`, "COMMUNITY_NOT_FOUND");
  const ent = await loadEntitlements(db, { communityId }, { config, community });
  const settings = (community.settings ?? {}) as Record<string, unknown>;
  const discord = discordSettingsOf(settings);
  const live = new Map<string, boolean>();
  return {
    plan: ent.communityPlan,
    signalsPerDay: ent.limits.signalsPerDay,
    checkSignals: (signalsToday) => checkSignalQuota(ent, signalsToday),
    communityRiskDefaults: communityRiskDefaultsOf(settings),
    liveTradingFor: (userId) => live.get(userId) ?? false,
    suspension: community.suspendedAt != null ? { reason: community.suspendedReason } : null,
    access: {
      guildId: community.guildId ?? "",
      accessRoleId: discord.accessRoleId,
      accessRoleName: discord.accessRoleName,
    },
    async loadMembers(userIds) {
      const wanted = userIds.filter((id) => !live.has(id));
      if (wanted.length === 0) return;
      for (const [userId, member] of await loadMemberEntitlements(db, wanted, catalog)) {
        live.set(userId, member.liveTrading);
      }
    },
  };
}
