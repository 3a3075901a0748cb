import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadEntitlements, loadMemberEntitlements } from "../../platform/billing/load-entitlements";
import { communityDirectory } from "../../platform/db/cross-community/community-directory";
import { billingFor } from "../../platform/db/tenant/billing";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { signalsCountedToday } from "../../platform/execution/signal-usage";
import { executorFor } from "../../platform/objects";
import { canFollow, checkSignalQuota } from "../../shared/billing/entitlements";
import { signBillingLink } from "../../shared/billing/links";
import {
  activeSubscriptionCreated,
  communityMetadata,
  DAY,
  db,
  fakeBillingApis,
  newBillingWorld,
  newMember,
  POLAR_TEST_SECRETS,
  postActiveCommunitySubscription,
  postStripe,
  stripeEvent,
  stripeSubscription,
  traderMetadata,
  uid,
  useCapturedQueues,
  useEnv,
} from "../support/billing";
import { admin, guild, interactionResponse, member, postInteraction, slash } from "../support/discord";
import { call, errorOf, opsHeaders } from "../support/http";
import { POLAR_PRODUCTS, TEST_VARS } from "../support/test-vars";

const json = (body: unknown) => ({
  method: "POST",
  headers: opsHeaders({ "content-type": "application/json" }),
  body: JSON.stringify(body),
});

const STRIPE_CHECKOUT = "POST api.stripe.com/v1/checkout/sessions";
const STRIPE_PORTAL = "POST api.stripe.com/v1/billing_portal/sessions";
const checkoutSession = () => ({
  id: uid("cs_test"),
  object: "checkout.session",
  mode: "subscription",
  url: "https://checkout.stripe.com/c/pay/cs_test_a1",
});

/** Provider signals the community's executor counted today (its signals-per-day counter). */
async function countedSignals(communityId: string, count: number) {
  const executor = executorFor(env, communityId);
  await runInDurableObject(executor, async (_instance, state) => {
    state.storage.sql.exec(
      "insert into counters (day, key, value) values (?, 'signals', ?) on conflict(day, key) do update set value = value + excluded.value",
      new Date().toISOString().slice(0, 10),
      count,
    );
  });
}

describe("billing API, links and entitlements", () => {
  const queues = useCapturedQueues();

  it("Scenario: Operators read a community's billing and start checkout and portal", async () => {
    const world = await newBillingWorld();
    const unauthorized = await call(`/api/v1/communities/${world.communityId}/billing`);
    expect(unauthorized.status).toBe(401);
    await unauthorized.body?.cancel();

    const status = await call(`/api/v1/communities/${world.communityId}/billing`, { headers: opsHeaders() });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      plan: "free",
      limits: { members: 10, providers: 2, signalsPerDay: 50 },
      usage: { members: 0, providers: 0, signalsToday: 0 },
      subscriptions: [],
      checkoutProvider: "stripe",
      trialDays: 14,
    });

    const noAccount = await call(`/api/v1/communities/${world.communityId}/billing/portal`, {
      method: "POST",
      headers: opsHeaders(),
    });
    expect(noAccount.status).toBe(404);
    expect((await errorOf(noAccount)).code).toBe("NO_BILLING_ACCOUNT");

    const api = fakeBillingApis({ [STRIPE_CHECKOUT]: checkoutSession });
    const checkout = await call(
      `/api/v1/communities/${world.communityId}/billing/checkout`,
      json({ plan: "professional", interval: "year" }),
    );
    expect(checkout.status).toBe(200);
    expect(await checkout.json()).toMatchObject({
      url: "https://checkout.stripe.com/c/pay/cs_test_a1",
      provider: "stripe",
      plan: "professional",
      interval: "year",
      trialDays: 14,
    });
    const form = new URLSearchParams(api.calls[0]?.body);
    expect(api.calls[0]?.url.pathname).toBe("/v1/checkout/sessions");
    expect(form.get("line_items[0][price]")).toBe("price_test_pro_year");
    expect(form.get("subscription_data[trial_period_days]")).toBe("14");
    expect(form.get("subscription_data[metadata][dte_community_id]")).toBe(world.communityId);
    expect(form.get("success_url")).toBe(`${TEST_VARS.PUBLIC_BASE_URL}/billing/return?status=success`);
    const landing = await call("/billing/return?status=success");
    expect(landing.headers.get("content-type")).toContain("text/html");
    expect(await landing.text()).toContain("Thank you!");

    const badPlan = await call(`/api/v1/communities/${world.communityId}/billing/checkout`, json({ plan: "free" }));
    expect(badPlan.status).toBe(400);
    expect((await errorOf(badPlan)).code).toBe("PLAN_NOT_AVAILABLE");
    const unknownField = await call(
      `/api/v1/communities/${world.communityId}/billing/checkout`,
      json({ plan: "professional", coupon: "FREE" }),
    );
    expect(unknownField.status).toBe(400);
    await unknownField.body?.cancel();

    // Once subscribed, a second checkout is refused and the portal opens at Stripe.
    const customer = uid("cus");
    await postStripe(
      stripeEvent(
        "customer.subscription.created",
        stripeSubscription({
          id: uid("sub"),
          customer,
          status: "active",
          periodEnd: Date.now() + 20 * DAY,
          metadata: communityMetadata(world.communityId, world.ownerId),
        }),
      ),
    );
    await queues.drain();
    const again = await call(`/api/v1/communities/${world.communityId}/billing/checkout`, json({ plan: "enterprise" }));
    expect(again.status).toBe(409);
    expect((await errorOf(again)).code).toBe("SUBSCRIPTION_EXISTS");
    api.restore();
    const portalApi = fakeBillingApis({
      [STRIPE_PORTAL]: () => ({
        id: "bps_1",
        object: "billing_portal.session",
        url: "https://billing.stripe.com/p/session/test_1",
      }),
    });
    const portal = await call(
      `/api/v1/communities/${world.communityId}/billing/portal`,
      json({ returnUrl: "https://example.com/back" }),
    );
    expect(portal.status).toBe(200);
    expect(await portal.json()).toEqual({ url: "https://billing.stripe.com/p/session/test_1", provider: "stripe" });
    expect(new URLSearchParams(portalApi.calls[0]?.body).get("customer")).toBe(customer);

    const after = await (
      await call(`/api/v1/communities/${world.communityId}/billing`, { headers: opsHeaders() })
    ).json();
    expect(after).toMatchObject({
      plan: "professional",
      subscriptions: [{ status: "active", entitledPlan: "professional" }],
    });
  });

  it("Scenario: A trader's billing is reachable by user id and by a signed link", async () => {
    const world = await newBillingWorld();
    const trader = await newMember(world);
    const status = await call(`/api/v1/me/billing?user_id=${trader.userId}`, { headers: opsHeaders() });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      plan: "free",
      features: { liveTrading: false, maxLiveConnections: 0 },
      usage: { liveConnections: 0 },
      trialDays: 7,
    });
    const byDiscordId = await call(`/api/v1/me/billing?user_id=${trader.discordId}`, { headers: opsHeaders() });
    expect(await byDiscordId.json()).toMatchObject({ plan: "free" });
    expect((await call("/api/v1/me/billing?user_id=nobody", { headers: opsHeaders() })).status).toBe(404);

    // With BILLING_PROVIDER=polar, the trader's checkout goes to Polar's REST API.
    const polarEnv = useEnv({ BILLING_PROVIDER: "polar" });
    const api = fakeBillingApis({
      "POST api.polar.sh/v1/checkouts/": () => ({ id: "chk_trader", url: "https://buy.polar.sh/chk_trader" }),
    });
    const { default: worker } = await import("../../workers/app");
    const { createExecutionContext } = await import("cloudflare:test");
    const viaApi = await worker.fetch(
      new Request(`http://dte.test/api/v1/me/billing/checkout?user_id=${trader.userId}`, json({ plan: "pro" })),
      polarEnv,
      createExecutionContext(),
    );
    expect(viaApi.status).toBe(200);
    expect(await viaApi.json()).toMatchObject({ provider: "polar", plan: "pro", trialDays: 7 });
    expect(api.calls[0]?.authorization).toBe(`Bearer ${POLAR_TEST_SECRETS.POLAR_ACCESS_TOKEN}`);
    expect(JSON.parse(api.calls[0]?.body ?? "{}")).toMatchObject({
      products: [POLAR_PRODUCTS["trader.pro.month"]],
      external_customer_id: `user:${trader.userId}`,
      allow_trial: true,
      trial_interval: "day",
      trial_interval_count: 7,
    });
    api.restore();

    // The signed link /subscription hands out: a 303 straight to the provider's checkout.
    const stripeApi = fakeBillingApis({ [STRIPE_CHECKOUT]: checkoutSession });
    const token = await signBillingLink(TEST_VARS.SESSION_SECRET, {
      action: "checkout",
      subject: "trader",
      communityId: null,
      userId: trader.userId,
      plan: "basic",
      interval: "month",
    });
    const link = await call(`/billing/checkout?t=${token}`, { redirect: "manual" });
    expect(link.status).toBe(303);
    expect(link.headers.get("location")).toBe("https://checkout.stripe.com/c/pay/cs_test_a1");
    expect(new URLSearchParams(stripeApi.calls[0]?.body).get("line_items[0][price]")).toBe("price_test_basic_month");
    expect(new URLSearchParams(stripeApi.calls[0]?.body).get("subscription_data[metadata][dte_user_id]")).toBe(
      trader.userId,
    );
    expect(new URLSearchParams(stripeApi.calls[0]?.body).get("subscription_data[trial_period_days]")).toBe("7");
    // The top trader plan keeps the original billing spec's 14-day trial.
    const premium = await signBillingLink(TEST_VARS.SESSION_SECRET, {
      action: "checkout",
      subject: "trader",
      communityId: null,
      userId: trader.userId,
      plan: "premium",
      interval: "month",
    });
    const premiumLink = await call(`/billing/checkout?t=${premium}`, { redirect: "manual" });
    expect(premiumLink.status).toBe(303);
    const premiumForm = new URLSearchParams(stripeApi.calls[1]?.body);
    expect(premiumForm.get("line_items[0][price]")).toBe("price_test_premium_month");
    expect(premiumForm.get("subscription_data[trial_period_days]")).toBe("14");
  });

  it("Scenario: A tampered or expired billing link is refused", async () => {
    const world = await newBillingWorld();
    const claims = {
      action: "portal" as const,
      subject: "community" as const,
      communityId: world.communityId,
      userId: null,
    };
    const expired = await signBillingLink(TEST_VARS.SESSION_SECRET, claims, { nowMs: Date.now() - 2 * 60 * 60_000 });
    const expiredRes = await call(`/billing/portal?t=${expired}`, { redirect: "manual" });
    expect(expiredRes.status).toBe(401);
    expect((await errorOf(expiredRes)).code).toBe("BILLING_LINK_EXPIRED");

    const forged = await signBillingLink("another-secret-another-secret-another-secret", claims);
    const forgedRes = await call(`/billing/portal?t=${forged}`, { redirect: "manual" });
    expect(forgedRes.status).toBe(401);
    expect((await errorOf(forgedRes)).code).toBe("BILLING_LINK_INVALID");

    // A portal link cannot be replayed as a checkout link.
    const portalToken = await signBillingLink(TEST_VARS.SESSION_SECRET, claims);
    const crossed = await call(`/billing/checkout?t=${portalToken}`, { redirect: "manual" });
    expect(crossed.status).toBe(401);
    await crossed.body?.cancel();
  });

  it("Scenario: The signals-per-day limit stops execution with an upgrade link", async () => {
    const world = await newBillingWorld();
    const _provider = await newMember(world, "provider");
    await countedSignals(world.communityId, 49);
    const config = { config: (await import("../../shared/config")).loadConfig(env as never) };
    if (!config.config.ok) throw new Error("test config invalid");
    // The reader is an owner or admin of the community: the refusal carries its checkout link.
    const options = { config: config.config.config, communityLink: true };

    let ent = await loadEntitlements(db, { communityId: world.communityId }, options);
    expect(checkSignalQuota(ent, await signalsCountedToday(env, world.communityId))).toEqual({ allowed: true });

    await countedSignals(world.communityId, 1);
    const denied = checkSignalQuota(ent, await signalsCountedToday(env, world.communityId));
    expect(denied).toMatchObject({ allowed: false, code: "SIGNAL_LIMIT_REACHED", upgrade: { plan: "professional" } });
    if (denied.allowed) throw new Error("unreachable");
    expect(denied.reason).toContain("allows 50 signals a day");
    const url = denied.upgrade?.url ?? "";
    expect(denied.reason).toContain(url);

    // The link in the message starts the upgrade to Professional.
    const api = fakeBillingApis({ [STRIPE_CHECKOUT]: checkoutSession });
    const followed = await call(new URL(url).pathname + new URL(url).search, { redirect: "manual" });
    expect(followed.status).toBe(303);
    expect(new URLSearchParams(api.calls[0]?.body).get("line_items[0][price]")).toBe("price_test_pro_month");
    api.restore();

    await postActiveCommunitySubscription(world.communityId);
    await queues.drain();
    ent = await loadEntitlements(db, { communityId: world.communityId }, options);
    expect(ent.limits.signalsPerDay).toBe(1_000);
    expect(checkSignalQuota(ent, await signalsCountedToday(env, world.communityId))).toEqual({ allowed: true });
  });

  it("Scenario: A member over the member limit cannot follow", async () => {
    const world = await newBillingWorld();
    const provider = await newMember(world, "provider");
    const followers = [];
    for (let i = 0; i < 10; i++) {
      const follower = await newMember(world);
      await world.tenant.follows.upsert({
        followerUserId: follower.userId,
        providerUserId: provider.userId,
        sizingMode: null,
        amount: null,
        mode: "auto",
      });
      followers.push(follower);
    }
    const newcomer = await newMember(world);
    const repository = billingFor(db, world.communityId);
    const usage = await repository.usage();
    expect(usage).toMatchObject({ followingMembers: 10, providers: 1 });

    const ent = await loadEntitlements(db, { communityId: world.communityId, userId: newcomer.userId });
    const refused = canFollow(ent, usage.followingMembers, {
      alreadyFollowing: await repository.isFollowing(newcomer.userId),
    });
    expect(refused).toMatchObject({ allowed: false, code: "MEMBER_LIMIT_REACHED" });
    if (refused.allowed) throw new Error("unreachable");
    expect(refused.reason).toContain("allows 10 following members");
    expect(refused.reason).toContain("Ask an owner or admin to upgrade to Professional");

    // Someone already following may change how they follow.
    const existing = followers[0]?.userId ?? "";
    expect(
      canFollow(ent, usage.followingMembers, { alreadyFollowing: await repository.isFollowing(existing) }),
    ).toEqual({
      allowed: true,
    });

    // The executor's bulk read of trader plans.
    const plans = await loadMemberEntitlements(db, [existing, newcomer.userId]);
    expect(plans.get(existing)).toMatchObject({ traderPlan: "free", liveTrading: false });
  });

  it("Scenario: /subscription shows the community plan to admins and the member's own plan to everyone", async () => {
    const at = guild();
    const host = admin();
    const { community } = await communityDirectory(db).create({ guildId: at.guildId, name: "Slash Traders" });
    const tenant = forCommunity(db, community.id);
    expect(tenant.communityId).toBe(community.id);

    const asAdmin = await interactionResponse(await postInteraction(slash("subscription", [], { at, who: host })));
    expect(asAdmin.data?.flags).toBe(64);
    expect(asAdmin.data?.content).toContain("**Community plan: Free**");
    expect(asAdmin.data?.content).toContain("Following members 0/10 · Providers 0/2 · Signals today 0/50");
    expect(asAdmin.data?.content).toContain("**Your trader plan: Free**");
    const adminButtons = asAdmin.data?.components?.flatMap((row) => row.components ?? []) ?? [];
    expect(adminButtons.map((button) => button.label)).toEqual([
      "Professional $99.00/month",
      "Enterprise $299.00/month",
      "Basic $49.00/month",
      "Pro $99.00/month",
      "Premium $299.00/month",
    ]);
    for (const button of adminButtons) {
      expect(button.url?.startsWith(`${TEST_VARS.PUBLIC_BASE_URL}/billing/checkout?t=`)).toBe(true);
      expect(button.url?.length).toBeLessThanOrEqual(512);
    }

    const someone = member();
    const asMember = await interactionResponse(await postInteraction(slash("subscription", [], { at, who: someone })));
    expect(asMember.data?.content).not.toContain("Community plan");
    expect(asMember.data?.content).toContain("**Your trader plan: Free**");

    // A trader with a plan sees it, with a portal button instead of checkouts.
    const user = await env.DB.prepare("SELECT id FROM users WHERE discord_id = ?")
      .bind(someone.id)
      .first<{ id: string }>();
    await postStripe(
      activeSubscriptionCreated(traderMetadata(user?.id ?? "", "pro"), { price: "price_test_traderpro_month" }),
    );
    await queues.drain();
    const subscribed = await interactionResponse(
      await postInteraction(slash("subscription", [], { at, who: someone })),
    );
    expect(subscribed.data?.content).toContain("**Your trader plan: Pro**");
    expect(subscribed.data?.content).toContain("Live broker connections 0/3 · Analytics");
    const buttons = subscribed.data?.components?.flatMap((row) => row.components ?? []) ?? [];
    expect(buttons.map((button) => button.label)).toEqual(["Manage my billing"]);
  });
});
