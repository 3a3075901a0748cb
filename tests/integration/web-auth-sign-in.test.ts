import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { authEventStore } from "../../platform/db/auth-events";
import { database } from "../../platform/db/client";
import { sessionStore } from "../../platform/db/sessions";
import { upsertUser } from "../../platform/db/users";
import { SESSION_COOKIE } from "../../shared/auth/session-token";
import { loadConfig } from "../../shared/config";
import { createApp } from "../../workers/http/app";
import { newCommunity } from "../support/communities";
import {
  directMessagesTo,
  EPHEMERAL,
  fakeDiscordApi,
  interactionResponse,
  member,
  postInteraction,
  setUpCommunity,
  slash,
} from "../support/discord";
import {
  type DiscordAccount,
  discordAccount,
  fakeDiscordOAuth,
  freshIp,
  TestBrowser,
} from "../support/fake-discord-oauth";
import { callApp, errorOf } from "../support/http";
import { requestUpgrade } from "../support/realtime";
import { TEST_VARS } from "../support/test-vars";

const db = database(env.DB);

afterEach(() => {
  vi.restoreAllMocks();
});

function fakes() {
  const bot = fakeDiscordApi();
  const oauth = fakeDiscordOAuth();
  return { bot, oauth };
}

/** A community whose guild is `guildId`, with the Discord account as a member in `role`. */
async function communityWithMember(account: DiscordAccount, name: string, role: "trader" | "admin" = "trader") {
  const guildId = account.guilds[0]?.id ?? "";
  const { communityId, tenant } = await newCommunity({ guildId, name });
  const user = await upsertUser(db, { discordId: account.user.id, username: account.user.username });
  await tenant.memberships.upsert(user.id, role);
  return { communityId, tenant, userId: user.id };
}

async function userIdOf(account: DiscordAccount): Promise<string> {
  const row = await env.DB.prepare("select id from users where discord_id = ?")
    .bind(account.user.id)
    .first<{ id: string }>();
  if (!row) throw new Error("no user row");
  return row.id;
}

/** The page's hidden CSRF token (the /app page's forms carry it). */
async function csrfOf(browser: TestBrowser): Promise<string> {
  const res = await browser.fetch("/api/v1/me");
  expect(res.status).toBe(200);
  return ((await res.json()) as { csrfToken: string }).csrfToken;
}

const guildIds = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    `11${String(Date.now()).slice(-9)}${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}${i}`.slice(0, 19),
  );

describe("Discord sign-in", () => {
  it("Scenario: The login redirects to Discord with identify and guilds scopes, a state and a PKCE challenge", async () => {
    fakes();
    const browser = new TestBrowser(freshIp());
    const res = await browser.fetch("/auth/discord/login?next=/app");
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe("https://discord.com/oauth2/authorize");
    const query = Object.fromEntries(location.searchParams);
    expect(query).toMatchObject({
      response_type: "code",
      client_id: TEST_VARS.DISCORD_CLIENT_ID,
      scope: "identify guilds",
      redirect_uri: `${TEST_VARS.PUBLIC_BASE_URL}/auth/discord/callback`,
      code_challenge_method: "S256",
    });
    expect(query.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(query.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The state is stored only as its hash, bound to this browser's cookie, for 10 minutes.
    const binding = res.headers.getSetCookie().find((line) => line.startsWith("__Host-sign-in="));
    expect(binding).toMatch(/HttpOnly/);
    expect(binding).toMatch(/Secure/);
    expect(binding).toMatch(/SameSite=Lax/);
    expect(binding).toMatch(/Max-Age=600/);
    const stored = await env.DB.prepare("select count(*) as n from oauth_states where id = ?")
      .bind(query.state)
      .first<{ n: number }>();
    expect(stored?.n).toBe(0);
  });

  it("Scenario: Signing in with Discord starts a session and lists only communities whose guild the member is in", async () => {
    const { oauth } = fakes();
    const [inGuild, leftGuild, notMember] = guildIds(3);
    const account = discordAccount([inGuild ?? "", notMember ?? ""]);
    const listed = await communityWithMember({ ...account, guilds: [{ id: inGuild ?? "", name: "A" }] }, "Alpha");
    // A member of this community whose guild Discord no longer lists for them.
    const left = await communityWithMember({ ...account, guilds: [{ id: leftGuild ?? "", name: "B" }] }, "Bravo");
    // In this guild, but not a member of its community.
    await newCommunity({ guildId: notMember, name: "Charlie" });

    const browser = new TestBrowser(freshIp());
    const res = await browser.signIn(oauth, account);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/app");
    const cookie = res.headers.getSetCookie().find((line) => line.startsWith(`${SESSION_COOKIE}=`)) ?? "";
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Domain=/i);
    // The browser binding is spent; the access token was given back to Discord.
    expect(browser.cookies.has("__Host-sign-in")).toBe(false);
    await vi.waitFor(() => expect(oauth.revoked).toHaveLength(1));
    const exchange = oauth.calls.find((call) => call.path === "/oauth2/token");
    expect(exchange?.form).toMatchObject({
      grant_type: "authorization_code",
      redirect_uri: `${TEST_VARS.PUBLIC_BASE_URL}/auth/discord/callback`,
    });
    expect(exchange?.form.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const me = await browser.fetch("/api/v1/me");
    expect(me.status).toBe(200);
    const body = (await me.json()) as {
      user: { discordId: string };
      communities: { id: string; name: string; role: string }[];
    };
    expect(body.user.discordId).toBe(account.user.id);
    expect(body.communities).toEqual([{ id: listed.communityId, name: "Alpha", guildId: inGuild, role: "trader" }]);
    const page = await browser.fetch("/app");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Alpha — trader");
    expect(html).not.toContain("Bravo");
    expect(html).not.toContain("Charlie");

    // What is not listed cannot be reached either: the realtime upgrade of the community whose guild they left is a 404.
    const upgrade = await requestUpgrade(left.communityId, `${SESSION_COOKIE}=${browser.cookies.get(SESSION_COOKIE)}`);
    expect(upgrade.status).toBe(404);
    expect((await errorOf(upgrade)).code).toBe("COMMUNITY_NOT_FOUND");
  });

  it("Scenario: An unknown OAuth state is refused", async () => {
    const { oauth } = fakes();
    const browser = new TestBrowser(freshIp());
    await browser.fetch("/auth/discord/login");
    const res = await browser.fetch("/auth/discord/callback?code=abc&state=not-a-state-we-issued", {
      headers: { accept: "text/html" },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(await res.text()).toContain("Sign in again");
    const json = await browser.fetch("/auth/discord/callback?code=abc&state=another-unknown-state");
    expect((await errorOf(json)).code).toBe("OAUTH_STATE_INVALID");
    expect(oauth.calls.filter((call) => call.path === "/oauth2/token")).toHaveLength(0);
    const failures = await failuresFrom(browser.ip);
    expect(failures.map((f) => f.reason)).toEqual(["state_unknown", "state_unknown"]);
  });

  it("Scenario: A reused OAuth state is refused", async () => {
    const { oauth } = fakes();
    const browser = new TestBrowser(freshIp());
    const login = await browser.fetch("/auth/discord/login");
    const callback = oauth.approve(login.headers.get("location") ?? "", discordAccount());
    const binding = browser.cookies.get("__Host-sign-in") ?? "";
    expect((await browser.fetch(callback)).status).toBe(302);
    // Replayed with the same binding cookie, as an attacker holding the whole request would.
    browser.cookies.set("__Host-sign-in", binding);
    browser.cookies.delete(SESSION_COOKIE);
    const again = await browser.fetch(callback);
    expect(again.status).toBe(400);
    expect((await errorOf(again)).code).toBe("OAUTH_STATE_INVALID");
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect((await failuresFrom(browser.ip)).map((f) => f.reason)).toEqual(["state_reused"]);
  });

  it("Scenario: An expired OAuth state or one from another browser is refused", async () => {
    const { oauth } = fakes();
    const browser = new TestBrowser(freshIp());
    const login = await browser.fetch("/auth/discord/login");
    const callback = oauth.approve(login.headers.get("location") ?? "", discordAccount());
    await env.DB.prepare("update oauth_states set expires_at = ? where used_at is null and created_at > ?")
      .bind(Date.now() - 1, Date.now() - 60_000)
      .run();
    const expired = await browser.fetch(callback);
    expect((await errorOf(expired)).code).toBe("OAUTH_STATE_INVALID");

    // A callback link sent to a victim's browser (no binding cookie) does not sign the victim in as the attacker.
    const attacker = new TestBrowser(freshIp());
    const started = await attacker.fetch("/auth/discord/login");
    const trap = oauth.approve(started.headers.get("location") ?? "", discordAccount());
    const victim = new TestBrowser(freshIp());
    const res = await victim.fetch(trap);
    expect((await errorOf(res)).code).toBe("OAUTH_STATE_INVALID");
    expect(victim.cookies.has(SESSION_COOKIE)).toBe(false);
    expect((await failuresFrom(browser.ip)).map((f) => f.reason)).toEqual(["state_expired"]);
    expect((await failuresFrom(victim.ip)).map((f) => f.reason)).toEqual(["state_other_browser"]);
  });

  it("Scenario: A callback with error=access_denied is refused", async () => {
    const { oauth } = fakes();
    const browser = new TestBrowser(freshIp());
    const login = await browser.fetch("/auth/discord/login");
    const res = await browser.fetch(oauth.deny(login.headers.get("location") ?? ""));
    expect(res.status).toBe(403);
    const error = await errorOf(res);
    expect(error.code).toBe("SIGN_IN_DENIED");
    expect(error.message).toMatch(/cancelled on Discord/);
    expect(oauth.calls).toHaveLength(0);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    const [failure] = await failuresFrom(browser.ip);
    expect(failure).toMatchObject({
      reason: "access_denied",
      userAgent: browser.userAgent,
      country: "DE",
      device: "Firefox on Linux",
    });
  });

  it("Scenario: A failing token endpoint is refused", async () => {
    const { oauth } = fakes();
    for (const failure of [
      { status: 500, body: { message: "Internal Server Error" } },
      { status: 400, body: { error: "invalid_grant", error_description: 'Invalid "code" in request.' } },
      { status: 200, body: { surprise: true } },
    ]) {
      oauth.failTokens(failure);
      const browser = new TestBrowser(freshIp());
      const res = await browser.signIn(oauth, discordAccount());
      expect(res.status).toBe(502);
      const error = await errorOf(res);
      expect(error.code).toBe("DISCORD_SIGN_IN_FAILED");
      expect(JSON.stringify(error)).not.toContain("invalid_grant");
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
      expect((await failuresFrom(browser.ip)).map((f) => f.reason)).toEqual(["token_exchange_failed"]);
    }
  });
});

describe("sessions in the browser", () => {
  it("Scenario: /app without a session redirects to sign-in and the API answers 401 JSON", async () => {
    const browser = new TestBrowser(freshIp());
    const page = await browser.fetch("/app");
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe("/auth/discord/login?next=%2Fapp");
    const api = await browser.fetch("/api/v1/me");
    expect(api.status).toBe(401);
    expect(api.headers.get("content-type")).toMatch(/application\/json/);
    expect((await errorOf(api)).code).toBe("SESSION_REQUIRED");
    // A forged cookie is no better than none.
    browser.cookies.set(SESSION_COOKIE, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
    expect((await browser.fetch("/app")).status).toBe(302);
    expect((await errorOf(await browser.fetch("/api/v1/me"))).code).toBe("SESSION_INVALID");
  });

  it("Scenario: HTML pages carry a CSP without scripts and the security headers", async () => {
    const { oauth } = fakes();
    const browser = new TestBrowser(freshIp());
    await browser.signIn(oauth, discordAccount());
    const page = await browser.fetch("/app");
    const html = await page.text();
    expect(html).not.toMatch(/<script|<style|\son\w+=/i);
    expect(page.headers.get("content-security-policy")).toBe(
      "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    expect(page.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("referrer-policy")).toBe("same-origin");
    expect(page.headers.get("strict-transport-security")).toMatch(/max-age=/);
    expect(page.headers.get("cache-control")).toBe("no-store");
    const error = await browser.fetch("/auth/discord/callback?state=x&code=y", { headers: { accept: "text/html" } });
    expect(error.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
  });

  it("Scenario: The pages' own forms carry their Origin in a browser", async () => {
    const { oauth } = fakes();
    const community = await setUpCommunity();
    const who = member();
    const reply = await interactionResponse(await postInteraction(slash("dashboard", [], { at: community.at, who })));
    const token = new URL(linkButtonOf(reply)?.url ?? "").searchParams.get("t") ?? "";
    const linkPage = await new TestBrowser(freshIp()).fetch(`/auth/link?t=${token}`);
    expect(linkPage.status).toBe(200);
    expect(linkPage.headers.get("referrer-policy")).toBe("same-origin");
    const browser = new TestBrowser(freshIp());
    await browser.signIn(oauth, discordAccount());
    expect((await browser.fetch("/app")).headers.get("referrer-policy")).toBe("same-origin");
    const nullOrigin = await browser.postForm("/auth/link", { t: token }, { origin: "null" });
    expect(nullOrigin.status).toBe(403);
    expect((await errorOf(nullOrigin)).code).toBe("CSRF_REJECTED");
  });

  it("Scenario: Signing out ends the browser's session", async () => {
    const { oauth } = fakes();
    const browser = new TestBrowser(freshIp());
    await browser.signIn(oauth, discordAccount());
    const token = await csrfOf(browser);
    const session = browser.cookies.get(SESSION_COOKIE) ?? "";
    const res = await browser.postForm("/auth/logout", { csrf_token: token }, { html: true });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("You are signed out on this browser.");
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    browser.cookies.set(SESSION_COOKIE, session);
    expect((await errorOf(await browser.fetch("/api/v1/me"))).code).toBe("SESSION_INVALID");
  });

  it("Scenario: Signing out everywhere from the dashboard ends every session and is audited", async () => {
    const { oauth } = fakes();
    const [guildId] = guildIds(1);
    const account = discordAccount([guildId ?? ""]);
    const { tenant, userId } = await communityWithMember(account, "Delta");
    const laptop = new TestBrowser(freshIp());
    const phone = new TestBrowser(
      freshIp(),
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1",
    );
    await laptop.signIn(oauth, account);
    await phone.signIn(oauth, account);
    const res = await laptop.postForm(
      "/auth/logout?everywhere=true",
      { csrf_token: await csrfOf(laptop) },
      { html: true },
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Every session of your account has ended (2)");
    expect((await phone.fetch("/api/v1/me")).status).toBe(401);
    expect(await sessionStore(db).liveAmong(await sessionIdsOf(userId))).toEqual(new Set());
    const entries = await tenant.audit.list();
    expect(entries.map((e) => e.event)).toEqual([
      "community.created",
      "auth.signed_in",
      "auth.signed_in",
      "auth.signed_out_everywhere",
    ]);
    expect(entries.at(-1)?.data).toMatchObject({
      ip: laptop.ip,
      userAgent: laptop.userAgent,
      sessionsEnded: 2,
      method: "logout",
    });
    expect((await tenant.audit.verify()).ok).toBe(true);
  });
});

describe("web security", () => {
  it("Scenario: A cross-site POST is refused", async () => {
    const { oauth } = fakes();
    const browser = new TestBrowser(freshIp());
    await browser.signIn(oauth, discordAccount());
    const token = await csrfOf(browser);
    for (const origin of ["https://evil.example", "null", "http://dte.test.evil.example"]) {
      const res = await browser.postForm("/auth/logout", { csrf_token: token }, { origin });
      expect(res.status).toBe(403);
      expect((await errorOf(res)).code).toBe("CSRF_REJECTED");
    }
    // No Origin at all, with the session cookie: not what a browser sends.
    const bare = await browser.postForm("/auth/logout", { csrf_token: token }, { origin: null });
    expect(bare.status).toBe(403);
    const fetchSite = await browser.fetch("/auth/logout", {
      method: "POST",
      origin: null,
      headers: { "sec-fetch-site": "cross-site", "content-type": "application/x-www-form-urlencoded" },
      body: `csrf_token=${token}`,
    });
    expect(fetchSite.status).toBe(403);
    expect((await browser.fetch("/api/v1/me")).status).toBe(200);
    const rejected = await env.DB.prepare(
      "select reason from auth_events where event = 'auth.csrf_rejected' and ip = ?",
    )
      .bind(browser.ip)
      .all<{ reason: string }>();
    expect(rejected.results.map((r) => r.reason)).toEqual([
      "origin_mismatch",
      "origin_mismatch",
      "origin_mismatch",
      "origin_missing",
      "cross_site_fetch",
    ]);
  });

  it("Scenario: A form without the CSRF token is refused", async () => {
    const { oauth } = fakes();
    const browser = new TestBrowser(freshIp());
    await browser.signIn(oauth, discordAccount());
    const other = new TestBrowser(freshIp());
    await other.signIn(oauth, discordAccount());
    const attempts: Record<string, string>[] = [{}, { csrf_token: "forged" }, { csrf_token: await csrfOf(other) }];
    for (const fields of attempts) {
      const res = await browser.postForm("/auth/logout", fields);
      expect(res.status).toBe(403);
      expect((await errorOf(res)).code).toBe("CSRF_REJECTED");
    }
    expect((await browser.fetch("/api/v1/me")).status).toBe(200);
    // The header works for scripts, and same-origin JSON needs no token.
    expect(
      (await browser.fetch("/auth/logout", { method: "POST", headers: { "x-csrf-token": await csrfOf(browser) } }))
        .status,
    ).toBe(204);
  });

  it("Scenario: Operator calls with Authorization are exempt from the CSRF checks", async () => {
    const res = await new TestBrowser(freshIp()).fetch("/api/v1/ops/dead-letters/nope/replay", {
      method: "POST",
      origin: "https://ops-console.example",
      headers: { authorization: `Bearer ${TEST_VARS.OPS_TOKEN}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("DEAD_LETTER_NOT_FOUND");
  });

  it("Scenario: Sign-in and callbacks are rate-limited per address", async () => {
    fakes();
    const browser = new TestBrowser(freshIp());
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await browser.fetch("/auth/discord/callback?state=s&code=c")).status);
    expect(statuses.slice(0, 10).every((status) => status === 400)).toBe(true);
    expect(statuses[10]).toBe(429);
    const limited = await browser.fetch("/auth/discord/callback?state=s&code=c");
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    // Another address is not affected.
    expect((await new TestBrowser(freshIp()).fetch("/auth/discord/callback?state=s&code=c")).status).toBe(400);
    const logins: number[] = [];
    for (let i = 0; i < 21; i++) logins.push((await browser.fetch("/auth/discord/login")).status);
    expect(logins.filter((status) => status === 302)).toHaveLength(20);
    expect(logins[20]).toBe(429);
  });

  it("Scenario: Production without the Discord sign-in secrets refuses to serve", async () => {
    const {
      DISCORD_CLIENT_ID: _id,
      DISCORD_CLIENT_SECRET: _secret,
      ...rest
    } = env as unknown as Record<string, unknown>;
    const production = {
      ...rest,
      ENVIRONMENT: "production",
      PUBLIC_BASE_URL: "https://dte.example",
      QUOTE_FEED: "live",
    };
    const res = await callApp(createApp(), "/auth/discord/login", {}, production);
    expect(res.status).toBe(503);
    const error = await errorOf(res);
    expect(error.code).toBe("CONFIG_INVALID");
    const result = loadConfig(production);
    expect(result.ok ? [] : result.problems.map((p) => p.variable)).toEqual([
      "DISCORD_CLIENT_ID",
      "DISCORD_CLIENT_SECRET",
    ]);
  });
});

describe("one-time links from Discord", () => {
  it("Scenario: /dashboard answers with a single-use sign-in link", async () => {
    fakes();
    const community = await setUpCommunity();
    const who = member();
    const reply = await interactionResponse(await postInteraction(slash("dashboard", [], { at: community.at, who })));
    expect(reply.data?.flags).toBe(EPHEMERAL);
    expect(reply.data?.content).toMatch(/works once, within 5 minutes/);
    const button = linkButtonOf(reply);
    expect(button?.style).toBe(5);
    const link = new URL(button?.url ?? "");
    expect(link.origin).toBe(TEST_VARS.PUBLIC_BASE_URL);
    const token = link.searchParams.get("t") ?? "";

    const browser = new TestBrowser(freshIp());
    // Opening the link (or a link preview fetching it) shows a button and uses nothing.
    for (let i = 0; i < 2; i++) {
      const page = await browser.fetch(`/auth/link?t=${token}`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<form method="post" action="/auth/link">');
      expect(html).toContain(`@${who.username}`);
    }
    const signedIn = await browser.postForm("/auth/link", { t: token });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("location")).toBe("/app");
    const me = (await (await browser.fetch("/api/v1/me")).json()) as { communities: { id: string }[] };
    expect(me.communities.map((c) => c.id)).toEqual([community.communityId]);

    // Once only, and not from another site.
    const again = new TestBrowser(freshIp());
    const reused = await again.postForm("/auth/link", { t: token });
    expect(reused.status).toBe(410);
    expect((await errorOf(reused)).code).toBe("SIGN_IN_LINK_INVALID");
    expect((await again.fetch(`/auth/link?t=${token}`)).status).toBe(410);
    const fresh = await interactionResponse(await postInteraction(slash("dashboard", [], { at: community.at, who })));
    const freshToken = new URL(linkButtonOf(fresh)?.url ?? "").searchParams.get("t") ?? "";
    expect((await again.postForm("/auth/link", { t: freshToken }, { origin: "https://evil.example" })).status).toBe(
      403,
    );
    expect((await again.postForm("/auth/link", { t: freshToken }, { origin: null })).status).toBe(403);
    await env.DB.prepare("update one_time_links set expires_at = ? where used_at is null and purpose = 'sign_in'")
      .bind(Date.now() - 1)
      .run();
    expect((await again.postForm("/auth/link", { t: freshToken })).status).toBe(410);
    expect((await failuresFrom(again.ip)).map((f) => f.reason)).toEqual(["link_invalid", "link_invalid"]);
  });
});

describe("sign-in audit and alerts", () => {
  it("Scenario: Every sign-in and failed sign-in is audited with address and user agent", async () => {
    const { oauth } = fakes();
    const [guildId] = guildIds(1);
    const account = discordAccount([guildId ?? ""]);
    const { tenant, userId } = await communityWithMember(account, "Echo", "admin");
    const browser = new TestBrowser(freshIp());
    await browser.signIn(oauth, account);
    const [entry] = (await tenant.audit.list()).filter((e) => e.event === "auth.signed_in");
    expect(entry).toMatchObject({ actorId: userId, target: userId });
    expect(entry?.data).toMatchObject({
      ip: browser.ip,
      userAgent: browser.userAgent,
      country: "DE",
      device: "Firefox on Linux",
      method: "discord_oauth",
      newDevice: false,
      newCountry: false,
    });
    const events = await authEventStore(db).list(userId);
    expect(events.map((e) => [e.event, e.ip, e.userAgent, e.method])).toEqual([
      ["auth.signed_in", browser.ip, browser.userAgent, "discord_oauth"],
    ]);
    browser.cookies.delete(SESSION_COOKIE);
    const denied = await browser.fetch(
      oauth.deny((await browser.fetch("/auth/discord/login")).headers.get("location") ?? ""),
    );
    expect(denied.status).toBe(403);
    expect(await failuresFrom(browser.ip)).toEqual([
      expect.objectContaining({
        event: "auth.sign_in_failed",
        reason: "access_denied",
        ip: browser.ip,
        userAgent: browser.userAgent,
      }),
    ]);
  });

  it("Scenario: A sign-in from a new device or country sends the member a DM with a sign-out-everywhere link", async () => {
    const { bot, oauth } = fakes();
    const account = discordAccount();
    const home = new TestBrowser(freshIp());
    await home.signIn(oauth, account);
    const userId = await userIdOf(account);
    // The same browser and country again (a later session): nothing to say.
    await new TestBrowser(freshIp(), home.userAgent, "DE").signIn(oauth, account);
    const abroad = new TestBrowser(freshIp(), home.userAgent, "BR");
    await abroad.signIn(oauth, account);
    const phone = new TestBrowser(
      freshIp(),
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
      "DE",
    );
    await phone.signIn(oauth, account);

    let dms: string[] = [];
    await vi.waitFor(
      async () => {
        dms = await directMessagesTo(bot, userId);
        expect(dms).toHaveLength(2);
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(dms.find((dm) => dm.includes("Brazil"))).toMatch(
      /^🔐 New sign-in to your dashboard from Firefox on Linux in Brazil \(BR\), <t:\d+:f>\.\nNot you\? Sign out everywhere: http:\/\/localhost:8787\/auth\/link\?t=[A-Za-z0-9_-]{43}/,
    );
    expect(dms.find((dm) => dm.includes("Chrome on Android"))).toMatch(/from Chrome on Android in Germany \(DE\)/);

    // The link in the DM ends every session, the attacker's included, without needing one of its own.
    const url = /Sign out everywhere: (\S+)/.exec(dms[0] ?? "")?.[1] ?? "";
    const owner = new TestBrowser(freshIp());
    const token = new URL(url).searchParams.get("t") ?? "";
    const confirm = await owner.fetch(`/auth/link?t=${token}`);
    expect(await confirm.text()).toContain("Sign out everywhere");
    const done = await owner.postForm("/auth/link", { t: token }, { html: true });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Every session of your account has ended (4)");
    for (const browser of [home, abroad, phone]) expect((await browser.fetch("/api/v1/me")).status).toBe(401);
    const events = (await authEventStore(db).list(userId)).map((e) => [e.event, e.method]);
    expect(events[0]).toEqual(["auth.signed_out_everywhere", "alert_link"]);
    expect((await owner.postForm("/auth/link", { t: token })).status).toBe(410);
  });
});

async function failuresFrom(ip: string) {
  const rows = await env.DB.prepare(
    "select event, reason, ip, user_agent as userAgent, country, device from auth_events where event = 'auth.sign_in_failed' and ip = ? order by at",
  )
    .bind(ip)
    .all<{ event: string; reason: string; ip: string; userAgent: string; country: string; device: string }>();
  return rows.results;
}

async function sessionIdsOf(userId: string): Promise<string[]> {
  const rows = await env.DB.prepare("select id from sessions where user_id = ?").bind(userId).all<{ id: string }>();
  return rows.results.map((row) => row.id);
}

function linkButtonOf(reply: { data?: { components?: unknown } }): { url: string; style: number } | undefined {
  const rows = (reply.data?.components ?? []) as { components: { url: string; style: number }[] }[];
  return rows[0]?.components[0];
}
