import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SubscriptionSnapshot } from "../../../shared/billing/events";
import {
  applySnapshot,
  DAY_MS,
  entitledPlan,
  GRACE_PERIOD_MS,
  highestEntitledPlan,
  nextScheduledChange,
  type SubscriptionState,
  TRIAL_SETTLE_MS,
} from "../../../shared/billing/subscription-state";
import { SUBSCRIPTION_STATUSES } from "../../../shared/db/schema";

const NOW = Date.UTC(2026, 10, 1);
const PERIOD_END = NOW + 20 * DAY_MS;

const snapshot = (overrides: Partial<SubscriptionSnapshot> = {}): SubscriptionSnapshot => ({
  providerSubscriptionId: "sub_1",
  providerCustomerId: "cus_1",
  status: "active",
  plan: "professional",
  interval: "month",
  currentPeriodEnd: PERIOD_END,
  cancelAtPeriodEnd: false,
  cancelAt: null,
  endedAt: null,
  trialEnd: null,
  pendingPlan: null,
  ...overrides,
});

function apply(previous: SubscriptionState | null, snap: SubscriptionSnapshot, at: number) {
  const result = applySnapshot("community", previous, snap, at);
  if (result.outcome !== "applied") throw new Error("stale");
  return result;
}

describe("subscription state machine", () => {
  it("Scenario: A downgrade waits for the end of the paid period and an upgrade applies at once", () => {
    const started = apply(null, snapshot({ plan: "enterprise" }), NOW);
    expect(started.transitions).toEqual(["started"]);

    const downgraded = apply(started.state, snapshot({ plan: "professional" }), NOW + DAY_MS);
    expect(downgraded.state).toMatchObject({
      plan: "enterprise",
      pendingPlan: "professional",
      currentPeriodEnd: PERIOD_END,
    });
    expect(downgraded.transitions).toEqual(["downgrade_scheduled"]);
    expect(entitledPlan(downgraded.state, PERIOD_END - 1)).toBe("enterprise");
    expect(entitledPlan(downgraded.state, PERIOD_END)).toBe("professional");
    expect(nextScheduledChange(downgraded.state, NOW)).toEqual({ at: PERIOD_END, plan: "professional" });

    // The renewal event of the next period carries the lower plan: it simply applies.
    const renewed = apply(
      downgraded.state,
      snapshot({ plan: "professional", currentPeriodEnd: PERIOD_END + 30 * DAY_MS }),
      PERIOD_END,
    );
    expect(renewed.state).toMatchObject({ plan: "professional", pendingPlan: null });

    const upgraded = apply(
      renewed.state,
      snapshot({ plan: "enterprise", currentPeriodEnd: PERIOD_END + 30 * DAY_MS }),
      PERIOD_END + DAY_MS,
    );
    expect(upgraded.state).toMatchObject({ plan: "enterprise", pendingPlan: null });
    expect(upgraded.transitions).toEqual(["plan_raised"]);

    const canceled = apply(
      upgraded.state,
      snapshot({ plan: "enterprise", cancelAtPeriodEnd: true, currentPeriodEnd: PERIOD_END + 30 * DAY_MS }),
      PERIOD_END + 2 * DAY_MS,
    );
    expect(canceled.transitions).toEqual(["cancel_scheduled"]);
    expect(entitledPlan(canceled.state, PERIOD_END + 30 * DAY_MS - 1)).toBe("enterprise");
    expect(entitledPlan(canceled.state, PERIOD_END + 30 * DAY_MS)).toBe("free");
  });

  it("Scenario: The state machine grants plans by status", () => {
    const base = apply(null, snapshot(), NOW).state;
    const at = (overrides: Partial<SubscriptionState>, now: number) => entitledPlan({ ...base, ...overrides }, now);

    expect(at({ status: "active" }, NOW)).toBe("professional");
    expect(at({ status: "incomplete" }, NOW)).toBe("free");
    // past_due and unpaid keep the plan for the 7-day grace period, then fall to free.
    expect(at({ status: "past_due", pastDueSince: NOW }, NOW + GRACE_PERIOD_MS - 1)).toBe("professional");
    expect(at({ status: "past_due", pastDueSince: NOW }, NOW + GRACE_PERIOD_MS)).toBe("free");
    expect(at({ status: "unpaid", pastDueSince: NOW }, NOW + DAY_MS)).toBe("professional");
    // A cancellation keeps what was paid for; one after failed payments ends with the grace period.
    expect(at({ status: "canceled" }, PERIOD_END - 1)).toBe("professional");
    expect(at({ status: "canceled" }, PERIOD_END)).toBe("free");
    expect(at({ status: "canceled", pastDueSince: NOW - 8 * DAY_MS }, NOW)).toBe("free");
    // A trial grants its plan until it ends (with a day for the provider's news to arrive).
    expect(at({ status: "trialing", trialEnd: NOW }, NOW + TRIAL_SETTLE_MS - 1)).toBe("professional");
    expect(at({ status: "trialing", trialEnd: NOW }, NOW + TRIAL_SETTLE_MS)).toBe("free");
    // Paused grants nothing; a dated cancellation ends the plan on its date; an ended subscription grants nothing.
    expect(at({ status: "paused" }, NOW)).toBe("free");
    expect(at({ cancelAtPeriodEnd: true, cancelAt: NOW + DAY_MS }, NOW + DAY_MS - 1)).toBe("professional");
    expect(at({ cancelAtPeriodEnd: true, cancelAt: NOW + DAY_MS }, NOW + DAY_MS)).toBe("free");
    expect(at({ status: "canceled", endedAt: NOW }, NOW)).toBe("free");
    expect(at({ status: "canceled", trialEnd: PERIOD_END, endedAt: NOW - 1 }, NOW)).toBe("free");

    const pastDue = apply(base, snapshot({ status: "past_due" }), NOW + 60_000);
    expect(pastDue.state.pastDueSince).toBe(NOW + 60_000);
    expect(pastDue.transitions).toEqual(["entered_past_due"]);
    const stillDue = apply(pastDue.state, snapshot({ status: "unpaid" }), NOW + DAY_MS);
    expect(stillDue.state.pastDueSince).toBe(NOW + 60_000);
    expect(stillDue.transitions).toEqual([]);
    const recovered = apply(stillDue.state, snapshot({ status: "active" }), NOW + 2 * DAY_MS);
    expect(recovered.state.pastDueSince).toBeNull();
    expect(recovered.transitions).toEqual(["payment_recovered"]);
    const revoked = apply(base, snapshot({ status: "canceled" }), NOW + DAY_MS);
    expect(revoked.transitions).toEqual(["ended"]);
    const paused = apply(base, snapshot({ status: "paused" }), NOW + DAY_MS);
    expect(paused.transitions).toEqual(["paused"]);
    expect(paused.state.pastDueSince).toBeNull();
    // A plan change the provider schedules for the next period (Polar's pending_update) is a pending downgrade.
    const scheduled = apply(base, snapshot({ plan: "enterprise", pendingPlan: "professional" }), NOW + DAY_MS);
    expect(scheduled.state).toMatchObject({ plan: "enterprise", pendingPlan: "professional" });
    expect(scheduled.transitions).toContain("downgrade_scheduled");
    expect(entitledPlan(scheduled.state, PERIOD_END)).toBe("professional");

    expect(highestEntitledPlan("community", [base, { ...base, plan: "enterprise", status: "incomplete" }], NOW)).toBe(
      "professional",
    );
    expect(highestEntitledPlan("trader", [], NOW)).toBe("free");
  });

  it("Scenario: Events applied in any order end at the newest event's state", () => {
    const event = fc.record({
      status: fc.constantFrom(...SUBSCRIPTION_STATUSES),
      plan: fc.constantFrom("professional", "enterprise"),
      cancelAtPeriodEnd: fc.boolean(),
      periodEndDays: fc.integer({ min: 1, max: 60 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 8 }),
        fc.array(event, { minLength: 8, maxLength: 8 }),
        (times, events) => {
          const deliveries = times.flatMap((minute, i) => {
            const event = events[i];
            return event ? [{ at: NOW + minute * 60_000, snap: snapshotOf(event) }] : [];
          });
          const newest = deliveries.reduce((a, b) => (b.at > a.at ? b : a));
          let state: SubscriptionState | null = null;
          for (const delivery of deliveries) {
            const result = applySnapshot("community", state, delivery.snap, delivery.at);
            if (result.outcome === "applied") state = result.state;
            else expect(delivery.at).toBeLessThan(state?.lastEventAt ?? 0);
          }
          expect(state?.lastEventAt).toBe(newest.at);
          expect(state?.status).toBe(newest.snap.status);
          expect(state?.cancelAtPeriodEnd).toBe(newest.snap.cancelAtPeriodEnd);
          // Redelivering the newest event changes nothing.
          const again = state && applySnapshot("community", state, newest.snap, newest.at);
          expect(again && again.outcome === "applied" && again.state).toEqual(state);
        },
      ),
    );
  });
});

function snapshotOf(event: {
  status: SubscriptionSnapshot["status"];
  plan: string;
  cancelAtPeriodEnd: boolean;
  periodEndDays: number;
}) {
  return snapshot({
    status: event.status,
    plan: event.plan,
    cancelAtPeriodEnd: event.cancelAtPeriodEnd,
    currentPeriodEnd: NOW + event.periodEndDays * DAY_MS,
  });
}
