import { describe, expect, it } from "vitest";
import { dueNotices, dunningKey, losesLiveFeatures, scheduledNoticeText } from "../../../shared/billing/notices";
import { DEFAULT_PLAN_CATALOG as catalog } from "../../../shared/billing/plans";
import { DAY_MS, type SubscriptionState } from "../../../shared/billing/subscription-state";

const SINCE = Date.UTC(2026, 10, 1, 9);
const pastDue: SubscriptionState = {
  status: "past_due",
  plan: "professional",
  interval: "month",
  currentPeriodEnd: SINCE + 20 * DAY_MS,
  cancelAtPeriodEnd: false,
  cancelAt: null,
  endedAt: null,
  trialEnd: null,
  pastDueSince: SINCE,
  pendingPlan: null,
  lastEventAt: SINCE,
};

const due = (
  state: SubscriptionState,
  now: number,
  sent: Record<string, unknown> = {},
  subject: "community" | "trader" = "community",
) => dueNotices({ subject, state, sent, now, catalog });

describe("notice schedule", () => {
  it("Scenario: Reminders fall on days 3, 5 and 7 of the grace period, once each", () => {
    expect(due(pastDue, SINCE + 2 * DAY_MS - 1)).toEqual([]);
    const day3 = due(pastDue, SINCE + 2 * DAY_MS);
    expect(day3).toMatchObject([{ kind: "dunning_reminder", day: 3, key: dunningKey(SINCE, 3), supersedes: [] }]);
    expect(due(pastDue, SINCE + 3 * DAY_MS, { [dunningKey(SINCE, 3)]: 1 })).toEqual([]);
    expect(due(pastDue, SINCE + 4 * DAY_MS, { [dunningKey(SINCE, 3)]: 1 })).toMatchObject([{ day: 5 }]);
    // A cron that was down sends only the latest reminder and marks the skipped ones.
    expect(due(pastDue, SINCE + 6 * DAY_MS + 1)).toMatchObject([
      { day: 7, supersedes: [dunningKey(SINCE, 3), dunningKey(SINCE, 5)] },
    ]);
    // After the grace period there is nothing left to remind about.
    expect(due(pastDue, SINCE + 7 * DAY_MS)).toEqual([]);

    const [last] = due(pastDue, SINCE + 6 * DAY_MS + 1);
    if (!last) throw new Error("expected a reminder");
    expect(
      scheduledNoticeText(last, {
        catalog,
        subject: "community",
        communityName: "Acme",
        plan: "professional",
        manageHint: "Use /subscription.",
      }),
    ).toBe(
      `Reminder: the payment for **Acme**'s Professional plan is still outstanding. Today is the last day of the grace period; after <t:${Math.floor((SINCE + 7 * DAY_MS) / 1000)}:D> the plan falls to Free. Use /subscription.`,
    );
  });

  it("schedules renewal, trial and live-feature notices", () => {
    const active: SubscriptionState = { ...pastDue, status: "active", pastDueSince: null };
    const renewsAt = active.currentPeriodEnd ?? 0;
    expect(due(active, renewsAt - 3 * DAY_MS - 1)).toEqual([]);
    expect(due(active, renewsAt - 3 * DAY_MS)).toMatchObject([{ kind: "renewal_soon", key: `renewal:${renewsAt}` }]);
    expect(due({ ...active, cancelAtPeriodEnd: true }, renewsAt - DAY_MS)).toEqual([]);

    const trial: SubscriptionState = { ...active, status: "trialing", trialEnd: SINCE + 14 * DAY_MS };
    expect(due(trial, SINCE + 11 * DAY_MS)).toMatchObject([{ kind: "trial_ending" }]);

    const traderCancel: SubscriptionState = { ...active, plan: "pro", cancelAtPeriodEnd: true };
    expect(due(traderCancel, renewsAt - 8 * DAY_MS, {}, "trader")).toEqual([]);
    expect(due(traderCancel, renewsAt - 7 * DAY_MS, {}, "trader")).toMatchObject([
      { kind: "live_features_warning", fromPlan: "pro", toPlan: "free", at: renewsAt },
    ]);
    // No warning when another subscription keeps the same features.
    expect(
      dueNotices({
        subject: "trader",
        state: traderCancel,
        siblings: [{ ...active, plan: "pro" }],
        sent: {},
        now: renewsAt - DAY_MS,
        catalog,
      }),
    ).toEqual([]);
    // Nor while a complimentary grant keeps them past the change; one that ends first still warns.
    const grantedWarning = (until: number) =>
      dueNotices({
        subject: "trader",
        state: traderCancel,
        sent: {},
        now: renewsAt - DAY_MS,
        catalog,
        grant: { plan: "pro", until },
      });
    expect(grantedWarning(renewsAt + DAY_MS)).toEqual([]);
    expect(grantedWarning(renewsAt)).toMatchObject([
      { kind: "live_features_warning", fromPlan: "pro", toPlan: "free" },
    ]);
    expect(losesLiveFeatures(catalog, "premium", "pro")).toBe(true);
    expect(losesLiveFeatures(catalog, "basic", "premium")).toBe(false);
    expect(losesLiveFeatures(catalog, "free", "free")).toBe(false);
  });
});
