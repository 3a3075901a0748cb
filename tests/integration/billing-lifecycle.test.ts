import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  auditEvents,
  type BillingWorld,
  communityMetadata,
  DAY,
  fireBillingCron,
  newBillingWorld,
  newMember,
  postStripe,
  stripeEvent,
  stripeSubscription,
  subscriptionRow,
  tierOf,
  traderMetadata,
  traderPlanOf,
  uid,
  useCapturedQueues,
} from "../support/billing";

const HOUR = 60 * 60 * 1000;

async function liveConnection(world: BillingWorld, userId: string, broker: string, ageDays: number) {
  const id = uid("conn");
  const createdAt = Date.now() - ageDays * DAY;
  await env.DB.prepare(
    "INSERT INTO broker_connections (id, community_id, user_id, broker, status, is_paper, created_at, updated_at) VALUES (?, ?, ?, ?, 'active', 0, ?, ?)",
  )
    .bind(id, world.communityId, userId, broker, createdAt, createdAt)
    .run();
  return id;
}

async function tradeLive(world: BillingWorld, userId: string) {
  await env.DB.prepare(
    "INSERT INTO risk_profiles (community_id, user_id, trading_mode) VALUES (?, ?, 'live') ON CONFLICT DO UPDATE SET trading_mode = 'live'",
  )
    .bind(world.communityId, userId)
    .run();
}

async function openPosition(world: BillingWorld, userId: string, accountRef: string) {
  await env.DB.prepare(
    "INSERT INTO positions (community_id, user_id, account_ref, symbol, asset_class, quantity, average_price) VALUES (?, ?, ?, 'AAPL', 'equity', 10, 190)",
  )
    .bind(world.communityId, userId, accountRef)
    .run();
}

async function connection(id: string) {
  return env.DB.prepare("SELECT status, status_reason FROM broker_connections WHERE id = ?")
    .bind(id)
    .first<{ status: string; status_reason: string | null }>();
}

async function tradingMode(world: BillingWorld, userId: string) {
  const row = await env.DB.prepare("SELECT trading_mode FROM risk_profiles WHERE community_id = ? AND user_id = ?")
    .bind(world.communityId, userId)
    .first<{ trading_mode: string }>();
  return row?.trading_mode;
}

async function positionsOf(userId: string) {
  return (await env.DB.prepare("SELECT quantity FROM positions WHERE user_id = ?").bind(userId).all()).results;
}

describe("billing lifecycle", () => {
  const queues = useCapturedQueues();

  async function tick(at: number) {
    await fireBillingCron(at);
    await queues.drain();
  }

  it("Scenario: The grace period keeps the plan and reminds the payer on days 3, 5 and 7", async () => {
    const world = await newBillingWorld("Grace Traders");
    const sub = uid("sub");
    const customer = uid("cus");
    const metadata = communityMetadata(world.communityId, world.ownerId);
    const periodEnd = Date.now() + 25 * DAY;
    const failedAt = Date.now() - 60_000;
    await postStripe(
      stripeEvent(
        "customer.subscription.created",
        stripeSubscription({ id: sub, customer, status: "active", periodEnd, metadata }),
        {
          created: failedAt - HOUR,
        },
      ),
    );
    await postStripe(
      stripeEvent(
        "customer.subscription.updated",
        stripeSubscription({ id: sub, customer, status: "past_due", periodEnd, metadata }),
        {
          created: failedAt,
        },
      ),
    );
    await queues.drain();
    const since = (await subscriptionRow("stripe", sub))?.past_due_since as number;
    expect(since).toBe(Math.floor(failedAt / 1000) * 1000);
    const reminders = () => queues.dmsTo(world.ownerDiscordId).filter((text) => text.startsWith("Reminder"));

    await tick(since + 1 * DAY + HOUR);
    expect(reminders()).toEqual([]);
    await tick(since + 2 * DAY + HOUR);
    expect(reminders()).toHaveLength(1);
    expect(reminders()[0]).toContain("day 3 of 7");
    await tick(since + 2 * DAY + 2 * HOUR);
    expect(reminders()).toHaveLength(1);
    await tick(since + 4 * DAY + HOUR);
    expect(reminders()[1]).toContain("day 5 of 7");
    await tick(since + 6 * DAY + HOUR);
    expect(reminders()[2]).toContain("last day of the grace period");
    expect(reminders()).toHaveLength(3);
    expect(await tierOf(world.communityId)).toBe("professional");
    expect(queues.dmsTo(world.ownerDiscordId).filter((text) => text.startsWith("The payment for"))).toHaveLength(1);
  });

  it("Scenario: After the grace period the plan falls to free", async () => {
    const world = await newBillingWorld("Lapsed Traders");
    const sub = uid("sub");
    const customer = uid("cus");
    const metadata = communityMetadata(world.communityId, world.ownerId);
    const periodEnd = Date.now() + 25 * DAY;
    const failedAt = Date.now() - 60_000;
    await postStripe(
      stripeEvent(
        "customer.subscription.created",
        stripeSubscription({ id: sub, customer, status: "past_due", periodEnd, metadata }),
        {
          created: failedAt,
        },
      ),
    );
    await queues.drain();
    expect(await tierOf(world.communityId)).toBe("professional");
    const since = (await subscriptionRow("stripe", sub))?.past_due_since as number;

    await tick(since + 7 * DAY - HOUR);
    expect(await tierOf(world.communityId)).toBe("professional");
    await tick(since + 7 * DAY + HOUR);
    expect(await tierOf(world.communityId)).toBe("free");
    const changes = await auditEvents(world.communityId, "billing.plan_changed");
    expect(changes.map((entry) => [entry.data.from, entry.data.to, entry.data.reason])).toEqual([
      ["free", "professional", "customer.subscription.created"],
      ["professional", "free", "schedule"],
    ]);
    expect(queues.dmsTo(world.ownerDiscordId).at(-1)).toContain("plan is now Free (was Professional)");
    // A late retry that succeeds brings the plan back at once.
    await postStripe(
      stripeEvent(
        "customer.subscription.updated",
        stripeSubscription({ id: sub, customer, status: "active", periodEnd, metadata }),
        {
          created: Date.now(),
        },
      ),
    );
    await queues.drain();
    expect(await tierOf(world.communityId)).toBe("professional");
  });

  it("Scenario: A trial ending without payment falls to free", async () => {
    // The provider says nothing: the trial ends on its own (after a day's settling time).
    const quiet = await newBillingWorld("Quiet Trial");
    const trialEnd = Date.now() + 2 * DAY + 12 * HOUR;
    const metadata = communityMetadata(quiet.communityId, quiet.ownerId);
    await postStripe(
      stripeEvent(
        "customer.subscription.created",
        stripeSubscription({
          id: uid("sub"),
          customer: uid("cus"),
          status: "trialing",
          periodEnd: trialEnd,
          trialEnd,
          metadata,
        }),
      ),
    );
    await queues.drain();
    expect(await tierOf(quiet.communityId)).toBe("professional");
    await tick(Date.now());
    expect(
      queues.dmsTo(quiet.ownerDiscordId).filter((text) => text.includes("trial of **Quiet Trial**'s")),
    ).toHaveLength(1);
    await tick(trialEnd + HOUR);
    expect(await tierOf(quiet.communityId)).toBe("professional");
    await tick(trialEnd + DAY + HOUR);
    expect(await tierOf(quiet.communityId)).toBe("free");

    // Stripe ends the trial (no payment method): the subscription is deleted and the plan falls at once.
    const ended = await newBillingWorld("Ended Trial");
    const sub = uid("sub");
    const customer = uid("cus");
    const endedMetadata = communityMetadata(ended.communityId, ended.ownerId);
    const pastTrialEnd = Date.now() - 5 * 60_000;
    await postStripe(
      stripeEvent(
        "customer.subscription.created",
        stripeSubscription({
          id: sub,
          customer,
          status: "trialing",
          periodEnd: pastTrialEnd,
          trialEnd: pastTrialEnd,
          metadata: endedMetadata,
        }),
        { created: pastTrialEnd - 14 * DAY },
      ),
    );
    await postStripe(
      stripeEvent(
        "customer.subscription.deleted",
        stripeSubscription({
          id: sub,
          customer,
          status: "canceled",
          periodEnd: pastTrialEnd,
          trialEnd: pastTrialEnd,
          metadata: endedMetadata,
        }),
        { created: pastTrialEnd },
      ),
    );
    await queues.drain();
    expect(await tierOf(ended.communityId)).toBe("free");
    expect(queues.dmsTo(ended.ownerDiscordId).some((text) => text.includes("subscription has ended"))).toBe(true);
  });

  it("Scenario: A downgrade at period end warns members 7 days before and then takes live features away", async () => {
    const a = await newBillingWorld("Alpha");
    const b = await newBillingWorld("Beta");
    const trader = await newMember(a);
    await b.tenant.memberships.upsert(trader.userId, "trader");
    await tradeLive(a, trader.userId);
    await tradeLive(b, trader.userId);
    const kept = await liveConnection(a, trader.userId, "alpaca", 3);
    const second = await liveConnection(b, trader.userId, "coinbase", 2);
    const third = await liveConnection(b, trader.userId, "binance", 1);
    await openPosition(b, trader.userId, second);

    const sub = uid("sub");
    const customer = uid("cus");
    const periodEnd = Date.now() + 10 * DAY;
    const t0 = Date.now() - HOUR;
    const snapshot = (price: string) =>
      stripeSubscription({
        id: sub,
        customer,
        status: "active",
        price,
        periodEnd,
        metadata: traderMetadata(trader.userId, "premium"),
      });
    await postStripe(
      stripeEvent("customer.subscription.created", snapshot("price_test_premium_month"), { created: t0 }),
    );
    await queues.drain();
    expect(await traderPlanOf(trader.userId)).toBe("premium");

    // The trader picks Basic in the portal: it takes effect when the paid period ends.
    await postStripe(
      stripeEvent("customer.subscription.updated", snapshot("price_test_basic_month"), { created: t0 + 60_000 }),
    );
    await queues.drain();
    expect(await traderPlanOf(trader.userId)).toBe("premium");
    expect(await subscriptionRow("stripe", sub)).toMatchObject({ plan: "premium", pending_plan: "basic" });
    const told = () => queues.dmsTo(trader.discordId);
    expect(told().filter((text) => text.includes("changes from Premium to Basic"))).toHaveLength(1);

    await tick(Date.now());
    expect(told().filter((text) => text.startsWith("Heads-up"))).toHaveLength(0);
    await tick(periodEnd - 7 * DAY + HOUR);
    await tick(periodEnd - 5 * DAY);
    const warnings = told().filter((text) => text.startsWith("Heads-up"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("from Premium to Basic");
    expect(await connection(third)).toMatchObject({ status: "active" });

    await tick(periodEnd + 60_000);
    expect(await traderPlanOf(trader.userId)).toBe("basic");
    // Basic allows one live connection: the oldest stays, the others are disabled (not deleted).
    expect(await connection(kept)).toMatchObject({ status: "active" });
    expect(await connection(second)).toMatchObject({
      status: "disabled",
      status_reason: expect.stringContaining("basic"),
    });
    expect(await connection(third)).toMatchObject({ status: "disabled" });
    expect(await tradingMode(a, trader.userId)).toBe("live");
    expect(await positionsOf(trader.userId)).toEqual([{ quantity: 10 }]);
    expect(told().at(-1)).toContain("2 broker connections were disabled");
    const inB = await auditEvents(b.communityId, "billing.trader_plan_changed");
    expect(inB.at(-1)?.data).toMatchObject({ from: "premium", to: "basic", disabledConnectionIds: [second, third] });
    expect((await auditEvents(a.communityId, "billing.trader_plan_changed")).at(-1)?.data).toMatchObject({
      to: "basic",
    });
  });

  it("Scenario: A cancellation takes effect at the end of the paid period", async () => {
    const world = await newBillingWorld("Gamma");
    const trader = await newMember(world);
    await tradeLive(world, trader.userId);
    const broker = await liveConnection(world, trader.userId, "alpaca", 5);
    await openPosition(world, trader.userId, broker);
    const sub = uid("sub");
    const customer = uid("cus");
    const periodEnd = Date.now() + 12 * DAY;
    const snapshot = (cancelAtPeriodEnd: boolean) =>
      stripeSubscription({
        id: sub,
        customer,
        status: "active",
        price: "price_test_traderpro_month",
        periodEnd,
        cancelAtPeriodEnd,
        metadata: traderMetadata(trader.userId, "pro"),
      });
    const t0 = Date.now() - HOUR;
    await postStripe(stripeEvent("customer.subscription.created", snapshot(false), { created: t0 }));
    await postStripe(stripeEvent("customer.subscription.updated", snapshot(true), { created: t0 + 60_000 }));
    await queues.drain();
    expect(await traderPlanOf(trader.userId)).toBe("pro");
    expect(queues.dmsTo(trader.discordId).filter((text) => text.includes("subscription is canceled"))).toHaveLength(1);

    await tick(periodEnd - 6 * DAY);
    expect(queues.dmsTo(trader.discordId).filter((text) => text.startsWith("Heads-up"))).toHaveLength(1);
    expect(await tradingMode(world, trader.userId)).toBe("live");

    await tick(periodEnd + 60_000);
    expect(await traderPlanOf(trader.userId)).toBe("free");
    expect(await tradingMode(world, trader.userId)).toBe("paper");
    expect(await connection(broker)).toMatchObject({ status: "disabled" });
    expect(await positionsOf(trader.userId)).toEqual([{ quantity: 10 }]);
    expect(queues.dmsTo(trader.discordId).at(-1)).toContain(
      "live trading is switched off (paper trading) in 1 community",
    );
    expect((await auditEvents(world.communityId, "billing.trader_plan_changed")).at(-1)?.data).toMatchObject({
      from: "pro",
      to: "free",
      liveTradingSwitchedOff: true,
    });
  });
});
