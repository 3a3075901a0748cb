import { availableParallelism } from "node:os";
import { startWranglerDev } from "../scripts/lib/wrangler-dev.ts";
import { type LoadResult, runLoad } from "./lib/load.ts";

/**
 * HTTP middleware overhead on workerd (wrangler dev, local): `GET /health` (the
 * cheapest route) and `GET /no-such-route` (a JSON 404 built by the error
 * handler), both through the full middleware stack. One JSON line on stdout.
 * BENCH_REQUESTS and BENCH_CONCURRENCY override the defaults (2,000 and 50).
 */

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const WARMUP = Math.min(500, REQUESTS);

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

async function sanity(baseUrl: string): Promise<void> {
  const health = await fetch(`${baseUrl}/health`);
  const healthBody = (await health.json()) as { status?: string };
  if (health.status !== 200 || healthBody.status !== "ok") throw new Error(`/health answered ${health.status}`);
  const ready = await fetch(`${baseUrl}/ready`);
  const readyBody = (await ready.json()) as { status?: string };
  if (ready.status !== 200 || readyBody.status !== "ready") throw new Error(`/ready answered ${ready.status}`);
  const missing = await fetch(`${baseUrl}/no-such-route`);
  const body = (await missing.json()) as { error?: { code?: string } };
  if (missing.status !== 404 || !body.error?.code || !missing.headers.get("x-request-id")) {
    throw new Error(`/no-such-route answered ${missing.status} without the JSON error shape`);
  }
}

async function main(): Promise<void> {
  const server = await startWranglerDev();
  try {
    await sanity(server.baseUrl);
    const health = `${server.baseUrl}/health`;
    const notFound = `${server.baseUrl}/no-such-route`;

    console.error(`[http-middleware] warm-up: ${WARMUP} requests per route`);
    await runLoad({ url: health, requests: WARMUP, concurrency: CONCURRENCY });
    await runLoad({ url: notFound, requests: WARMUP, concurrency: CONCURRENCY });

    console.error(`[http-middleware] measuring: ${REQUESTS} requests per route at concurrency ${CONCURRENCY}`);
    const healthResult = await runLoad({
      url: health,
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      expectStatus: 200,
    });
    const notFoundResult = await runLoad({
      url: notFound,
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      expectStatus: 404,
    });
    // Baseline without queueing: one request at a time, so the concurrent figures
    // can be read as per-request cost plus waiting for the (shared) CPU.
    const serialRequests = Math.min(500, REQUESTS);
    const healthSerial = await runLoad({ url: health, requests: serialRequests, concurrency: 1, expectStatus: 200 });
    const notFoundSerial = await runLoad({
      url: notFound,
      requests: serialRequests,
      concurrency: 1,
      expectStatus: 404,
    });

    const runs = { health: healthResult, notFound: notFoundResult, healthSerial, notFoundSerial };
    for (const [name, result] of Object.entries(runs)) {
      if (result.errors + result.unexpected > 0 || result.timedOut) {
        console.error(`[http-middleware] ${name} had failures: ${JSON.stringify(result)}`);
        process.exitCode = 1;
      }
    }

    console.log(
      JSON.stringify({
        bench: "http-middleware",
        concurrency: CONCURRENCY,
        requests: REQUESTS,
        health: figures(healthResult),
        notFound: figures(notFoundResult),
        serial: {
          requests: serialRequests,
          health: { p50Ms: healthSerial.p50Ms, p99Ms: healthSerial.p99Ms, rps: healthSerial.rps },
          notFound: { p50Ms: notFoundSerial.p50Ms, p99Ms: notFoundSerial.p99Ms, rps: notFoundSerial.rps },
        },
        cpus: availableParallelism(),
      }),
    );
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`[http-middleware] ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  process.exit(1);
});
