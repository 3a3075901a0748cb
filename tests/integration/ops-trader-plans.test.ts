import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { billingContext } from "../../platform/billing/context";
import { loadEntitlements, loadMemberEntitlements } from "../../platform/billing/load-entitlements";
import { ensureMemberRecord } from "../../platform/db/member-record";
import {
  canAddLiveConnection,
  canTradeLive,
  canUseAnalytics,
  memberEntitlements,
} from "../../shared/billing/entitlements";
import { configFor } from "../../shared/config";
import { sha256Hex } from "../../shared/crypto/constant-time";
import { rootLogger } from "../../shared/logging";
import { runHousekeeping } from "../../workers/cron/housekeeping";
import { subscriptionReply } from "../../workers/discord/commands/subscription";
import {
  auditEvents,
  type BillingWorld,
  DAY,
  db,
  newBillingWorld,
  newMember,
  postStripe,
  stripeEvent,
  stripeSubscription,
  traderMetadata,
  traderPlanOf,
  uid,
  useCapturedQueues,
} from "../support/billing";
import { snowflake } from "../support/discord";
import { AAPL_LONG, communityWithFollowers, submit } from "../support/execution";
import { call, errorOf, opsHeaders } from "../support/http";
import { TEST_VARS } from "../support/test-vars";

const queues = useCapturedQueues();
const JSON_TYPE = { "content-type": "application/json" };
const REASON = "Beta tester thank-you";

const path = (discordUserId: string) => `/api/v1/ops/trader-plans/${discordUserId}`;

function grant(discordUserId: string, body: unknown, headers: Record<string, string> = opsHeaders(JSON_TYPE)) {
  return call(path(discordUserId), { method: "PUT", headers, body: JSON.stringify(body) });
}

function endGrant(discordUserId: string, body?: unknown, headers?: Record<string, string>) {
  if (body === undefined) return call(path(discordUserId), { method: "DELETE", headers: headers ?? opsHeaders() });
  return call(path(discordUserId), {
    method: "DELETE",
    headers: headers ?? opsHeaders(JSON_TYPE),
    body: JSON.stringify(body),
  });
}

/** A date `days` from now as the API takes it, and when a grant given with it ends (the next midnight UTC). */
function dateIn(days: number): { date: string; endsAt: number } {
  const date = new Date(Date.now() + days * DAY).toISOString().slice(0, 10);
  return { date, endsAt: Date.parse(`${date}T00:00:00Z`) + DAY };
}

async function traderOf(world: BillingWorld, paidPlan?: string) {
  const trader = await newMember(world);
  if (paidPlan) {
    await env.DB.prepare("INSERT INTO trader_plans (user_id, plan) VALUES (?, ?)").bind(trader.userId, paidPlan).run();
  }
  return trader;
}

async function memberOf(world: BillingWorld, userId: string) {
  const ent = await loadEntitlements(db, { communityId: world.communityId, userId });
  if (!ent.member) throw new Error("no member entitlements");
  return { ent, member: ent.member };
}

async function billingStatus(discordUserId: string) {
  const res = await call(`/api/v1/me/billing?user_id=${discordUserId}`, { headers: opsHeaders() });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    plan: string;
    paidPlan: string;
    complimentary: { plan: string; planName: string; until: string; reason: string } | null;
    features: { liveTrading: boolean; maxLiveConnections: number | null; analytics: boolean };
  };
}

async function grantRow(userId: string) {
  return env.DB.prepare("SELECT * FROM trader_plan_grants WHERE user_id = ?")
    .bind(userId)
    .first<{ plan: string; until: number; granted_by: string }>();
}

describe("complimentary trader plans", () => {
  it("Scenario: A complimentary plan gives a free trader its features until it ends", async () => {
    const world = await newBillingWorld();
    const trader = await traderOf(world);
    const other = await traderOf(world);
    const { date, endsAt } = dateIn(60);

    const res = await grant(trader.discordId, { plan: "pro", until: date, reason: REASON });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      userId: trader.userId,
      discordUserId: trader.discordId,
      plan: "pro",
      until: new Date(endsAt).toISOString(),
      reason: REASON,
      grantedAt: expect.any(String),
    });
    const fingerprint = (await sha256Hex(TEST_VARS.OPS_TOKEN)).slice(0, 12);
    expect((await grantRow(trader.userId))?.granted_by).toBe(`ops:${fingerprint}`);

    const { ent, member } = await memberOf(world, trader.userId);
    expect(member).toMatchObject({
      traderPlan: "pro",
      paidTraderPlan: "free",
      complimentaryUntil: endsAt,
      liveTrading: true,
      maxLiveConnections: 3,
      analytics: true,
    });
    expect(canTradeLive(ent).allowed).toBe(true);
    expect(canAddLiveConnection(ent, 2).allowed).toBe(true);
    expect(canAddLiveConnection(ent, 3)).toMatchObject({ allowed: false, code: "LIVE_CONNECTION_LIMIT_REACHED" });
    expect(canUseAnalytics(ent).allowed).toBe(true);

    const many = await loadMemberEntitlements(db, [trader.userId, other.userId]);
    expect(many.get(trader.userId)?.traderPlan).toBe("pro");
    expect(many.get(other.userId)).toMatchObject({ traderPlan: "free", liveTrading: false });

    const status = await billingStatus(trader.discordId);
    expect(status).toMatchObject({
      plan: "pro",
      paidPlan: "free",
      complimentary: { plan: "pro", planName: "Pro", until: new Date(endsAt).toISOString(), reason: REASON },
      features: { liveTrading: true, maxLiveConnections: 3, analytics: true },
    });
    const config = configFor(env);
    if (!config.ok) throw new Error("test config invalid");
    const reply = await subscriptionReply(billingContext(env, config.config, rootLogger), {
      communityId: world.communityId,
      userId: trader.userId,
      showCommunity: false,
    });
    expect(reply.content).toContain(`**Your trader plan: Pro, complimentary until <t:${endsAt / 1000}:D>**`);

    expect(await traderPlanOf(trader.userId)).toBeUndefined();
    const dms = queues.dmsTo(trader.discordId);
    expect(dms).toHaveLength(1);
    expect(dms[0]).toContain(`Your trader plan is now Pro, complimentary until <t:${endsAt / 1000}:D> (was Free)`);
  });

  it("Scenario: The executor copies a complimentary plan's holder as a live trader", async () => {
    const community = await communityWithFollowers(2);
    const [granted, other] = community.followerIds as [string, string];
    for (const userId of [granted, other]) await community.tenant.riskProfiles.setTradingMode(userId, "live", null);
    const user = await env.DB.prepare("SELECT discord_id FROM users WHERE id = ?")
      .bind(granted)
      .first<{ discord_id: string }>();
    const res = await grant(user?.discord_id ?? "", { plan: "basic", until: dateIn(7).date, reason: REASON });
    expect(res.status).toBe(200);
    await res.json();

    const { summary } = await submit(community, AAPL_LONG);
    // Without the grant both would be paper only (live_not_allowed: 2); with it applied to both, none would be.
    expect(summary.skipped).toEqual({ live_not_allowed: 1, no_broker_account: 1 });
  });

  it("Scenario: A complimentary plan stops applying when its end passes", async () => {
    const world = await newBillingWorld();
    const ended = await traderOf(world);
    const running = await traderOf(world);
    const { date } = dateIn(10);
    for (const trader of [ended, running]) {
      const res = await grant(trader.discordId, { plan: "premium", until: date, reason: REASON });
      expect(res.status).toBe(200);
      await res.json();
    }
    // The clock passes `until`: the row is what it would be then.
    const past = Date.now() - 1_000;
    await env.DB.prepare("UPDATE trader_plan_grants SET until = ? WHERE user_id = ?").bind(past, ended.userId).run();

    expect((await memberOf(world, ended.userId)).member).toMatchObject({
      traderPlan: "free",
      complimentaryUntil: null,
      liveTrading: false,
    });
    expect((await loadMemberEntitlements(db, [ended.userId])).get(ended.userId)?.traderPlan).toBe("free");
    const status = await billingStatus(ended.discordId);
    expect(status).toMatchObject({ plan: "free", paidPlan: "free", complimentary: null });
    const grantAt = { plan: "pro", until: past + 1_000 };
    expect(memberEntitlements("u", "free", undefined, { grant: grantAt, now: past + 999 }).traderPlan).toBe("pro");
    expect(memberEntitlements("u", "free", undefined, { grant: grantAt, now: past + 1_000 }).traderPlan).toBe("free");

    const res = await endGrant(ended.discordId);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("PLAN_GRANT_NOT_FOUND");

    const { traderPlanGrantsDeleted } = await runHousekeeping(env, rootLogger, Date.now());
    expect(traderPlanGrantsDeleted).toBeGreaterThanOrEqual(1);
    expect(await grantRow(ended.userId)).toBeNull();
    expect((await grantRow(running.userId))?.plan).toBe("premium");
    expect((await memberOf(world, running.userId)).member.traderPlan).toBe("premium");
  });

  it("Scenario: The higher of the paid plan and a complimentary plan applies", async () => {
    const world = await newBillingWorld();
    const premium = await traderOf(world, "premium");
    const basic = await traderOf(world, "basic");
    const { date } = dateIn(30);

    for (const trader of [premium, basic]) {
      const res = await grant(trader.discordId, { plan: "pro", until: date, reason: REASON });
      expect(res.status).toBe(200);
      await res.json();
    }

    expect((await memberOf(world, premium.userId)).member).toMatchObject({
      traderPlan: "premium",
      paidTraderPlan: "premium",
      complimentaryUntil: null,
      maxLiveConnections: null,
    });
    expect(await billingStatus(premium.discordId)).toMatchObject({
      plan: "premium",
      paidPlan: "premium",
      complimentary: null,
    });
    expect(queues.dmsTo(premium.discordId)).toEqual([]);

    expect((await memberOf(world, basic.userId)).member).toMatchObject({
      traderPlan: "pro",
      paidTraderPlan: "basic",
      maxLiveConnections: 3,
      analytics: true,
    });
    expect(await traderPlanOf(basic.userId)).toBe("basic");
    expect(queues.dmsTo(basic.discordId)).toHaveLength(1);
  });

  it("Scenario: A paid plan that ends while a complimentary plan runs takes no live feature away", async () => {
    const world = await newBillingWorld();
    const trader = await traderOf(world);
    await env.DB.prepare("INSERT INTO risk_profiles (community_id, user_id, trading_mode) VALUES (?, ?, 'live')")
      .bind(world.communityId, trader.userId)
      .run();
    const connections = [uid("conn"), uid("conn")];
    for (const id of connections) {
      await env.DB.prepare(
        "INSERT INTO broker_connections (id, community_id, user_id, broker, status, is_paper, created_at, updated_at) VALUES (?, ?, ?, 'alpaca', 'active', 0, ?, ?)",
      )
        .bind(id, world.communityId, trader.userId, Date.now() - DAY, Date.now() - DAY)
        .run();
    }
    const subscription = (status: string) =>
      stripeSubscription({
        id: sub,
        customer,
        status,
        price: "price_test_traderpro_month",
        periodEnd: Date.now() + 20 * DAY,
        metadata: traderMetadata(trader.userId, "pro"),
      });
    const sub = uid("sub");
    const customer = uid("cus");
    await postStripe(
      stripeEvent("customer.subscription.created", subscription("active"), { created: Date.now() - DAY }),
    );
    await queues.drain();
    expect(await traderPlanOf(trader.userId)).toBe("pro");
    const { date, endsAt } = dateIn(30);
    const granted = await grant(trader.discordId, { plan: "premium", until: date, reason: REASON });
    expect(granted.status).toBe(200);
    await granted.json();

    await postStripe(stripeEvent("customer.subscription.deleted", subscription("canceled")));
    await queues.drain();

    expect(await traderPlanOf(trader.userId)).toBe("free");
    expect((await memberOf(world, trader.userId)).member).toMatchObject({
      traderPlan: "premium",
      paidTraderPlan: "free",
    });
    const mode = await env.DB.prepare("SELECT trading_mode FROM risk_profiles WHERE community_id = ? AND user_id = ?")
      .bind(world.communityId, trader.userId)
      .first<{ trading_mode: string }>();
    expect(mode?.trading_mode).toBe("live");
    for (const id of connections) {
      const row = await env.DB.prepare("SELECT status FROM broker_connections WHERE id = ?")
        .bind(id)
        .first<{ status: string }>();
      expect(row?.status).toBe("active");
    }
    expect((await auditEvents(world.communityId, "billing.trader_plan_changed")).at(-1)?.data).toMatchObject({
      from: "pro",
      to: "free",
    });
    expect(queues.dmsTo(trader.discordId).at(-1)).toContain(
      `Your trader plan is now Free (was Pro). Your complimentary Premium plan still applies until <t:${endsAt / 1000}:D>.`,
    );
  });

  it("Scenario: An operator ends a complimentary plan", async () => {
    const world = await newBillingWorld();
    const trader = await traderOf(world);
    const { date, endsAt } = dateIn(90);
    const granted = await grant(trader.discordId, { plan: "basic", until: date, reason: REASON });
    expect(granted.status).toBe(200);
    await granted.json();

    const res = await endGrant(trader.discordId, { reason: "Beta ended" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      userId: trader.userId,
      discordUserId: trader.discordId,
      plan: "basic",
      until: new Date(endsAt).toISOString(),
      reason: REASON,
    });
    expect((await memberOf(world, trader.userId)).member).toMatchObject({ traderPlan: "free", liveTrading: false });
    const dms = queues.dmsTo(trader.discordId);
    expect(dms).toHaveLength(2);
    expect(dms[1]).toContain("Your complimentary Basic trader plan has ended; your trader plan is now Free.");

    const again = await endGrant(trader.discordId);
    expect(again.status).toBe(404);
    expect((await errorOf(again)).code).toBe("PLAN_GRANT_NOT_FOUND");
  });

  it("Scenario: A complimentary plan request with bad input is refused", async () => {
    const world = await newBillingWorld();
    const trader = await traderOf(world);
    const good = { plan: "pro", until: dateIn(30).date, reason: REASON };
    const refusals: [string, unknown, number, string][] = [
      ["free plan", { ...good, plan: "free" }, 400, "VALIDATION_FAILED"],
      ["unknown plan", { ...good, plan: "gold" }, 400, "VALIDATION_FAILED"],
      ["until in the past", { ...good, until: dateIn(-1).date }, 400, "VALIDATION_FAILED"],
      ["until a moment ago", { ...good, until: new Date(Date.now() - 60_000).toISOString() }, 400, "VALIDATION_FAILED"],
      ["until too far", { ...good, until: dateIn(731).date }, 400, "VALIDATION_FAILED"],
      ["until not a date", { ...good, until: "next month" }, 400, "VALIDATION_FAILED"],
      ["until without an offset", { ...good, until: "2027-01-31T10:00:00" }, 400, "VALIDATION_FAILED"],
      ["no reason", { plan: good.plan, until: good.until }, 400, "VALIDATION_FAILED"],
      ["empty reason", { ...good, reason: "  " }, 400, "VALIDATION_FAILED"],
      ["long reason", { ...good, reason: "x".repeat(501) }, 400, "VALIDATION_FAILED"],
      ["unknown field", { ...good, free: true }, 400, "VALIDATION_FAILED"],
    ];
    for (const [what, body, status, code] of refusals) {
      const res = await grant(trader.discordId, body);
      expect(res.status, what).toBe(status);
      expect((await errorOf(res)).code, what).toBe(code);
    }

    const notJson = await grant(trader.discordId, good, opsHeaders({ "content-type": "text/plain" }));
    expect(notJson.status).toBe(415);
    expect((await errorOf(notJson)).code).toBe("UNSUPPORTED_MEDIA_TYPE");
    const notSnowflake = await grant("not-a-user", good);
    expect(notSnowflake.status).toBe(400);
    expect((await errorOf(notSnowflake)).code).toBe("VALIDATION_FAILED");
    const endUnknown = await endGrant(snowflake());
    expect(endUnknown.status).toBe(404);
    expect((await errorOf(endUnknown)).code).toBe("USER_NOT_FOUND");
    const endBadBody = await endGrant(trader.discordId, { reason: "" });
    expect(endBadBody.status).toBe(400);
    expect((await errorOf(endBadBody)).code).toBe("VALIDATION_FAILED");

    expect(await grantRow(trader.userId)).toBeNull();
    const longest = await grant(trader.discordId, { ...good, until: dateIn(729).date });
    expect(longest.status).toBe(200);
    await longest.json();
  });

  it("Scenario: A complimentary plan waits for a trader who has not used the product yet", async () => {
    const world = await newBillingWorld();
    const discordId = snowflake();
    const { date, endsAt } = dateIn(30);
    const res = await grant(discordId, { plan: "pro", until: date, reason: REASON });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { userId: string; plan: string; until: string };
    expect(body).toMatchObject({ plan: "pro", until: new Date(endsAt).toISOString() });

    // Their first command makes their member record as every command does; the user the grant made is theirs.
    const { user } = await ensureMemberRecord(db, world.tenant, { id: discordId, username: "newcomer" }, null);
    expect(user.id).toBe(body.userId);
    const { member } = await memberOf(world, user.id);
    expect(member).toMatchObject({ traderPlan: "pro", complimentaryUntil: endsAt, liveTrading: true });
  });
});

describe("complimentary trader plans over the operator API", () => {
  it("Scenario: Complimentary trader plans need the operator token and are audited with their reason", async () => {
    const world = await newBillingWorld();
    const trader = await traderOf(world);
    const body = { plan: "premium", until: dateIn(14).date, reason: REASON };

    const anonymous = await grant(trader.discordId, body, JSON_TYPE);
    expect(anonymous.status).toBe(401);
    expect((await errorOf(anonymous)).code).toBe("UNAUTHORIZED");
    const wrong = await grant(trader.discordId, body, { authorization: "Bearer not-the-token", ...JSON_TYPE });
    expect(wrong.status).toBe(401);
    expect((await errorOf(wrong)).code).toBe("INVALID_TOKEN");
    const anonymousEnd = await endGrant(trader.discordId, undefined, {});
    expect(anonymousEnd.status).toBe(401);
    await anonymousEnd.json();
    expect(await grantRow(trader.userId)).toBeNull();

    const granted = await grant(trader.discordId, body);
    expect(granted.status).toBe(200);
    await granted.json();
    const ended = await endGrant(trader.discordId, { reason: "Granted to the wrong account" });
    expect(ended.status).toBe(200);
    await ended.json();

    const fingerprint = (await sha256Hex(TEST_VARS.OPS_TOKEN)).slice(0, 12);
    const { results } = await env.DB.prepare(
      "SELECT method, reason, status, token_fingerprint, request_id FROM operator_actions WHERE path = ? ORDER BY at, rowid",
    )
      .bind(path(trader.discordId))
      .all<Record<string, unknown>>();
    expect(results.map(({ request_id: _, ...row }) => row)).toEqual([
      { method: "PUT", reason: REASON, status: 200, token_fingerprint: fingerprint },
      { method: "DELETE", reason: "Granted to the wrong account", status: 200, token_fingerprint: fingerprint },
    ]);
    await expect(
      env.DB.prepare("UPDATE operator_actions SET reason = 'edited' WHERE request_id = ?")
        .bind(results[0]?.request_id)
        .run(),
    ).rejects.toThrow(/append-only/);
  });
});
