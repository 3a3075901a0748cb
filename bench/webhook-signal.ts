import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_COMMUNITY, DEMO_PROVIDER } from "../scripts/lib/seed-data.ts";
import { applyLocalMigrations, runWranglerOrThrow } from "../scripts/lib/wrangler.ts";
import { startWranglerDev } from "../scripts/lib/wrangler-dev.ts";
import { seedLocal } from "../scripts/seed.ts";
import { summarize } from "./lib/load.ts";

/**
 * Webhook signal to `signal.accepted` on workerd (wrangler dev, local), serially. Target (docs/architecture.md §10): p99 < 50 ms.
 * The seeded demo community (a provider with three paper followers) gets a signal webhook over the operator API;
 * then alerts as TradingView sends them (TradersPost JSON with `time`) are posted one at a time. The 202 is sent
 * after `CommunityExecutor.submitSignal()` returns, which publishes `signal.accepted` before it returns, so each
 * figure (send to the end of the 202's body) bounds the time to `signal.accepted` from above. Every answer must be
 * 202 `accepted`. Crypto pairs trade around the clock, so the run does not depend on market hours; the demo community
 * is on the enterprise plan for the run (the free plan executes 50 signals a day). One JSON line on stdout.
 * Requests start one a second, the webhook's sustained rate limit (a sender beyond it gets 429), so the run
 * takes about BENCH_REQUESTS seconds. A `GET /health` right after each signal, through the same middleware, shows
 * what the machine itself costs at that moment (on a shared 2-core machine, most of it). BENCH_REQUESTS (default 200) and BENCH_WARMUP (20) override the counts.
 */

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
/** One webhook takes 60 requests a minute (after a burst of 60): one a second keeps the run inside its limit. */
const PACE_MS = 1_000;
const PAIRS = ["BTCUSD", "ETHUSD", "SOLUSD", "XRPUSD", "ADAUSD", "DOGEUSD", "LTCUSD", "LINKUSD"];

const log = (message: string) => console.error(`[webhook-signal] ${message}`);

/** A stand-in for Discord's API: fill notices (DMs) land here instead of retrying into the dead-letter queue. */
function fakeDiscord(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "200000000000000001", type: 1, content: "", channel_id: "200000000000000002" }));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}/api/v10` });
    });
  });
}

async function main(): Promise<void> {
  const discord = await fakeDiscord();
  const persistTo = mkdtempSync(join(tmpdir(), "dte-bench-webhook-"));
  await applyLocalMigrations({ persistTo, capture: true });
  await seedLocal({ persistTo, quiet: true });
  await runWranglerOrThrow(
    [
      "d1",
      "execute",
      "DB",
      "--local",
      "--yes",
      "--persist-to",
      persistTo,
      "--command",
      `UPDATE communities SET tier = 'enterprise' WHERE id = '${DEMO_COMMUNITY.id}'`,
    ],
    { capture: true },
  );
  const server = await startWranglerDev({ persistTo, vars: { DISCORD_API_BASE: discord.url } });
  try {
    const created = await fetch(`${server.baseUrl}/api/v1/communities/${DEMO_COMMUNITY.id}/signal-webhooks`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.vars.OPS_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ provider: DEMO_PROVIDER.discordId }),
    });
    if (created.status !== 201)
      throw new Error(`creating the webhook answered ${created.status}: ${await created.text()}`);
    const { url } = (await created.json()) as { url: string };
    const target = `${server.baseUrl}${new URL(url).pathname}`;

    let sent = 0;
    const post = async () => {
      const i = sent++;
      const body = JSON.stringify({
        ticker: PAIRS[i % PAIRS.length],
        action: "buy",
        sentiment: "long",
        // Distinct quantities: no two alerts are a double post of each other.
        quantity: (0.001 * (1 + i)).toFixed(3),
        time: new Date().toISOString(),
      });
      const started = performance.now();
      const res = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
      const answer = (await res.json()) as { status?: string };
      return { ms: performance.now() - started, http: res.status, status: answer.status ?? "(none)" };
    };

    log(`${WARMUP} warm-up, then ${REQUESTS} serial webhook signals`);
    for (let i = 0; i < WARMUP; i++) await post();
    const latencies: number[] = [];
    const health: number[] = [];
    const outcomes: Record<string, number> = {};
    const started = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      const due = started + i * PACE_MS;
      if (performance.now() < due) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
      const { ms, http, status } = await post();
      latencies.push(ms);
      const probe = performance.now();
      await (await fetch(`${server.baseUrl}/health`)).json();
      health.push(performance.now() - probe);
      const outcome = `${http} ${status}`;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    const seconds = (performance.now() - started) / 1000;
    if (outcomes["202 accepted"] !== REQUESTS) {
      log(`not every signal was accepted: ${JSON.stringify(outcomes)}`);
      process.exitCode = 1;
    }
    console.log(
      JSON.stringify({
        bench: "webhook-signal",
        targetP99Ms: 50,
        serial: { requests: REQUESTS, paceMs: PACE_MS, ...summarize(latencies), seconds: Math.round(seconds) },
        health: summarize(health),
        outcomes,
        followers: 3,
        cpus: availableParallelism(),
        loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
      }),
    );
  } finally {
    await server.stop();
    discord.server.close();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`[webhook-signal] ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  process.exit(1);
});
