import type { BillingContext } from "../../platform/billing/context";
import type { SubjectRef } from "../../shared/billing/events";
import { type Notification, NotificationSchema } from "../../shared/notifications/message";

/**
 * Direct messages from billing, through NOTIFY_QUEUE. Every key is
 * deterministic, so a retried billing message re-sends the same key and the
 * notifications consumer delivers it once.
 */

export const MANAGE_HINT = "Manage billing with `/subscription`.";

/** Sends a DM to a platform user; false when the user has no Discord account on record. */
export async function sendDirectMessage(
  ctx: BillingContext,
  input: { key: string; userId: string; communityId: string | null; content: string },
): Promise<boolean> {
  const discordUserId = await ctx.dir.people.discordIdOf(input.userId);
  if (!discordUserId) {
    ctx.logger.warn("billing.notice_without_recipient", { key: input.key, userId: input.userId });
    return false;
  }
  const notification: Notification = NotificationSchema.parse({
    kind: "dm",
    key: input.key.slice(0, 200),
    communityId: input.communityId,
    discordUserId,
    message: { content: input.content.slice(0, 2000), allowed_mentions: { parse: [] } },
  });
  await ctx.env.NOTIFY_QUEUE.send(notification);
  return true;
}

/**
 * Who pays for a subject: the user recorded on its billing customer, else (a
 * community checkout started by an operator) the community's owner.
 */
export async function payerOf(
  ctx: BillingContext,
  subject: SubjectRef,
  customerUserId: string | null,
): Promise<string | null> {
  if (customerUserId) return customerUserId;
  if (subject.subject === "trader") return subject.userId;
  if (subject.userId) return subject.userId;
  const community = subject.communityId ? await ctx.dir.people.community(subject.communityId) : null;
  return community?.ownerUserId ?? null;
}
