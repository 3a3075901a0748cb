import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { availableParallelism, loadavg } from "node:os";
import { startWranglerDev } from "../scripts/lib/wrangler-dev.ts";
import { parseSignal } from "../shared/signals/index.ts";
import { type Lane, type LoadResult, runInterleaved, runLoad } from "./lib/load.ts";

/**
 * Discord interaction acknowledgement on workerd (wrangler dev, local): a
 * signed PING, and a signed `/signal` that is verified, validated, checked
 * for its provider, parsed and deferred (type 5). Target (docs/architecture.md §10):
 * p99 < 30 ms at 50 concurrent. 50 concurrent requests on a 2-core machine
 * that also runs the load generator and wrangler are CPU-bound, so a serial
 * and a paced run are reported too. The deferred work (storing, the executor,
 * the follow-up through the notifications queue to a local fake Discord) runs
 * after each acknowledgement and competes for the same cores. Also reports the
 * signal parser's throughput in-process.
 *
 * Side by side (`sideBySide`): the same interaction and `GET /health` interleaved in one closed loop (request i
 * goes to one, i + 1 to the other), at 1, 10 and 50 concurrent, so both are measured under the same load at the
 * same moments; the target is an interaction p99 at most 1.1× /health's at each level. Once with PING (verified
 * and answered), once with the deferred `/signal`. The machine's load average is reported with it.
 *
 * One JSON line on stdout. BENCH_REQUESTS and BENCH_CONCURRENCY override the defaults (1,000 and 50);
 * BENCH_SIDE_REQUESTS the side-by-side requests per route and level (500); BENCH_ONLY=side-by-side runs only
 * that part; BENCH_SIDE_CONCURRENCY ("1,10,50") its levels.
 */

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const WARMUP = Math.min(200, REQUESTS);
const SERIAL = Math.min(300, REQUESTS);
const PACED_RPS = Number(process.env.BENCH_PACED_RPS ?? 20);
const SIDE_REQUESTS = Number(process.env.BENCH_SIDE_REQUESTS ?? 500);
const SIDE_CONCURRENCY = (process.env.BENCH_SIDE_CONCURRENCY ?? "1,10,50").split(",").map(Number);
const SIDE_TARGET_RATIO = 1.1;
/** A loaded 2-core machine runs the deferred /signal work slowly: each side-by-side run may take this long. */
const SIDE_MAX_DURATION_MS = 300_000;
const ONLY_SIDE_BY_SIDE = process.env.BENCH_ONLY === "side-by-side";
const DISCORD_EPOCH = 1420070400000n;
const GUILD_ID = "200000000000000001";
const CHANNEL_ID = "200000000000000002";
const PROVIDER_ROLE_ID = "200000000000000003";
const OWNER = { id: "200000000000000010", username: "bench_owner" };

const log = (message: string) => console.error(`[interactions] ${message}`);

let sequence = 0n;
function snowflake(): string {
  sequence = (sequence + 1n) & 0x3fffffn;
  return String(((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | sequence);
}

/** A stand-in for Discord's API: the notifications consumer's follow-ups land here. */
function fakeDiscord(): Promise<{ server: Server; url: string; calls: () => number }> {
  let calls = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      calls++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: snowflake(), type: 0, content: "", channel_id: CHANNEL_ID }));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}/api/v10`, calls: () => calls });
    });
  });
}

function signer(privateKey: KeyObject) {
  return (body: string): RequestInit => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign(null, Buffer.from(timestamp + body), privateKey).toString("hex");
    return {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-signature-ed25519": signature,
        "x-signature-timestamp": timestamp,
      },
      body,
    };
  };
}

function command(
  name: string,
  options: unknown[],
  who: { id: string; username: string },
  permissions: string,
  roles: string[],
) {
  const id = snowflake();
  return JSON.stringify({
    id,
    application_id: "100000000000000001",
    type: 2,
    token: `bench-token-${id}`,
    version: 1,
    guild_id: GUILD_ID,
    channel_id: CHANNEL_ID,
    member: { user: { id: who.id, username: who.username }, roles, permissions },
    data: { id: "200000000000000099", name, type: 1, options },
  });
}

const figures = (r: LoadResult) => ({
  p50Ms: r.p50Ms,
  p95Ms: r.p95Ms,
  p99Ms: r.p99Ms,
  maxMs: r.maxMs,
  meanMs: r.meanMs,
  rps: r.rps,
  completed: r.completed,
  errors: r.errors + r.unexpected,
});

const loadAverage = () => loadavg().map((n) => Math.round(n * 100) / 100);

/** One interaction lane against /health at each concurrency, interleaved; `after` runs once each level is done. */
async function sideBySide(health: Lane, interaction: Lane, after: (result: LoadResult) => Promise<void>) {
  const levels = [];
  for (const concurrency of SIDE_CONCURRENCY) {
    const warmUp = await runInterleaved({
      lanes: [health, interaction],
      requestsPerLane: Math.min(100, SIDE_REQUESTS),
      concurrency,
      maxDurationMs: SIDE_MAX_DURATION_MS,
    });
    await after(warmUp[1] as LoadResult);
    const [h, i] = (await runInterleaved({
      lanes: [health, interaction],
      requestsPerLane: SIDE_REQUESTS,
      concurrency,
      maxDurationMs: SIDE_MAX_DURATION_MS,
    })) as [LoadResult, LoadResult];
    await after(i);
    for (const [name, result] of [
      ["health", h],
      ["interaction", i],
    ] as const) {
      if (result.errors + result.unexpected > 0 || result.timedOut) {
        log(`side by side at ${concurrency}: ${name} had failures: ${JSON.stringify(result)}`);
        process.exitCode = 1;
      }
    }
    levels.push({
      concurrency,
      healthP99Ms: h.p99Ms,
      interactionP99Ms: i.p99Ms,
      p99Ratio: Math.round((i.p99Ms / h.p99Ms) * 100) / 100,
      withinTarget: i.p99Ms <= SIDE_TARGET_RATIO * h.p99Ms,
      health: figures(h),
      interaction: figures(i),
    });
  }
  return levels;
}

function parserThroughput(): { signalsPerSecond: number; parsed: number } {
  const corpus = [
    "BUY AAPL 10 @ 190.50 SL 185 TP 195",
    "$TSLA long 250-252 stop 245 targets 260, 270",
    "BTO AAPL 12/20 190C @ 2.50",
    "LONG BTC/USDT entry 64000-64500 SL 62000 TP1 66000 TP2 68000 leverage 5x",
    "SHORT ETHUSDT 3400 sl 3550 tp 3200",
    "Trim 50% NVDA",
    "gm everyone, great day",
  ];
  const now = new Date();
  for (let i = 0; i < 2_000; i++) parseSignal(corpus[i % corpus.length] ?? "", { now });
  const rounds = 30_000;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) parseSignal(corpus[i % corpus.length] ?? "", { now });
  const seconds = (performance.now() - started) / 1000;
  return { signalsPerSecond: Math.round(rounds / seconds), parsed: rounds };
}

async function main(): Promise<void> {
  const discord = await fakeDiscord();
  const server = await startWranglerDev({ vars: { DISCORD_API_BASE: discord.url } });
  try {
    const url = `${server.baseUrl}/interactions`;
    const signed = signer(createPrivateKey({ key: server.keys.discord.privateKeyJwk, format: "jwk" }));
    const post = async (body: string) => {
      const res = await fetch(url, signed(body));
      return { status: res.status, json: (await res.json()) as { type?: number; data?: { content?: string } } };
    };

    const ping = () =>
      JSON.stringify({ id: snowflake(), application_id: "100000000000000001", type: 1, token: "t", version: 1 });
    const pong = await post(ping());
    if (pong.status !== 200 || pong.json.type !== 1)
      throw new Error(`PING answered ${pong.status} ${JSON.stringify(pong.json)}`);

    const setup = await post(
      command("setup", [{ name: "provider_role", type: 8, value: PROVIDER_ROLE_ID }], OWNER, "8", []),
    );
    if (setup.status !== 200 || setup.json.type !== 4)
      throw new Error(`/setup answered ${setup.status} ${JSON.stringify(setup.json)}`);
    const provider = (i: number) => ({
      id: String(300000000000000000n + BigInt(i % 20)),
      username: `provider_${i % 20}`,
    });
    const signalBody = (i: number) =>
      command(
        "signal",
        [{ name: "text", type: 3, value: `BUY AAPL ${1 + (i % 9)} @ 190.50 SL 185 TP 195` }],
        provider(i),
        "0",
        [PROVIDER_ROLE_ID],
      );
    const first = await post(signalBody(0));
    if (first.status !== 200 || first.json.type !== 5)
      throw new Error(`/signal answered ${first.status} ${JSON.stringify(first.json)}`);

    const pingInit = () => signed(ping());
    const signalInit = (i: number) => signed(signalBody(i));
    let signalsSent = 1;
    /** Waits until every /signal's deferred follow-up reached the fake Discord, so phases do not overlap. */
    const drain = async () => {
      const deadline = Date.now() + 180_000;
      while (discord.calls() < signalsSent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    };
    const signalLoad = async (options: Omit<Parameters<typeof runLoad>[0], "url" | "init">) => {
      const result = await runLoad({ url, init: signalInit, expectStatus: 200, ...options });
      signalsSent += result.completed;
      await drain();
      return result;
    };

    const loadBefore = loadAverage();
    const health: Lane = { url: `${server.baseUrl}/health`, expectStatus: 200 };
    log(`side by side with /health: ${SIDE_REQUESTS} each per level, at ${SIDE_CONCURRENCY.join(", ")} concurrent`);
    const pingSide = await sideBySide(health, { url, init: pingInit, expectStatus: 200 }, async () => {});
    await drain();
    const signalSide = await sideBySide(health, { url, init: signalInit, expectStatus: 200 }, async (result) => {
      signalsSent += result.completed;
      await drain();
    });
    const side = {
      requestsPerLane: SIDE_REQUESTS,
      targetP99Ratio: SIDE_TARGET_RATIO,
      loadAverage: { before: loadBefore, after: loadAverage() },
      ping: pingSide,
      signalDeferred: signalSide,
    };
    if (ONLY_SIDE_BY_SIDE) {
      console.log(JSON.stringify({ bench: "interactions", sideBySide: side, cpus: availableParallelism() }));
      return;
    }

    log(`PING: ${WARMUP} warm-up, ${REQUESTS} at concurrency ${CONCURRENCY}, ${SERIAL} serial`);
    await runLoad({ url, requests: WARMUP, concurrency: CONCURRENCY, init: pingInit });
    const pingRun = await runLoad({
      url,
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      init: pingInit,
      expectStatus: 200,
    });
    const pingSerial = await runLoad({ url, requests: SERIAL, concurrency: 1, init: pingInit, expectStatus: 200 });

    log(
      `/signal: ${WARMUP} warm-up, ${REQUESTS} at concurrency ${CONCURRENCY}, ${SERIAL} serial, ${SERIAL} paced at ${PACED_RPS}/s`,
    );
    await drain();
    await signalLoad({ requests: WARMUP, concurrency: CONCURRENCY });
    const runs = {
      ping: pingRun,
      pingSerial,
      signal: await signalLoad({ requests: REQUESTS, concurrency: CONCURRENCY }),
      signalSerial: await signalLoad({ requests: SERIAL, concurrency: 1 }),
      signalPaced: await signalLoad({ requests: SERIAL, concurrency: CONCURRENCY, ratePerSecond: PACED_RPS }),
    };
    for (const [name, result] of Object.entries(runs)) {
      if (result.errors + result.unexpected > 0 || result.timedOut) {
        log(`${name} had failures: ${JSON.stringify(result)}`);
        process.exitCode = 1;
      }
    }

    console.log(
      JSON.stringify({
        bench: "interactions",
        concurrency: CONCURRENCY,
        requests: REQUESTS,
        targetP99Ms: 30,
        ping: figures(runs.ping),
        signalDeferred: figures(runs.signal),
        serial: {
          requests: SERIAL,
          ping: { p50Ms: runs.pingSerial.p50Ms, p99Ms: runs.pingSerial.p99Ms, rps: runs.pingSerial.rps },
          signalDeferred: {
            p50Ms: runs.signalSerial.p50Ms,
            p99Ms: runs.signalSerial.p99Ms,
            rps: runs.signalSerial.rps,
          },
        },
        paced: {
          ratePerSecond: PACED_RPS,
          signalDeferred: {
            p50Ms: runs.signalPaced.p50Ms,
            p95Ms: runs.signalPaced.p95Ms,
            p99Ms: runs.signalPaced.p99Ms,
          },
        },
        sideBySide: side,
        followUps: { sent: signalsSent, delivered: discord.calls() },
        parser: parserThroughput(),
        cpus: availableParallelism(),
      }),
    );
  } finally {
    await server.stop();
    discord.server.close();
  }
}

main().catch((error: unknown) => {
  console.error(`[interactions] ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  process.exit(1);
});
