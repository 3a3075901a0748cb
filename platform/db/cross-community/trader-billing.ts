import { and, asc, eq } from "drizzle-orm";
import { billingCustomers, subscriptions } from "../../../shared/db/schema";
import type { Database } from "../client";

/**
 * A trader's own billing records (`/privacy export`): a trader plan is paid by the member, not a community, so its
 * customer and subscriptions carry no community id. Only `subject = 'trader'` rows of that user: never a community's.
 */
export async function traderBillingOf(db: Database, userId: string) {
  const [customers, subscribed] = await db.batch([
    db
      .select({
        provider: billingCustomers.provider,
        email: billingCustomers.email,
        createdAt: billingCustomers.createdAt,
      })
      .from(billingCustomers)
      .where(and(eq(billingCustomers.subject, "trader"), eq(billingCustomers.userId, userId))),
    db
      .select({
        provider: subscriptions.provider,
        plan: subscriptions.plan,
        interval: subscriptions.interval,
        status: subscriptions.status,
        currentPeriodEnd: subscriptions.currentPeriodEnd,
        cancelAtPeriodEnd: subscriptions.cancelAtPeriodEnd,
        cancelAt: subscriptions.cancelAt,
        endedAt: subscriptions.endedAt,
        trialEnd: subscriptions.trialEnd,
        pendingPlan: subscriptions.pendingPlan,
        createdAt: subscriptions.createdAt,
      })
      .from(subscriptions)
      .where(and(eq(subscriptions.subject, "trader"), eq(subscriptions.userId, userId)))
      .orderBy(asc(subscriptions.createdAt)),
  ]);
  return { customers, subscriptions: subscribed };
}
