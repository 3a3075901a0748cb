import type { BillingContext } from "../../platform/billing/context";
import { directMessage } from "../../platform/notifications/notify-queue";
import type { SubjectRef } from "../../shared/billing/events";

/**
 * Direct messages from billing, through the one DM sender. Every event name is
 * deterministic, so a retried billing message re-sends the same key and the
 * notifications consumer delivers it once.
 */

export const MANAGE_HINT = "Manage billing with `/subscription`.";

/** Sends a DM to a platform user; false when the user has no Discord account on record. */
export async function sendDirectMessage(
  ctx: BillingContext,
  input: { key: string; userId: string; communityId: string | null; content: string },
): Promise<boolean> {
  const sent = await directMessage(ctx.env, {
    userId: input.userId,
    communityId: input.communityId,
    event: input.key,
    message: input.content,
  });
  if (!sent) ctx.logger.warn("billing.notice_without_recipient", { key: input.key, userId: input.userId });
  return sent;
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
