import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import { signBillingLink } from "../../shared/billing/links";
import {
  communityMetadata,
  DAY,
  fakeBillingApis,
  newBillingWorld,
  POLAR_TEST_SECRETS,
  polarCommunitySubscription,
  polarPayload,
  postPolar,
  postStripe,
  standardWebhookHeaders,
  stripeCommunitySubscription,
  stripeEvent,
  stripeSubscription,
  uid,
  useCapturedQueues,
  useEnv,
} from "../support/billing";
import {
  admin,
  interactionResponse,
  member,
  OPTION,
  postInteraction,
  type RegisteredCommunity,
  resolvedUser,
  setUpCommunity,
  slash,
  type TestMember,
} from "../support/discord";
import { call, errorOf, opsHeaders } from "../support/http";
import { TEST_VARS } from "../support/test-vars";

/**
 * The billing findings of the security review, each reproduced as the attack it was: links shown to the wrong
 * people, links that live forever or open the portal twice, a webhook from the future, a signature header with no
 * `v1` entry, and a provider's error text in our answers.
 */

const encoder = new TextEncoder();

/** Signs link claims the way the Worker does (HS256 under HMAC(SESSION_SECRET, audience)), with any claims. */
async function signRawLink(payload: Record<string, unknown>, claims: { exp?: number; iat?: number }) {
  const secretKey = await crypto.subtle.importKey(
    "raw",
    encoder.encode(TEST_VARS.SESSION_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const key = new Uint8Array(await crypto.subtle.sign("HMAC", secretKey, encoder.encode("dte:billing-link")));
  let jwt = new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setAudience("dte:billing-link");
  if (claims.iat !== undefined) jwt = jwt.setIssuedAt(claims.iat);
  if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp);
  return jwt.sign(key);
}

async function webhookRow(provider: string, eventId: string) {
  return env.DB.prepare("SELECT id FROM webhook_events WHERE provider = ? AND event_id = ?")
    .bind(provider, eventId)
    .first();
}

async function fillMemberLimit(community: RegisteredCommunity, provider: TestMember) {
  const providerUser = await env.DB.prepare(
    "INSERT INTO users (id, discord_id, username) VALUES (?, ?, ?) RETURNING id",
  )
    .bind(crypto.randomUUID(), provider.id, provider.username)
    .first<{ id: string }>();
  const statements = [];
  for (let i = 0; i < 10; i++) {
    const follower = crypto.randomUUID();
    statements.push(
      env.DB.prepare("INSERT INTO users (id, discord_id, username) VALUES (?, ?, ?)").bind(
        follower,
        String(BigInt(provider.id) + BigInt(i + 1)),
        `follower${i}`,
      ),
      env.DB.prepare(
        "INSERT INTO follows (community_id, follower_user_id, provider_user_id, mode, enabled) VALUES (?, ?, ?, 'auto', 1)",
      ).bind(community.communityId, follower, providerUser?.id),
    );
  }
  await env.DB.batch(statements);
}

function follow(community: RegisteredCommunity, who: TestMember, provider: TestMember) {
  return postInteraction(
    slash("follow", [{ name: "provider", type: OPTION.USER, value: provider.id }], {
      at: community.at,
      who,
      resolved: resolvedUser(provider),
    }),
  );
}

describe("billing security", () => {
  const queues = useCapturedQueues();

  it("Scenario: Only owners and admins are shown community checkout links", async () => {
    const community = await setUpCommunity();
    const provider = community.provider();
    await fillMemberLimit(community, provider);

    // A member at the limit is refused and told to ask an admin: no signed link to the community's checkout.
    const asMember = await interactionResponse(await follow(community, member(), provider));
    expect(asMember.data?.content).toContain("allows 10 following members");
    expect(asMember.data?.content).toContain("Ask an owner or admin to upgrade to Professional");
    expect(asMember.data?.content).not.toContain("/billing/checkout");

    // An admin gets the link, with a space before the full stop so the URL stays whole.
    const asAdmin = await interactionResponse(await follow(community, admin(), provider));
    const content = asAdmin.data?.content ?? "";
    const link = /(https?:\/\/\S+\/billing\/checkout\?t=\S+)/.exec(content)?.[1] ?? "";
    expect(link).not.toBe("");
    expect(content).toContain(`${link} .`);
    expect(link.endsWith(".")).toBe(false);
  });

  it("Scenario: A billing link without an expiry or issue time is refused", async () => {
    const world = await newBillingWorld();
    const claims = { action: "portal", subject: "community", communityId: world.communityId, userId: null };
    const now = Math.floor(Date.now() / 1000);
    for (const token of [
      await signRawLink({ ...claims, jti: crypto.randomUUID() }, { iat: now }),
      await signRawLink({ ...claims, jti: crypto.randomUUID() }, { exp: now + 600 }),
    ]) {
      const res = await call(`/billing/portal?t=${token}`, { redirect: "manual" });
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe("BILLING_LINK_INVALID");
    }
  });

  it("Scenario: A portal link opens the portal once", async () => {
    const world = await newBillingWorld();
    const { customer, send } = stripeCommunitySubscription(world, { periodEnd: Date.now() + 20 * DAY });
    await send("customer.subscription.created", { status: "active" });
    await queues.drain();
    const api = fakeBillingApis({
      "POST api.stripe.com/v1/billing_portal/sessions": () => ({
        id: "bps_once",
        object: "billing_portal.session",
        customer,
        url: "https://billing.stripe.com/p/session/test_once",
      }),
    });
    const token = await signBillingLink(TEST_VARS.SESSION_SECRET, {
      action: "portal",
      subject: "community",
      communityId: world.communityId,
      userId: null,
    });
    const first = await call(`/billing/portal?t=${token}`, { redirect: "manual" });
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("https://billing.stripe.com/p/session/test_once");

    const again = await call(`/billing/portal?t=${token}`, { redirect: "manual" });
    expect(again.status).toBe(410);
    expect(await errorOf(again)).toMatchObject({ code: "BILLING_LINK_USED" });
    // A browser gets a page that says what happened and what to do.
    const page = await call(`/billing/portal?t=${token}`, { redirect: "manual", headers: { accept: "text/html" } });
    expect(page.status).toBe(410);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("already used");
    expect(api.calls).toHaveLength(1);
  });

  it("Scenario: A Stripe webhook dated in the future is refused", async () => {
    const world = await newBillingWorld();
    const event = stripeEvent(
      "customer.subscription.updated",
      stripeSubscription({
        id: uid("sub"),
        customer: uid("cus"),
        status: "active",
        periodEnd: Date.now() + 20 * DAY,
        metadata: communityMetadata(world.communityId),
      }),
    );
    const sixMinutesAhead = Math.floor(Date.now() / 1000) + 6 * 60;
    const res = await postStripe(event, { timestamp: sixMinutesAhead });
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe("WEBHOOK_TIMESTAMP_STALE");
    expect(await webhookRow("stripe", event.id)).toBeNull();
    expect(queues.billing).toEqual([]);
  });

  it("Scenario: A Polar signature header without a v1 entry is refused", async () => {
    const world = await newBillingWorld();
    const subscription = polarCommunitySubscription(world, { periodEnd: Date.now() + 20 * DAY });
    const body = JSON.stringify(polarPayload("subscription.active", subscription.snapshot({ status: "active" })));
    const id = uid("msg");
    const valid = await standardWebhookHeaders(id, body);
    const signature = valid["webhook-signature"]?.replace(/^v1,/, "") ?? "";
    for (const header of [
      `v2,${signature}`,
      `v1a,${signature}`,
      signature,
      "junk",
      `v2,${signature} v0,${signature}`,
    ]) {
      const res = await postPolar(body, { headers: { ...valid, "webhook-signature": header } });
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe("WEBHOOK_SIGNATURE_INVALID");
    }
    expect(await webhookRow("polar", id)).toBeNull();
    expect(queues.billing).toEqual([]);
  });

  it("Scenario: A billing provider's error text never reaches the caller", async () => {
    const logged = vi.spyOn(console, "error");
    const world = await newBillingWorld();
    const leak = "Invalid API Key provided: sk_test_****0000";
    const stripe = vi.spyOn(globalThis, "fetch").mockImplementation(
      async () =>
        new Response(
          JSON.stringify({
            error: {
              type: "invalid_request_error",
              code: "api_key_expired",
              message: leak,
              doc_url: "https://docs.stripe.com/error-codes/api-key-expired",
            },
          }),
          { status: 401, headers: { "content-type": "application/json", "request-id": "req_leak" } },
        ),
    );
    const res = await call(`/api/v1/communities/${world.communityId}/billing/checkout`, {
      method: "POST",
      headers: opsHeaders({ "content-type": "application/json" }),
      body: JSON.stringify({ plan: "professional" }),
    });
    expect(res.status).toBe(502);
    const requestId = res.headers.get("x-request-id");
    const text = await res.text();
    expect(text).not.toContain("Invalid API Key");
    expect(text).not.toContain("sk_test");
    expect(JSON.parse(text)).toMatchObject({
      error: { code: "UPSTREAM_FAILED", requestId, message: expect.stringContaining("request id") },
    });
    // The operator finds Stripe's own words in the log line of that request.
    const line = logged.mock.calls.map(([entry]) => String(entry)).find((entry) => entry.includes(requestId ?? "?"));
    expect(line).toContain("Invalid API Key");
    stripe.mockRestore();

    // Polar's validation detail stays in the log too.
    const polarEnv = useEnv({ BILLING_PROVIDER: "polar" });
    vi.spyOn(globalThis, "fetch").mockImplementation(
      async () =>
        new Response(
          JSON.stringify({
            detail: [
              { loc: ["body", "products"], msg: "Product polar_oat_secret_hint not found", type: "value_error" },
            ],
          }),
          { status: 422, headers: { "content-type": "application/json" } },
        ),
    );
    const { default: worker } = await import("../../workers/app");
    const { createExecutionContext } = await import("cloudflare:test");
    const polarRes = await worker.fetch(
      new Request(`http://dte.test/api/v1/communities/${world.communityId}/billing/checkout`, {
        method: "POST",
        headers: opsHeaders({ "content-type": "application/json" }),
        body: JSON.stringify({ plan: "professional" }),
      }),
      polarEnv,
      createExecutionContext(),
    );
    expect(polarRes.status).toBe(502);
    const polarText = await polarRes.text();
    expect(polarText).not.toContain("not found");
    // The provider's status stays in the log; the request id is random hex and may hold "422" itself.
    const { error } = JSON.parse(polarText) as { error: { message: string } };
    expect(error.message).not.toContain("422");
    expect(POLAR_TEST_SECRETS.POLAR_ACCESS_TOKEN.length).toBeGreaterThan(0);
  });
});
