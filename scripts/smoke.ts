import { createHmac } from "node:crypto";
import { expect } from "./lib/check.ts";
import { sendDemoClose, sendDemoSignal, waitForOrders } from "./lib/demo-signal.ts";
import { freshLocalSecrets } from "./lib/dev-vars.ts";
import { DEMO_COMMUNITY, DEMO_PROVIDER, DEMO_USERS } from "./lib/seed-data.ts";
import { type DevServer, startWranglerDev } from "./lib/wrangler-dev.ts";

/**
 * `npm run smoke`: the contract checked from outside, as a client sees it. Starts a private
 * `wrangler dev` (migrated, seeded, generated secrets) and calls it over HTTP; then starts one
 * in production mode without OPS_TOKEN and checks that it refuses to serve. CI runs it.
 */

interface Check {
  name: string;
  run(server: DevServer): Promise<void>;
}

async function json(res: Response): Promise<Record<string, unknown>> {
  const type = res.headers.get("content-type") ?? "";
  expect(type.includes("application/json"), `expected JSON, got ${type || "no content-type"}`);
  return (await res.json()) as Record<string, unknown>;
}

async function expectError(res: Response, status: number, code: string): Promise<void> {
  const body = (await json(res)) as { error?: { code?: string; requestId?: string; message?: string } };
  expect(res.status === status, `expected ${status}, got ${res.status} (${JSON.stringify(body)})`);
  expect(body.error?.code === code, `expected code ${code}, got ${body.error?.code}`);
  expect(typeof body.error?.message === "string", "error.message missing");
  expect(body.error?.requestId === res.headers.get("x-request-id"), "error.requestId differs from x-request-id");
}

const ops = (server: DevServer, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${server.vars.OPS_TOKEN}`,
  ...extra,
});

const developmentChecks: Check[] = [
  {
    name: "GET /health is ok with a request id",
    async run({ baseUrl }) {
      const res = await fetch(`${baseUrl}/health`);
      expect(JSON.stringify(await json(res)) === '{"status":"ok"}', "body is not {status:ok}");
      expect(res.headers.get("x-request-id"), "x-request-id missing");
    },
  },
  {
    name: "GET /ready reports every check ok",
    async run({ baseUrl }) {
      const res = await fetch(`${baseUrl}/ready`);
      const body = (await json(res)) as { status: string; checks: Record<string, { ok: boolean }> };
      expect(res.status === 200 && body.status === "ready", `not ready: ${JSON.stringify(body)}`);
      for (const name of ["config", "d1", "communityExecutor", "realtimeHub", "rateLimiter"]) {
        expect(body.checks[name]?.ok === true, `check ${name} is not ok`);
      }
    },
  },
  {
    name: "unknown route is a JSON 404",
    run: async ({ baseUrl }) => expectError(await fetch(`${baseUrl}/no-such-route`), 404, "ROUTE_NOT_FOUND"),
  },
  {
    name: "wrong method is a 405 with Allow",
    async run({ baseUrl }) {
      const res = await fetch(`${baseUrl}/health`, { method: "DELETE" });
      expect(res.headers.get("allow") === "GET, HEAD", `Allow is ${res.headers.get("allow")}`);
      await expectError(res, 405, "METHOD_NOT_ALLOWED");
    },
  },
  {
    name: "the OpenAPI 3.1 document lists the JSON API",
    async run({ baseUrl }) {
      const doc = (await json(await fetch(`${baseUrl}/api/v1/openapi.json`))) as {
        openapi: string;
        paths: Record<string, unknown>;
      };
      expect(doc.openapi === "3.1.0", `openapi is ${doc.openapi}`);
      for (const path of ["/health", "/ready", "/api/v1/communities/{communityId}/audit", "/api/v1/ops/dead-letters"]) {
        expect(path in doc.paths, `${path} is not described`);
      }
    },
  },
  {
    name: "operator endpoints refuse a missing token",
    run: async ({ baseUrl }) => expectError(await fetch(`${baseUrl}/api/v1/ops/dead-letters`), 401, "UNAUTHORIZED"),
  },
  {
    name: "the demo community's audit chain verifies",
    async run(server) {
      const res = await fetch(`${server.baseUrl}/api/v1/communities/${DEMO_COMMUNITY.id}/audit?verify=1`, {
        headers: ops(server),
      });
      const body = (await json(res)) as { verification?: { ok: boolean; count: number } };
      expect(res.status === 200, `status ${res.status}`);
      expect(body.verification?.ok === true && body.verification.count >= 1, JSON.stringify(body.verification));
    },
  },
  {
    name: "malformed JSON is a 400 with the parser's message",
    async run(server) {
      const res = await fetch(`${server.baseUrl}/api/v1/ops/flags/smoke_flag`, {
        method: "PUT",
        headers: ops(server, { "content-type": "application/json" }),
        body: '{"enabledByDefault": ',
      });
      await expectError(res, 400, "INVALID_JSON");
    },
  },
  {
    name: "a non-JSON body is a 415",
    async run(server) {
      const res = await fetch(`${server.baseUrl}/api/v1/ops/flags/smoke_flag`, {
        method: "PUT",
        headers: ops(server, { "content-type": "text/plain" }),
        body: "enabled",
      });
      await expectError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
    },
  },
  {
    name: "a body over 64 KiB is a 413",
    async run(server) {
      const res = await fetch(`${server.baseUrl}/api/v1/ops/flags/smoke_flag`, {
        method: "PUT",
        headers: ops(server, { "content-type": "application/json" }),
        body: JSON.stringify({ description: "x".repeat(70 * 1024) }),
      });
      await expectError(res, 413, "PAYLOAD_TOO_LARGE");
    },
  },
  {
    name: "the daily cron runs through the scheduled handler",
    async run({ baseUrl }) {
      const res = await fetch(`${baseUrl}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("0 2 * * *")}`);
      await res.arrayBuffer();
      expect(res.status === 200, `scheduled handler answered ${res.status}`);
    },
  },
];

const productionChecks: Check[] = [
  {
    name: "production without OPS_TOKEN answers 503 CONFIG_INVALID",
    run: async ({ baseUrl }) => expectError(await fetch(`${baseUrl}/health`), 503, "CONFIG_INVALID"),
  },
  {
    name: "production /ready names the missing variable",
    async run({ baseUrl }) {
      const res = await fetch(`${baseUrl}/ready`);
      const text = await res.text();
      expect(res.status === 503 && text.includes('"variable":"OPS_TOKEN"'), `ready answered ${res.status}: ${text}`);
    },
  },
];

const DEFERRED_PRIVATELY = JSON.stringify({ type: 5, data: { flags: 64 } });

const embeddedDemoCheck: Check = {
  name: "a signed /signal from the demo provider becomes filled paper orders for its three followers",
  async run({ baseUrl, vars, keys }) {
    const opsToken = vars.OPS_TOKEN ?? "";
    const sent = await sendDemoSignal({
      baseUrl,
      text: "BUY 10 AAPL MKT",
      privateKeyJwk: keys.discord.privateKeyJwk,
      applicationId: vars.DISCORD_APPLICATION_ID ?? "",
    });
    // Deferred (type 5), privately: the provider's own reply says what happened, the channel sees only an accepted signal.
    const deferred = JSON.stringify(sent.body) === DEFERRED_PRIVATELY;
    expect(sent.status === 200 && deferred, `/interactions answered ${sent.status}: ${JSON.stringify(sent.body)}`);
    const orders = await waitForOrders(
      baseUrl,
      opsToken,
      (all) => all.filter((o) => o.leg === "entry" && o.status === "filled").length >= 3,
    );
    const filled = orders.filter((o) => o.leg === "entry" && o.status === "filled");
    expect(filled.length === 3, `entries: ${JSON.stringify(orders.map((o) => [o.userId, o.leg, o.status]))}`);
  },
};

/** After the demo signal: one follower closes their copy with /close, and their trade history has both fills. */
const closeAndHistoryCheck: Check = {
  name: "a follower's signed /close symbol:AAPL sells their paper copy, and their trades CSV lists the buy and the sell",
  async run({ baseUrl, vars, keys }) {
    const opsToken = vars.OPS_TOKEN ?? "";
    const follower = DEMO_USERS.find((user) => user.username === "demo_trader_1");
    if (!follower) throw new Error("the seed has no demo_trader_1");
    const sent = await sendDemoClose({
      baseUrl,
      privateKeyJwk: keys.discord.privateKeyJwk,
      applicationId: vars.DISCORD_APPLICATION_ID ?? "",
      user: follower,
      symbol: "AAPL",
    });
    expect(
      sent.status === 200 && JSON.stringify(sent.body) === DEFERRED_PRIVATELY,
      `/close answered ${sent.status}: ${JSON.stringify(sent.body)}`,
    );
    const isTheirSell = (o: { userId: string; side: string; symbol: string; status: string }) =>
      o.userId === follower.id && o.side === "sell" && o.symbol === "AAPL" && o.status === "filled";
    const orders = await waitForOrders(baseUrl, opsToken, (all) => all.some(isTheirSell));
    const mine = orders.filter((o) => o.userId === follower.id);
    expect(mine.some(isTheirSell), `their orders: ${JSON.stringify(mine.map((o) => [o.leg, o.side, o.status]))}`);

    const res = await fetch(
      `${baseUrl}/api/v1/communities/${DEMO_COMMUNITY.id}/trades?format=csv&user_id=${follower.discordId}`,
      { headers: { authorization: `Bearer ${opsToken}` } },
    );
    const csv = await res.text();
    const [header = "", ...rows] = csv.trim().split("\r\n");
    const column = (name: string) => header.split(",").indexOf(name);
    const cells = rows.map((row) => row.split(","));
    const sides = cells.map((row) => row[column("side")]).sort();
    const quantities = new Set(cells.map((row) => row[column("quantity")]));
    expect(
      res.status === 200 &&
        (res.headers.get("content-type") ?? "").startsWith("text/csv") &&
        header.startsWith("filled_at,") &&
        JSON.stringify(sides) === JSON.stringify(["buy", "sell"]) &&
        quantities.size === 1,
      `trades answered ${res.status} ${res.headers.get("content-type")}: ${csv.slice(0, 600)}`,
    );
  },
};

/**
 * A signal webhook over the operator API: its signing secret is sealed by the credential vault under the community's
 * data key, so a signed TradersPost alert is verified through it; a wrong signature is refused; the metrics show the key.
 */
const signedWebhookCheck: Check = {
  name: "a signal webhook takes a TradersPost alert signed with its secret (sealed by the vault) and refuses a wrong signature",
  async run(server) {
    const { baseUrl } = server;
    const base = `${baseUrl}/api/v1/communities/${DEMO_COMMUNITY.id}/signal-webhooks`;
    const listed = (await json(await fetch(base, { headers: ops(server) }))) as {
      webhooks?: { id: string; providerDiscordId: string | null }[];
    };
    for (const webhook of listed.webhooks ?? []) {
      if (webhook.providerDiscordId !== DEMO_PROVIDER.discordId) continue;
      await (await fetch(`${base}/${webhook.id}`, { method: "DELETE", headers: ops(server) })).arrayBuffer();
    }
    const created = await fetch(base, {
      method: "POST",
      headers: ops(server, { "content-type": "application/json" }),
      body: JSON.stringify({ provider: DEMO_PROVIDER.discordId }),
    });
    const issued = (await json(created)) as { url?: string; secret?: string };
    expect(created.status === 201 && issued.url && issued.secret, `create answered ${created.status}`);
    const path = new URL(issued.url ?? "").pathname;
    const body = JSON.stringify({ ticker: "MSFT", action: "buy", quantity: 1 });
    const post = (signature: string) =>
      fetch(`${baseUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-signature": `sha256=${signature}` },
        body,
      });
    const signed = await post(
      createHmac("sha256", issued.secret ?? "")
        .update(body)
        .digest("hex"),
    );
    const receipt = (await json(signed)) as { signalId?: string };
    expect(signed.status === 202 && typeof receipt.signalId === "string", `signed alert answered ${signed.status}`);
    await expectError(await post("0".repeat(64)), 401, "INVALID_SIGNATURE");
    const metrics = (await json(await fetch(`${baseUrl}/api/v1/ops/metrics`, { headers: ops(server) }))) as {
      vault?: { configured?: boolean; activeKeys?: number };
    };
    expect(
      metrics.vault?.configured === true && (metrics.vault.activeKeys ?? 0) >= 1,
      `vault metrics: ${JSON.stringify(metrics.vault)}`,
    );
  },
};

/** In order: the close acts on the copy the signal made; the webhook's alert comes after, on another symbol. */
const demoChecks = [embeddedDemoCheck, closeAndHistoryCheck, signedWebhookCheck];

async function runChecks(label: string, server: DevServer, checks: Check[]): Promise<number> {
  let failed = 0;
  for (const check of checks) {
    try {
      await check.run(server);
      console.log(`  ok    ${label}: ${check.name}`);
    } catch (error) {
      failed++;
      console.log(`  FAIL  ${label}: ${check.name}: ${error instanceof Error ? error.message : error}`);
    }
  }
  return failed;
}

/** `npm start` on a fresh machine generates its vars first: a config rule they cannot meet stops it there. */
function freshStartCheck(): number {
  const name = "npm start's freshly generated .dev.vars pass the Worker's config, as they are and as if deployed";
  try {
    freshLocalSecrets(8787);
    console.log(`  ok    fresh machine: ${name}`);
    return 0;
  } catch (error) {
    console.log(`  FAIL  fresh machine: ${name}: ${error instanceof Error ? error.message : error}`);
    return 1;
  }
}

async function main(): Promise<void> {
  let failed = freshStartCheck();
  const development = await startWranglerDev({ seed: true });
  try {
    failed += await runChecks("development", development, [...developmentChecks, ...demoChecks]);
  } finally {
    await development.stop();
  }
  const production = await startWranglerDev({
    vars: { ENVIRONMENT: "production", PUBLIC_BASE_URL: "https://trade.example.com", QUOTE_FEED: "live" },
    omitVars: ["OPS_TOKEN"],
    readyStatus: 503,
  });
  try {
    failed += await runChecks("production", production, productionChecks);
  } finally {
    await production.stop();
  }
  const total = developmentChecks.length + demoChecks.length + productionChecks.length;
  console.log(`smoke: ${total - failed} of ${total} contract checks ok`);
  if (failed > 0) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
