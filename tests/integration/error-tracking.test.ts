import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker, { CommunityExecutor } from "../../workers/app";
import { BASE, opsHeaders } from "../support/http";
import { TEST_VARS } from "../support/test-vars";

/** A DSN as Sentry shows it under a project's Client Keys; its ingest host is faked at the HTTP boundary below. */
const DSN = "https://0123456789abcdef0123456789abcdef@o42.ingest.sentry.test/4242";
const INGEST = "https://o42.ingest.sentry.test/api/4242/envelope/";

interface Envelope {
  url: string;
  headers: Record<string, unknown>;
  items: Array<{ header: Record<string, unknown>; payload: Record<string, unknown> }>;
  raw: string;
}

/**
 * The fake ingest: every POST to Sentry's envelope endpoint is parsed as the envelope format Sentry documents
 * (newline-separated JSON: the envelope header, then a header and a payload per item); other requests pass through.
 */
function fakeSentryIngest() {
  const envelopes: Envelope[] = [];
  const realFetch = globalThis.fetch;
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(INGEST)) return realFetch(input, init);
    const raw = await request.text();
    const [head, ...rest] = raw.split("\n").filter((line) => line.length > 0);
    const items: Envelope["items"] = [];
    for (let i = 0; i + 1 < rest.length; i += 2) {
      items.push({ header: JSON.parse(rest[i] as string), payload: JSON.parse(rest[i + 1] as string) });
    }
    envelopes.push({ url: request.url, headers: JSON.parse(head as string), items, raw });
    return new Response(JSON.stringify({ id: crypto.randomUUID().replaceAll("-", "") }), { status: 200 });
  });
  const events = () => envelopes.flatMap((e) => e.items.filter((i) => i.header.type === "event").map((i) => i.payload));
  return { envelopes, events, spy };
}

/** A D1 binding that fails every statement, as D1 does during an outage (a separate object: the real one is shared). */
function brokenDatabase(message: string): D1Database {
  const fail = () => {
    throw new Error(message);
  };
  return { prepare: fail, batch: fail, exec: fail, dump: fail, withSession: fail } as unknown as D1Database;
}

const tags = (event: Record<string, unknown>) => (event.tags ?? {}) as Record<string, string>;

async function fetchWorker(path: string, withEnv: Env, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${BASE}${path}`, init), withEnv, ctx);
  await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return res;
}

afterEach(() => vi.restoreAllMocks());

describe("error tracking", () => {
  it("Scenario: A request's error reaches the error tracker with its request id, community and route", async () => {
    const ingest = fakeSentryIngest();
    const communityId = crypto.randomUUID();
    const res = await fetchWorker(
      `/api/v1/communities/${communityId}`,
      {
        ...env,
        SENTRY_DSN: DSN,
        DB: brokenDatabase("D1_ERROR: the database is unavailable"),
      } as Env,
      { headers: opsHeaders() },
    );
    expect(res.status).toBe(500);

    expect(ingest.envelopes.length).toBeGreaterThan(0);
    const envelope = ingest.envelopes[0] as Envelope;
    expect(envelope.url).toContain("sentry_key=0123456789abcdef0123456789abcdef");
    expect(envelope.headers.event_id).toMatch(/^[0-9a-f]{32}$/);
    const [event] = ingest.events();
    expect(event).toBeDefined();
    expect(tags(event as Record<string, unknown>)).toMatchObject({
      requestId: res.headers.get("x-request-id"),
      communityId,
      route: "/api/v1/communities/:communityId",
      log: "request.failed",
    });
    expect(event?.level).toBe("error");
    expect(event?.environment).toBe("test");
    expect(JSON.stringify(event?.exception)).toContain("the database is unavailable");
  });

  it("Scenario: Secrets never reach the error tracker", async () => {
    const ingest = fakeSentryIngest();
    const leaky = `D1_ERROR: auth ${TEST_VARS.OPS_TOKEN} via https://discord.com/api/v10/webhooks/100000000000000001/aW50ZXJhY3Rpb246dG9rZW4/messages/@original?token=abc123secret, then POST http://localhost:8787/webhooks/signals/S1gnalWebhookKeyS1gnalWebhookKeyS1gnalWebho`;
    const res = await fetchWorker(
      `/api/v1/communities/${crypto.randomUUID()}?access_token=query-secret-value`,
      { ...env, SENTRY_DSN: DSN, DB: brokenDatabase(leaky) } as Env,
      { headers: opsHeaders({ cookie: "__Host-session=session-cookie-value" }) },
    );
    expect(res.status).toBe(500);
    const raw = ingest.envelopes.map((e) => e.raw).join("\n");
    expect(ingest.events().length).toBeGreaterThan(0);
    for (const secret of [
      TEST_VARS.OPS_TOKEN,
      TEST_VARS.DISCORD_BOT_TOKEN,
      "aW50ZXJhY3Rpb246dG9rZW4",
      "S1gnalWebhookKey",
      "abc123secret",
      "query-secret-value",
      "session-cookie-value",
    ]) {
      expect(raw).not.toContain(secret);
    }
    expect(raw).toContain("[redacted]");
  });

  it("Scenario: Nothing is sent to the error tracker without a DSN", async () => {
    const ingest = fakeSentryIngest();
    const res = await fetchWorker(
      `/api/v1/communities/${crypto.randomUUID()}`,
      {
        ...env,
        DB: brokenDatabase("D1_ERROR: the database is unavailable"),
      } as Env,
      { headers: opsHeaders() },
    );
    expect(res.status).toBe(500);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/15 * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(ingest.envelopes).toEqual([]);
    expect(
      ingest.spy.mock.calls.filter(([input]) =>
        String(input instanceof Request ? input.url : input).includes("sentry"),
      ),
    ).toEqual([]);
  });

  it("Scenario: Errors of queue consumers, crons and Durable Objects reach the error tracker", async () => {
    const ingest = fakeSentryIngest();
    const tracked = { ...env, SENTRY_DSN: DSN } as Env;

    const batch = createMessageBatch("order-submissions", [
      { id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: { not: "an order" } },
    ]);
    const queueCtx = createExecutionContext();
    await worker.queue(batch, tracked, queueCtx);
    await waitOnExecutionContext(queueCtx);
    expect(ingest.events().map(tags)).toContainEqual(
      expect.objectContaining({ log: "order.message_invalid", queue: "order-submissions" }),
    );

    const cronCtx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: "*/15 * * * *", scheduledTime: Date.now() }),
      tracked,
      cronCtx,
    );
    await waitOnExecutionContext(cronCtx);
    expect(ingest.events().map(tags)).toContainEqual(
      expect.objectContaining({ log: "cron.job_failed", cron: "*/15 * * * *", job: "refresh_broker_tokens" }),
    );

    // A Durable Object built with a DSN in its env, as the runtime builds it: an error its method throws is tracked.
    const missing = `missing-${crypto.randomUUID()}`;
    const stub = env.COMMUNITY_EXECUTOR.get(env.COMMUNITY_EXECUTOR.idFromName(missing));
    await runInDurableObject(stub, async (_instance, state) => {
      const executor = new CommunityExecutor(state, tracked);
      await expect(executor.verifyAuditChain({ communityId: missing })).rejects.toThrow(/does not exist/);
    });
    await vi.waitFor(() => {
      const thrown = ingest.events().find((event) => JSON.stringify(event.exception ?? "").includes("does not exist"));
      expect(thrown).toBeDefined();
    });
  });
});
