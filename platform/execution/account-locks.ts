import type { Logger } from "../../shared/logging";
import { database } from "../db/client";
import { forCommunity } from "../db/tenant/for-community";
import { userById } from "../db/users";
import { type NotifyDeps, notifyMember } from "../notifications/notify-member";

/** A circuit-breaker trip as the executor records it for the alert. */
export interface LockedAccount {
  userId: string;
  until: number;
  lossPercent?: number;
  limitPercent?: number;
}

/**
 * Tells the community's admins that a member's circuit breaker locked their account: a direct message to the
 * owner and every member holding the admin role (Discord's live permissions cannot be asked outside an
 * interaction), and a `notification` event for the admins' dashboards.
 */
export async function alertAdminsOfLock(
  deps: NotifyDeps,
  logger: Logger,
  communityId: string,
  locked: LockedAccount,
): Promise<void> {
  const db = database(deps.env.DB);
  const tenant = forCommunity(db, communityId);
  const [community, members, member] = await Promise.all([
    tenant.community.get(),
    tenant.memberships.list(),
    userById(db, locked.userId),
  ]);
  const admins = new Set(members.filter((m) => m.role === "owner" || m.role === "admin").map((m) => m.userId));
  if (community?.ownerUserId) admins.add(community.ownerUserId);
  admins.delete(locked.userId);
  const who = member ? `<@${member.discordId}>` : "A member";
  const text = `🔒 ${who}'s personal circuit breaker tripped: down ${locked.lossPercent ?? "?"}% today (limit ${locked.limitPercent ?? "?"}%). Their positions are being closed and their account is locked until they run /risk unlock or an admin runs /risk unlock member:${member ? `<@${member.discordId}>` : "<member>"}.`;
  logger.warn("risk.account_locked", { communityId, userId: locked.userId, admins: admins.size });
  await Promise.all([
    ...[...admins].map((adminId) =>
      notifyMember(deps, {
        userId: adminId,
        communityId,
        event: `lock:${locked.userId}:${locked.until}`,
        message: text,
      }),
    ),
    deps.events.publish({
      type: "notification",
      communityId,
      audience: "admins",
      data: { kind: "account_locked", userId: locked.userId, lossPercent: locked.lossPercent ?? null },
      at: Date.now(),
    }),
  ]);
}
