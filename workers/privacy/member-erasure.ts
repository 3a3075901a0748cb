import type { Database } from "../../platform/db/client";
import { eraseMemberPersonalData } from "../../platform/db/member-personal-data";
import { sessionStore } from "../../platform/db/sessions";
import type { Community } from "../../platform/db/tenant/community";
import type { TenantRepository } from "../../platform/db/tenant/for-community";
import { executorFor, realtimeHubFor } from "../../platform/objects";
import type { MembershipRole } from "../../shared/db/schema";
import { inWords } from "../../shared/rbac/matrix";

export interface ErasureDeps {
  env: Env;
  db: Database;
  tenant: TenantRepository;
  community: Community;
  userId: string;
  /** The member's stored role here (null: not a member). */
  role: MembershipRole | null;
}

/** What keeps a member's data here from being deleted now. */
export interface ErasureBlockers {
  owner: boolean;
  openPositions: string[];
  workingOrders: number;
  liveBrokers: string[];
}

export type ErasureOutcome =
  | { kind: "refused"; blockers: ErasureBlockers }
  | { kind: "already_deleted" }
  | { kind: "deleted"; followersStopped: number; webhookRevoked: boolean };

const isOwner = (deps: ErasureDeps) => deps.role === "owner" || deps.community.ownerUserId === deps.userId;

/**
 * Whether the member may delete their data here now: not while they own the community, hold a position (recorded in
 * D1, or in their paper account at the executor), have an order still working, or a live broker connection.
 */
export async function erasureBlockers(deps: ErasureDeps): Promise<ErasureBlockers> {
  const [recorded, executor] = await Promise.all([
    deps.tenant.memberData.erasureBlockers(deps.userId),
    executorFor(deps.env, deps.community.id).memberPrivacyRecord({
      communityId: deps.community.id,
      userId: deps.userId,
    }),
  ]);
  const paper = executor.paperAccount?.positions.map((p) => p.symbol) ?? [];
  return {
    owner: isOwner(deps),
    openPositions: [...new Set([...recorded.openPositions, ...paper])],
    workingOrders: recorded.workingOrders,
    liveBrokers: recorded.liveBrokers,
  };
}

export const isBlocked = (b: ErasureBlockers) =>
  b.owner || b.openPositions.length > 0 || b.workingOrders > 0 || b.liveBrokers.length > 0;

/** The refusal in words: each reason with what to do about it. */
export function refusalText(b: ErasureBlockers, communityId: string): string {
  const steps = [
    ...(b.owner
      ? [
          `You own this community: hand it to another member first (\`PUT /api/v1/communities/${communityId}/owner\`, with two-factor).`,
        ]
      : []),
    ...(b.openPositions.length > 0
      ? [`You hold open positions here (${inWords(b.openPositions)}): close them first with \`/close symbol:all\`.`]
      : []),
    ...(b.workingOrders > 0
      ? [
          `You have ${b.workingOrders} order${b.workingOrders === 1 ? "" : "s"} still working here: cancel ${b.workingOrders === 1 ? "it" : "them"} with \`/cancel\`, or let ${b.workingOrders === 1 ? "it" : "them"} finish.`,
        ]
      : []),
    ...(b.liveBrokers.length > 0
      ? [
          `You have a live broker connection here (${inWords(b.liveBrokers)}): disconnect it first (an admin of this server can remove it for you).`,
        ]
      : []),
  ];
  return ["Nothing was deleted.", ...steps.map((step) => `• ${step}`)].join("\n");
}

/**
 * /privacy delete, confirmed (openspec/specs/privacy): checks again what could keep it from happening, forgets the
 * member at the executor (refused there if their paper account still holds something), revokes their signal webhook,
 * erases their rows here in one audited D1 batch (`privacy.deleted`), their inbox notices from here and this server
 * from their dashboard, and closes their realtime sockets in this community. A confirmation issued before an earlier
 * deletion finds it done and does nothing (`issuedAt`).
 */
export async function eraseMember(deps: ErasureDeps, issuedAt: number): Promise<ErasureOutcome> {
  const { env, tenant, community, userId } = deps;
  if (await tenant.memberData.deletedSince(userId, issuedAt)) return { kind: "already_deleted" };
  const blockers = await erasureBlockers(deps);
  if (isBlocked(blockers)) return { kind: "refused", blockers };
  const forgotten = await executorFor(env, community.id).forgetMember({ communityId: community.id, userId });
  if (!forgotten.forgotten) {
    return {
      kind: "refused",
      blockers: { ...blockers, openPositions: forgotten.openPositions, workingOrders: forgotten.openOrders },
    };
  }
  const webhook = await tenant.signalWebhooks.activeFor(userId);
  const webhookRevoked = webhook
    ? await tenant.signalWebhooks.revoke(webhook.id, userId, "the provider deleted their data here")
    : false;
  const { result } = await tenant.memberData.erase(userId, { webhookRevoked });
  // Another press erased them meanwhile: that one wrote the audit entry and says so.
  if (!result?.erased) return { kind: "already_deleted" };
  // A fan-out that read their follows before the batch may have queued an entry for them since the executor forgot
  // them: it goes as a departed member's would.
  await executorFor(env, community.id).memberStopped({ communityId: community.id, userId, cause: "member_left" });
  await eraseMemberPersonalData(deps.db, { userId, communityId: community.id, guildId: community.guildId });
  const sessions = await sessionStore(deps.db).liveIdsOf(userId);
  if (sessions.length > 0) await realtimeHubFor(env, community.id).endSessions(sessions);
  return { kind: "deleted", followersStopped: result.followers.length, webhookRevoked };
}

/** What the member is told once their data here is gone: what was deleted, what was kept and why. */
export function deletedText(outcome: Extract<ErasureOutcome, { kind: "deleted" }>): string {
  const followers =
    outcome.followersStopped > 0
      ? ` ${outcome.followersStopped} member${outcome.followersStopped === 1 ? " no longer copies" : "s no longer copy"} your signals.`
      : "";
  return [
    `🗑️ Your data in this community is deleted.${followers}`,
    "**Deleted:** your membership and role, follows (yours and your followers'), risk settings, provider naming, " +
      `broker connections, inbox notices from here, your paper account${outcome.webhookRevoked ? ", and your signal webhook is revoked" : ""}. Copy trading for you stopped at once.`,
    "**Kept:** your orders, fills and positions (financial record keeping), the signals you posted (your followers' " +
      "orders came from them) and the audit log, which is append-only and hash-chained (it records this deletion). " +
      "Your account on this platform, sessions, sign-in records, two-factor and notification settings are shared with " +
      "your other communities and stay.",
    "Running any command here again makes you a member again, with default settings (the kept orders and fills stay linked to you).",
  ].join("\n");
}
