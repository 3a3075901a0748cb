import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CommunityExecutor } from "../../durable-objects/community-executor";
import { ENTRY_LEG } from "../../shared/orders/legs";
import { gcra } from "../../shared/rate-limit";
import { WEBHOOK_RATE_LIMITS } from "../../workers/signal-webhooks/receive";
import { fakeDiscordApi } from "../support/discord";
import { AAPL_MARKET_BUY, communityWithFollowers, executorOf, settle, type TestCommunity } from "../support/execution";
import { call, errorOf, opsHeaders } from "../support/http";
import { createWebhook, hmacHex, postSignal, signalCount, type TestWebhook } from "../support/signal-webhooks";
import * as docs from "../support/traderspost-payloads";

beforeEach(() => {
  // Fill notices go to Discord as DMs: answered here as Discord would.
  fakeDiscordApi();
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** The entry orders (not the exits the engine adds after a fill) of a signal. */
async function entriesOf(community: TestCommunity, signalId: string) {
  const orders = await community.tenant.execution.listOrders({ limit: 100 });
  return orders.filter((o) => o.signalId === signalId && o.leg === ENTRY_LEG);
}

interface Receipt {
  signalId: string;
  status: string;
  summary: { message: string; code?: string; followers?: number; ordersQueued?: number };
}

async function withWebhook(followers = 2): Promise<{ community: TestCommunity; webhook: TestWebhook }> {
  const community = await communityWithFollowers(followers);
  return { community, webhook: await createWebhook(community.communityId, community.providerId) };
}

async function receipt(res: Response): Promise<Receipt> {
  if (res.status !== 202) throw new Error(`expected 202, got ${res.status}: ${await res.text()}`);
  return (await res.json()) as Receipt;
}

/** The error body exactly: code, message and the request id of the response, nothing else but details. */
async function refusal(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const error = await errorOf(res);
  expect(error.code).toBe(code);
  expect(Object.keys(error).sort()).toEqual(
    error.details ? ["code", "details", "message", "requestId"] : ["code", "message", "requestId"],
  );
  return error;
}

const strategyAlert = (overrides: Partial<Parameters<typeof docs.tradingViewStrategy>[0]> = {}) =>
  docs.tradingViewStrategy({
    ticker: "AAPL",
    action: "buy",
    marketPosition: "long",
    contracts: "3",
    close: "190.5",
    timenow: new Date().toISOString(),
    ...overrides,
  });

describe("signal webhook intake", () => {
  it("Scenario: A TradersPost alert becomes orders like a /signal", async () => {
    const { community, webhook } = await withWebhook(2);
    const body = strategyAlert();
    const res = await postSignal(webhook.path, body);
    const answer = await receipt(res);
    expect(answer).toMatchObject({ status: "accepted", summary: { followers: 2, ordersQueued: 2 } });
    expect(answer.summary.message).toMatch(/^accepted: 2 followers → 2 orders queued/);
    const row = await community.tenant.signals.get(answer.signalId);
    expect(row).toMatchObject({
      source: "webhook",
      providerUserId: community.providerId,
      sourceTimestamp: Date.parse(body.time),
      rawText: JSON.stringify(body),
      status: "accepted",
      normalized: { action: "buy", assetClass: "equity", symbol: "AAPL", quantity: 3, orderType: "market" },
    });
    const orders = await community.tenant.execution.listOrders({ limit: 10 });
    expect(
      orders
        .filter((o) => o.signalId === answer.signalId)
        .map((o) => o.userId)
        .sort(),
    ).toEqual([...community.followerIds].sort());
    await settle(community);
  });

  it("Scenario: Normalized and free-text bodies take the same path", async () => {
    const { community, webhook } = await withWebhook(1);
    const text = await receipt(
      await postSignal(webhook.path, '{"text": "BUY MSFT 2 shares"}', { headers: { "content-type": "text/plain" } }),
    );
    expect(text.status).toBe("accepted");
    const normalized = await receipt(
      await postSignal(webhook.path, {
        signal: { ...AAPL_MARKET_BUY, symbol: "NVDA", quantity: 1 },
      }),
    );
    expect(normalized.status).toBe("accepted");
    expect((await community.tenant.signals.get(text.signalId))?.normalized).toMatchObject({
      symbol: "MSFT",
      quantity: 2,
    });
    expect((await community.tenant.signals.get(normalized.signalId))?.normalized).toMatchObject({ symbol: "NVDA" });
    await settle(community);
  });

  it("Scenario: A signed request is verified against the raw body", async () => {
    const { community, webhook } = await withWebhook(1);
    const body = JSON.stringify(strategyAlert());
    expect((await receipt(await postSignal(webhook.path, body, { signWith: webhook.secret }))).status).toBe("accepted");

    const before = await signalCount(community.communityId);
    const wrongSecret = await postSignal(webhook.path, strategyAlert({ ticker: "MSFT" }), {
      signWith: "not-the-secret",
    });
    const error = await refusal(wrongSecret, 401, "INVALID_SIGNATURE");
    expect(error.message).toBe(
      "x-signature does not match the body: send sha256=<hex HMAC-SHA256 of the raw body, keyed with the webhook's signing secret>.",
    );
    // Signed for one body, sent with another.
    const signedOther = await postSignal(webhook.path, strategyAlert({ ticker: "MSFT" }), {
      headers: { "x-signature": `sha256=${await hmacHex(webhook.secret, body)}` },
    });
    await refusal(signedOther, 401, "INVALID_SIGNATURE");
    for (const header of ["sha256=", "sha1=abc", "deadbeef", ""]) {
      await refusal(
        await postSignal(webhook.path, body, { headers: { "x-signature": header } }),
        401,
        "INVALID_SIGNATURE",
      );
    }
    expect(await signalCount(community.communityId)).toBe(before);
    await settle(community);
  });

  it("Scenario: An unknown key and a revoked key answer the same 404", async () => {
    const { community, webhook } = await withWebhook(0);
    const revoke = await call(`/api/v1/communities/${community.communityId}/signal-webhooks/${webhook.id}`, {
      method: "DELETE",
      headers: opsHeaders(),
    });
    expect(revoke.status).toBe(200);
    await revoke.json();
    const bodies = [];
    for (const path of [
      webhook.path,
      `/webhooks/signals/${"A".repeat(43)}`,
      "/webhooks/signals/short",
      `/webhooks/signals/${webhook.key}x`,
    ]) {
      const error = await refusal(await postSignal(path, strategyAlert()), 404, "SIGNAL_WEBHOOK_NOT_FOUND");
      bodies.push({ code: error.code, message: error.message });
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]?.message).toBe("No signal webhook answers at this URL.");
    expect(await signalCount(community.communityId)).toBe(0);
  });

  it("Scenario: A signal older than the community's maximum age is refused", async () => {
    const { community, webhook } = await withWebhook(1);
    const stale = await postSignal(
      webhook.path,
      strategyAlert({ timenow: new Date(Date.now() - 61_000).toISOString() }),
    );
    const error = await refusal(stale, 422, "SIGNAL_EXPIRED");
    expect(error.message).toMatch(/^The signal is 6[12] s old; signals older than 60 s are never executed\.$/);
    const future = await postSignal(
      webhook.path,
      strategyAlert({ timenow: new Date(Date.now() + 120_000).toISOString() }),
    );
    expect((await refusal(future, 422, "SIGNAL_EXPIRED")).message).toBe(
      "The signal's timestamp is in the future; it is not executed.",
    );
    expect(await signalCount(community.communityId)).toBe(0);

    // A community that allows 5 minutes (its executor synced) takes a 2-minute-old alert.
    await env.DB.prepare(
      "UPDATE communities SET settings = json_set(settings, '$.maxSignalAgeSeconds', 300) WHERE id = ?",
    )
      .bind(community.communityId)
      .run();
    await executorOf(community.communityId).syncSettings({ communityId: community.communityId });
    const late = await receipt(
      await postSignal(webhook.path, strategyAlert({ timenow: new Date(Date.now() - 120_000).toISOString() })),
    );
    expect(late.status).toBe("accepted");
    await settle(community);
  });

  it("Scenario: An identical body within 5 s is a double post", async () => {
    const { community, webhook } = await withWebhook(1);
    const body = { ticker: "AAPL", action: "buy", quantity: 2 };
    const first = await receipt(await postSignal(webhook.path, body));
    const second = await receipt(await postSignal(webhook.path, body));
    expect(first.status).toBe("accepted");
    expect(second).toMatchObject({ status: "duplicate", summary: { code: "DOUBLE_POST" } });
    expect(second.signalId).not.toBe(first.signalId);
    expect(await entriesOf(community, second.signalId)).toEqual([]);
    expect(await entriesOf(community, first.signalId)).toHaveLength(1);
    await settle(community);
  });

  it("Scenario: A timed alert sent again is executed once", async () => {
    const { community, webhook } = await withWebhook(1);
    const body = JSON.stringify(strategyAlert());
    const first = await receipt(await postSignal(webhook.path, body));
    // Later than the double-post window, but the same alert (same body, same time).
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await receipt(await postSignal(webhook.path, body));
    expect(first.status).toBe("accepted");
    expect(again).toMatchObject({
      signalId: first.signalId,
      status: "duplicate",
      summary: { code: "DUPLICATE_SOURCE" },
    });
    expect(await signalCount(community.communityId)).toBe(1);
    expect(await entriesOf(community, first.signalId)).toHaveLength(1);
    await settle(community);
  });

  it("Scenario: A signal the executor could not take executes when sent again", async () => {
    const { community, webhook } = await withWebhook(1);
    const body = JSON.stringify(strategyAlert());
    const submit = vi
      .spyOn(CommunityExecutor.prototype, "submitSignal")
      .mockRejectedValueOnce(new Error("executor overloaded"));
    const failed = await postSignal(webhook.path, body);
    const error = await refusal(failed, 503, "EXECUTOR_UNAVAILABLE");
    const signalId = /^Signal ([0-9a-f-]{36}) was stored but not executed: executor overloaded\. Send it again\.$/.exec(
      error.message,
    )?.[1];
    expect(signalId).toBeDefined();
    expect((await community.tenant.signals.get(signalId ?? ""))?.status).toBe("failed");
    submit.mockRestore();
    const retried = await receipt(await postSignal(webhook.path, body));
    expect(retried).toMatchObject({ signalId, status: "accepted" });
    expect(await entriesOf(community, retried.signalId)).toHaveLength(1);
    await settle(community);
  });

  it("Scenario: Malformed and unrecognized bodies are refused", async () => {
    const { community, webhook } = await withWebhook(0);
    for (const printed of [
      docs.TRAILING_COMMA_AS_PRINTED,
      docs.CURLY_QUOTES_AS_PRINTED,
      docs.STOP_LIMIT_ORDER_AS_PRINTED,
    ]) {
      const error = await refusal(await postSignal(webhook.path, printed), 400, "INVALID_JSON");
      expect(error.message).toMatch(/^Malformed JSON body: /);
    }
    const unrecognized = await refusal(await postSignal(webhook.path, { alert: "buy" }), 400, "UNRECOGNIZED_BODY");
    expect(unrecognized.message).toBe(
      'The body is not a signal: send TradersPost JSON ({"ticker", "action", ...}), {"signal": {...}} or {"text": "..."}.',
    );
    await refusal(await postSignal(webhook.path, []), 400, "UNRECOGNIZED_BODY");

    const unknownAction = await refusal(
      await postSignal(webhook.path, { ticker: "AAPL", action: "bu" }),
      422,
      "SIGNAL_INVALID",
    );
    expect(unknownAction).toMatchObject({
      message:
        'The body is not a signal this platform can execute: Invalid action "bu": TradersPost actions are buy, sell, exit, cancel, add.',
      details: [
        {
          code: "UNKNOWN_SIDE",
          field: "action",
          message: 'Invalid action "bu": TradersPost actions are buy, sell, exit, cancel, add.',
        },
      ],
    });
    const add = await refusal(await postSignal(webhook.path, docs.ADD_TO_POSITION), 422, "SIGNAL_INVALID");
    expect(add.details).toMatchObject([{ code: "UNSUPPORTED_ACTION", field: "action" }]);
    const text = await refusal(await postSignal(webhook.path, { text: "gm everyone" }), 422, "SIGNAL_INVALID");
    expect(text.details?.[0]).toMatchObject({ field: "text", start: expect.any(Number), end: expect.any(Number) });
    expect(await signalCount(community.communityId)).toBe(0);
  });

  it("Scenario: A body over 16 KiB is refused", async () => {
    const { community, webhook } = await withWebhook(0);
    const body = JSON.stringify({ ...strategyAlert(), padding: "x".repeat(16 * 1024) });
    const error = await refusal(await postSignal(webhook.path, body), 413, "PAYLOAD_TOO_LARGE");
    expect(error.message).toBe("The request body is larger than the 16384-byte limit of this route.");
    expect(await signalCount(community.communityId)).toBe(0);
  });

  it("Scenario: More than 60 requests a minute are refused with Retry-After", async () => {
    const { webhook } = await withWebhook(0);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2026, 5, 1, 12, 0, 0));
    // Each request spends the budget before its body is read: an empty object answers 400, quickly.
    for (let i = 0; i < 60; i++) {
      const res = await postSignal(webhook.path, {});
      expect(res.status).toBe(400);
      await res.json();
    }
    const limited = await postSignal(webhook.path, {});
    const error = await refusal(limited, 429, "RATE_LIMITED");
    expect(limited.headers.get("retry-after")).toBe("1");
    expect(error.message).toBe(
      "This signal webhook sent more than 60 requests a minute or 500 an hour. Try again later.",
    );
    vi.setSystemTime(Date.UTC(2026, 5, 1, 12, 0, 1));
    const later = await postSignal(webhook.path, {});
    expect(later.status).toBe(400);
    await later.json();
  }, 30_000); // 62 requests: generous on a loaded machine

  it("Scenario: The hourly budget holds under a steady minute limit", () => {
    // The webhook's two limits as its RateLimiter object applies them (limitAll): a request passes only when both do.
    const start = Date.UTC(2026, 5, 1, 12, 0, 0);
    const tats = WEBHOOK_RATE_LIMITS.map(() => undefined as number | undefined);
    let allowed = 0;
    let refused: { at: number; retryAfterMs: number } | null = null;
    for (let minute = 0; minute < 12 && !refused; minute++) {
      const now = start + minute * 60_000;
      for (let i = 0; i < 60 && !refused; i++) {
        const decisions = WEBHOOK_RATE_LIMITS.map(({ policy }, n) => gcra(policy, tats[n], now));
        if (decisions.every((d) => d.allowed)) {
          decisions.forEach((d, n) => {
            tats[n] = d.tat;
          });
          allowed++;
        } else refused = { at: now, retryAfterMs: Math.max(...decisions.map((d) => d.retryAfterMs)) };
      }
    }
    // 60 at the start of every minute pass until the hour's 500 (refilled one every 7.2 s) run out in minute 9.
    expect(refused).toEqual({ at: start + 9 * 60_000, retryAfterMs: 7_200 });
    expect(allowed).toBe(500 + 75);
  });

  it("Scenario: The webhook key never appears in logs", async () => {
    const { community, webhook } = await withWebhook(1);
    const lines: string[] = [];
    for (const method of ["log", "warn", "error", "info", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
    await receipt(await postSignal(webhook.path, strategyAlert()));
    const bad = await postSignal(webhook.path, strategyAlert(), { signWith: "wrong" });
    await bad.json();
    const access = lines.filter((line) => line.includes('"msg":"request"'));
    expect(access.length).toBeGreaterThan(0);
    expect(access.every((line) => line.includes('"path":"/webhooks/signals/[redacted]"'))).toBe(true);
    expect(lines.join("\n")).not.toContain(webhook.key);
    expect(lines.join("\n")).not.toContain(webhook.secret);
    await settle(community);
  });
});
