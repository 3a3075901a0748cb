import { type BillingContext, billingContext } from "../../platform/billing/context";
import { stateOf, subjectOf } from "../../platform/db/cross-community/billing-directory";
import { traderPlanGrantStore } from "../../platform/db/trader-plan-grants";
import { dueNotices, type NoticeContext, scheduledNoticeText } from "../../shared/billing/notices";
import { configFor } from "../../shared/config";
import type { Logger } from "../../shared/logging";
import { deliveryFailuresOf } from "../queues/delivery-failures";
import { type BillingQueueMessage, eventMessage } from "./messages";
import { MANAGE_HINT, payerOf, sendDirectMessage } from "./notify";
import { reconcileSubject } from "./reconcile";

/**
 * The billing lifecycle cron (every 15 minutes). It does no tenant work itself:
 * it re-sends webhook events whose enqueue did not happen (the outbox) and fans
 * out one `billing.lifecycle` message per subscription that may have something
 * due, so the consumer applies reminders, period ends and grace ends.
 */

/** An event younger than this may still be on its way to the queue from the webhook request. */
const OUTBOX_GRACE_MS = 60_000;
const OUTBOX_BATCH = 100;
const CANDIDATES_PER_RUN = 5_000;
const SEND_BATCH = 100;
/** A failure record nothing claimed (its message was neither retried to success nor dead-lettered) is dropped. */
const DELIVERY_FAILURE_RETENTION_MS = 14 * 24 * 60 * 60 * 1000;

export async function runBillingLifecycle(env: Env, logger: Logger, scheduledTime: number) {
  const config = configFor(env);
  if (!config.ok) throw new Error(`Configuration invalid: ${config.problems.map((p) => p.variable).join(", ")}`);
  const ctx = billingContext(env, config.config, logger);

  const pending = await ctx.dir.webhooks.pendingOutbox(scheduledTime - OUTBOX_GRACE_MS, OUTBOX_BATCH);
  if (pending.length > 0) {
    await env.BILLING_QUEUE.sendBatch(
      pending.map((event) => ({ body: eventMessage(event.provider as "stripe" | "polar", event.eventId) })),
    );
    for (const event of pending) await ctx.dir.webhooks.markEnqueued(event.provider, event.eventId, Date.now());
    logger.warn("billing.outbox_drained", { count: pending.length });
  }

  const ids = await ctx.dir.subscriptions.lifecycleCandidates(scheduledTime, CANDIDATES_PER_RUN);
  for (let i = 0; i < ids.length; i += SEND_BATCH) {
    const messages: { body: BillingQueueMessage }[] = ids
      .slice(i, i + SEND_BATCH)
      .map((subscriptionId) => ({ body: { type: "billing.lifecycle", subscriptionId, asOf: scheduledTime } }));
    await env.BILLING_QUEUE.sendBatch(messages);
  }
  await deliveryFailuresOf(ctx.db).purgeOlderThan(scheduledTime - DELIVERY_FAILURE_RETENTION_MS);
  await ctx.dir.linkClaims.purgeExpired(scheduledTime);
  return { outboxDrained: pending.length, lifecycleQueued: ids.length };
}

/** One subscription's time-based work: due notices (each once), then the plan it grants now. */
export async function runSubscriptionLifecycle(ctx: BillingContext, subscriptionId: string): Promise<void> {
  const row = await ctx.dir.subscriptions.byId(subscriptionId);
  if (!row) return;
  const subject = subjectOf(row);
  const state = stateOf(row);
  const now = ctx.now();
  const siblings = (await ctx.dir.subscriptions.forSubject(subject)).filter((other) => other.id !== row.id);
  const grant =
    subject.userId && subject.subject === "trader" ? await traderPlanGrantStore(ctx.db).get(subject.userId) : null;
  const notices = dueNotices({
    subject: subject.subject,
    state,
    siblings: siblings.map(stateOf),
    sent: row.notices,
    now,
    catalog: ctx.catalog,
    grant: grant ? { plan: grant.plan, until: grant.until } : null,
  });

  if (notices.length > 0) {
    const customer = await ctx.dir.customers.byId(row.customerId);
    const payer = await payerOf(ctx, subject, customer?.userId ?? null);
    const community = subject.communityId ? await ctx.dir.people.community(subject.communityId) : null;
    const context: NoticeContext = {
      catalog: ctx.catalog,
      subject: subject.subject,
      communityName: community?.name ?? null,
      plan: state.plan,
      manageHint: MANAGE_HINT,
    };
    for (const notice of notices) {
      // The live-features warning is for the member who loses them; the rest are for the payer.
      const recipient = notice.kind === "live_features_warning" ? subject.userId : payer;
      if (recipient) {
        await sendDirectMessage(ctx, {
          key: `billing:${row.provider}:${row.providerSubscriptionId}:${notice.key}`,
          userId: recipient,
          communityId: subject.communityId,
          content: scheduledNoticeText(notice, context),
        });
      }
      await ctx.dir.subscriptions.recordNotices(row.id, [notice.key, ...notice.supersedes], now);
    }
  }
  await reconcileSubject(ctx, subject, {
    reason: "schedule",
    provider: row.provider,
    subscriptionId: row.providerSubscriptionId,
  });
}
