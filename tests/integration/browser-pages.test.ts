import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { billingContext } from "../../platform/billing/context";
import { database } from "../../platform/db/client";
import { upsertUser } from "../../platform/db/users";
import { signBillingLink } from "../../shared/billing/links";
import { configFor } from "../../shared/config";
import { rootLogger } from "../../shared/logging";
import { subscriptionReply } from "../../workers/discord/commands/subscription";
import { newCommunity } from "../support/communities";
import { snowflake } from "../support/discord";
import { call, errorOf } from "../support/http";
import { TEST_VARS } from "../support/test-vars";

const BROWSER = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

async function pageOf(res: Response): Promise<{ status: number; title: string; text: string }> {
  expect(res.headers.get("content-type")).toContain("text/html");
  expect(res.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
  const html = await res.text();
  return {
    status: res.status,
    title: /<h1>(.*?)<\/h1>/.exec(html)?.[1] ?? "",
    text: /<p>(.*?)<\/p>/.exec(html)?.[1] ?? "",
  };
}

describe("no dead ends", () => {
  it("Scenario: Checkout buttons are offered only for plans with a configured price", async () => {
    const loaded = configFor(env);
    if (!loaded.ok) throw new Error("test config invalid");
    // Only the Professional community plan and the Basic trader plan have a Stripe price here.
    const config = {
      ...loaded.config,
      STRIPE_PRICE_IDS: { "community.professional.month": "price_pro", "trader.basic.month": "price_basic" },
    };
    const { communityId } = await newCommunity();
    const user = await upsertUser(database(env.DB), { discordId: snowflake(), username: "buyer" });
    const reply = await subscriptionReply(billingContext(env, config, rootLogger), {
      communityId,
      userId: user.id,
      showCommunity: true,
    });
    const labels = reply.components.flatMap((row) =>
      ((row as { components: { label: string }[] }).components ?? []).map((button) => button.label),
    );
    expect(labels).toEqual(["Professional $99.00/month", "Basic $49.00/month"]);

    // Without the provider's API key nothing can be bought, so no checkout is offered at all.
    const unconfigured = await subscriptionReply(
      billingContext(env, { ...config, STRIPE_SECRET_KEY: undefined }, rootLogger),
      { communityId, userId: user.id, showCommunity: true },
    );
    expect(unconfigured.components).toEqual([]);
  });

  it("Scenario: Every browser-facing error is a readable page, the API stays JSON", async () => {
    const unknown = await pageOf(await call("/no-such-page", { headers: BROWSER }));
    expect(unknown).toEqual({
      status: 404,
      title: "Page not found",
      text: expect.stringMatching(
        /^No route for GET \/no-such-page\. Return to Discord and run the command again for a fresh link\. \(request id [0-9a-f-]{36}\)$/,
      ),
    });

    const noToken = await pageOf(await call("/billing/checkout", { headers: BROWSER }));
    expect(noToken).toMatchObject({ status: 400, title: "This link cannot be used" });
    expect(noToken.text).toMatch(/^The request does not match the expected shape\. Return to Discord/);

    const forged = await pageOf(await call(`/billing/checkout?t=${"x".repeat(40)}`, { headers: BROWSER }));
    expect(forged).toMatchObject({ status: 401, title: "This link cannot be used" });

    // A signed link to a plan the provider has no price for (trader plans have no yearly Stripe price here).
    const user = await upsertUser(database(env.DB), { discordId: snowflake(), username: "buyer" });
    const token = await signBillingLink(TEST_VARS.SESSION_SECRET, {
      action: "checkout",
      subject: "trader",
      communityId: null,
      userId: user.id,
      plan: "basic",
      interval: "year",
    });
    const unsellable = await pageOf(
      await call(`/billing/checkout?t=${token}`, { headers: BROWSER, redirect: "manual" }),
    );
    expect(unsellable).toMatchObject({ status: 400, title: "This link cannot be used" });
    expect(unsellable.text).toMatch(/^The basic plan is not sold per year/);

    const badReturn = await pageOf(await call("/billing/return?status=maybe", { headers: BROWSER }));
    expect(badReturn).toMatchObject({ status: 400, title: "This link cannot be used" });

    // The same failures for a client that does not ask for HTML, and anything under /api/, stay JSON.
    const machine = await call("/billing/checkout");
    expect(machine.status).toBe(400);
    expect((await errorOf(machine)).code).toBe("VALIDATION_FAILED");
    const api = await call("/api/v1/no-such-route", { headers: BROWSER });
    expect(api.status).toBe(404);
    expect((await errorOf(api)).code).toBe("ROUTE_NOT_FOUND");
  });
});
