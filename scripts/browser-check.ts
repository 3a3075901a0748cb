import { existsSync, readFileSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { LOCAL_SESSION_COOKIE, SESSION_COOKIE } from "../shared/auth/session-token.ts";
import { totpCode } from "../shared/auth/totp.ts";
import { CheckFailed, expect } from "./lib/check.ts";
import { requestDashboardLink, sendDemoSignal } from "./lib/demo-signal.ts";
import { type FakeDiscordHttp, startFakeDiscordHttp } from "./lib/fake-discord-http.ts";
import { DEMO_COMMUNITY, DEMO_USERS, type DemoUser } from "./lib/seed-data.ts";
import { type DevServer, startWranglerDev } from "./lib/wrangler-dev.ts";

/**
 * `npm run browser:check`: the browser surface in a real browser (Chromium, headless) against a private, seeded
 * `wrangler dev` whose Discord is a fake on 127.0.0.1 (`lib/fake-discord-http.ts`), as members use it: "Sign in with
 * Discord" from `/app` (the OAuth2 round trip and back); a `/dashboard` sign-in link and its button; the dashboard
 * listing the community; the inbox page's script loading the notices and holding the realtime socket, so a signal's
 * notice appears without a reload, and "Mark read"; two-factor enrolment on `/app/security`; the trade history
 * download from `/app`; Sign out. Any CSP
 * violation, script error or failed request the browser reports fails the check. Chromium: `CHROMIUM_PATH` or
 * /usr/bin/chromium (Debian: `apt-get install chromium`).
 */

const [TRADER, OTHER_TRADER] = DEMO_USERS.filter((user) => user.role === "trader") as [DemoUser, DemoUser];
const WAIT_MS = 20_000;

/** What the browser reported against the pages: CSP refusals, script errors, failed requests of this site. */
function watchProblems(page: Page, baseUrl: string): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || /Content Security Policy/i.test(message.text())) {
      problems.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`script error: ${error.message}`));
  page.on("requestfailed", (request) => {
    const reason = request.failure()?.errorText ?? "";
    // Leaving a page aborts what it still had in flight (a refetch after an action): that is the browser, not us.
    if (request.url().startsWith(baseUrl) && reason !== "net::ERR_ABORTED") {
      problems.push(`request failed: ${request.url()} (${reason})`);
    }
  });
  return problems;
}

async function signInLink(server: DevServer): Promise<string> {
  const link = await requestDashboardLink({
    baseUrl: server.baseUrl,
    privateKeyJwk: server.keys.discord.privateKeyJwk,
    applicationId: server.vars.DISCORD_APPLICATION_ID ?? "",
    user: TRADER,
  });
  if ("refused" in link) throw new CheckFailed(link.refused);
  return link.url;
}

/** Polls `done` (every 100 ms, up to WAIT_MS). */
async function until(done: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await done())) {
    if (Date.now() > deadline) throw new CheckFailed(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const unreadOf = async (page: Page): Promise<number> =>
  Number.parseInt((await page.locator("#unread").textContent()) ?? "", 10);

/** "Sign in with Discord" from the start: /app, the OAuth2 round trip through the fake Discord, back on /app. */
async function discordSignIn(browser: Browser, server: DevServer, discord: FakeDiscordHttp): Promise<string> {
  const { baseUrl } = server;
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchProblems(page, baseUrl);
  await page.goto(`${baseUrl}/app`);
  await page.waitForURL(`${baseUrl}/app`, { timeout: WAIT_MS }).catch(async () => {
    throw new CheckFailed(`Discord sign-in ended on ${page.url()}: ${await page.locator("body").textContent()}`);
  });
  const text = (await page.locator("body").textContent()) ?? "";
  expect(
    text.includes(`@${OTHER_TRADER.username}`) && text.includes(DEMO_COMMUNITY.name),
    `/app after sign-in: ${text}`,
  );
  for (const call of [
    "POST /api/v10/oauth2/token",
    "GET /api/v10/users/@me/guilds",
    "POST /api/v10/oauth2/token/revoke",
  ]) {
    expect(discord.requests.includes(call), `the Worker never called ${call}: ${discord.requests.join(", ")}`);
  }
  expect(problems.length === 0, `the browser reported:\n    ${problems.join("\n    ")}`);
  await context.close();
  return "Sign in with Discord: /app, the OAuth2 round trip (state, PKCE, token revoked after), back on /app with the community";
}

async function run(browser: Browser, server: DevServer): Promise<string[]> {
  const { baseUrl } = server;
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchProblems(page, baseUrl);
  const passed: string[] = [];

  await page.goto(await signInLink(server));
  await page.getByRole("button").first().click();
  await page.waitForURL(`${baseUrl}/app`, { timeout: WAIT_MS }).catch(async () => {
    throw new CheckFailed(`after the link's button: ${page.url()}: ${await page.locator("body").textContent()}`);
  });
  const cookies = await context.cookies(baseUrl);
  const session = cookies.find((cookie) => cookie.name === LOCAL_SESSION_COOKIE || cookie.name === SESSION_COOKIE);
  expect(session?.httpOnly && session.sameSite === "Lax", `session cookie: ${JSON.stringify(cookies)}`);
  expect(
    (await page.locator("li").allTextContents()).some((text) => text.includes("Demo Trading Community")),
    `dashboard lists: ${await page.locator("body").textContent()}`,
  );
  passed.push("the /dashboard link signs in (HttpOnly, SameSite=Lax) and the dashboard lists the community");

  const socketOpen = page.waitForEvent("websocket", {
    predicate: (ws) => ws.url().includes("/realtime"),
    timeout: WAIT_MS,
  });
  await page.goto(`${baseUrl}/app/inbox`);
  const socket = await socketOpen;
  await page.locator("#unread", { hasText: /\d+ unread/ }).waitFor({ timeout: WAIT_MS });
  const before = await page.locator("#notices li").count();
  const framesSince = { n: 0 };
  socket.on("framereceived", () => {
    framesSince.n += 1;
  });
  passed.push(`the inbox loads (${before} notices) and opens its realtime socket`);

  const sent = await sendDemoSignal({
    baseUrl,
    text: "BUY 10 AAPL MKT",
    privateKeyJwk: server.keys.discord.privateKeyJwk,
    applicationId: server.vars.DISCORD_APPLICATION_ID ?? "",
  });
  expect(sent.status === 200, `/signal answered ${sent.status}`);
  await page.locator("#notices li").nth(before).waitFor({ timeout: WAIT_MS });
  const unread = await unreadOf(page);
  expect(unread > 0 && framesSince.n > 0, `after the signal: ${unread} unread, ${framesSince.n} frames`);
  passed.push(`the signal's notice appears live, without a reload (${unread} unread, ${framesSince.n} frames)`);

  await page.locator("#notices li.unread button").first().click();
  await until(async () => (await unreadOf(page)) < unread, "the unread count to fall after Mark read");
  passed.push("Mark read (a JSON POST from the page) is accepted");

  await page.goto(`${baseUrl}/app/security`);
  await page.getByRole("button", { name: "Set up" }).click();
  await page.locator("#scan").waitFor({ state: "visible", timeout: WAIT_MS });
  await until(
    async () => (await page.locator("#qr").evaluate((img) => (img as { naturalWidth: number }).naturalWidth)) > 0,
    "the QR code to render",
  );
  const secret = (await page.locator("#secret").textContent()) ?? "";
  await page.locator("#confirm-code").fill(totpCode(secret, Date.now()));
  await page.getByRole("button", { name: "Turn on" }).click();
  await page.locator("#codes").waitFor({ state: "visible", timeout: WAIT_MS });
  const backupCodes = await page.locator("#code-list li").allTextContents();
  expect(backupCodes.length === 10, `backup codes shown: ${backupCodes.length}`);
  await page.locator("#verify-code").fill(backupCodes[0] ?? "");
  await page.getByRole("button", { name: "Verify", exact: true }).click();
  await page.locator("#message", { hasText: /^Verified/ }).waitFor({ timeout: WAIT_MS });
  passed.push("two-factor enrolment: the QR code renders, a first code turns it on, a backup code verifies");

  // The member's copy of the signal fills on paper; the dashboard's link then downloads it with the session alone.
  const trades = `${baseUrl}/api/v1/communities/${DEMO_COMMUNITY.id}/trades`;
  await until(async () => {
    const res = await context.request.get(trades);
    return res.ok() && ((await res.json()) as { trades: unknown[] }).trades.length > 0;
  }, "the member's fill in their trade history");
  await page.goto(`${baseUrl}/app`);
  const downloading = page.waitForEvent("download", { timeout: WAIT_MS });
  await page.getByRole("link", { name: "Download trade history (CSV)" }).first().click();
  const download = await downloading;
  const csv = readFileSync(await download.path(), "utf8");
  const [header = "", ...rows] = csv.trim().split("\r\n");
  expect(
    header.startsWith("filled_at,") && rows.length > 0 && /^trades-.+\.csv$/.test(download.suggestedFilename()),
    `downloaded ${download.suggestedFilename()}: ${csv.slice(0, 400)}`,
  );
  passed.push(
    `the dashboard's trade history link downloads the member's fills (${download.suggestedFilename()}, ${rows.length} row)`,
  );

  await page.goto(`${baseUrl}/app`);
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.waitForLoadState();
  const signedOut = (await page.locator("body").textContent()) ?? "";
  expect(signedOut.includes("You are signed out"), `after Sign out: ${page.url()}: ${signedOut}`);
  const me = (await context.request.get(`${baseUrl}/api/v1/me`)).status();
  expect(me === 401, `GET /api/v1/me after sign-out answered ${me}`);
  passed.push("Sign out (a form POST with its CSRF token) ends the session: /api/v1/me answers 401");

  expect(problems.length === 0, `the browser reported:\n    ${problems.join("\n    ")}`);
  passed.push("no CSP violation, script error or failed request on any page");
  await context.close();
  return passed;
}

async function main(): Promise<void> {
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    console.error(`[browser-check] no Chromium at ${executablePath}: apt-get install chromium, or set CHROMIUM_PATH`);
    process.exit(2);
  }
  const discord = await startFakeDiscordHttp({
    account: {
      discordId: OTHER_TRADER.discordId,
      username: OTHER_TRADER.username,
      guilds: [{ id: DEMO_COMMUNITY.guildId, name: DEMO_COMMUNITY.name }],
    },
  });
  const server = await startWranglerDev({
    seed: true,
    vars: { DISCORD_API_BASE: discord.apiBase, DISCORD_OAUTH_AUTHORIZE_URL: discord.authorizeUrl },
  });
  discord.registerClient(server.vars.DISCORD_CLIENT_ID ?? "", server.vars.DISCORD_CLIENT_SECRET ?? "");
  // No sandbox: CI runs as root, which Chromium's sandbox refuses. No /dev/shm: containers give it 64 MB.
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  try {
    console.log(`  ok    ${await discordSignIn(browser, server, discord)}`);
    for (const line of await run(browser, server)) console.log(`  ok    ${line}`);
  } catch (error) {
    console.log(`  FAIL  ${error instanceof Error ? error.message : error}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
    await server.stop();
    await discord.close();
  }
}

await main();
