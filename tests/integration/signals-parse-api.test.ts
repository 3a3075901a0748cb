import { describe, expect, it } from "vitest";
import { call, errorOf } from "../support/http";

const PATH = "/api/v1/signals/parse";

/** A fresh client address per test: the endpoint is limited per IP (cf-connecting-ip) and storage is per file. */
function clientIp(): string {
  const hex = crypto.randomUUID().replace(/-/g, "");
  return `2001:db8:${hex.slice(0, 4)}:${hex.slice(4, 8)}:${hex.slice(8, 12)}:${hex.slice(12, 16)}:${hex.slice(16, 20)}:${hex.slice(20, 24)}`;
}

function parse(body: unknown, ip = clientIp(), contentType = "application/json"): Promise<Response> {
  return call(PATH, {
    method: "POST",
    headers: { "content-type": contentType, "cf-connecting-ip": ip },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("POST /api/v1/signals/parse", () => {
  it("Scenario: A valid text answers the normalized signal", async () => {
    const res = await parse({ text: "🚀 **BTO $AAPL 12/20 190C @ 2.50** SL 1.50", now: "2026-11-23T15:00:00Z" });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-limit")).toBe("60");
    expect(await res.json()).toEqual({
      signal: {
        action: "buy",
        assetClass: "option",
        symbol: "AAPL",
        option: { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" },
        orderType: "limit",
        entry: { price: 2.5 },
        quantity: null,
        quantityPercent: null,
        stopLoss: 1.5,
        takeProfits: [],
        leverage: null,
        timeInForce: null,
      },
    });
  });

  it("reads the crypto multi-line layout without a `now`", async () => {
    const text =
      "📈 #BTC/USDT\nDirection: LONG\nEntry Zone: 64000 - 64500\nLeverage: Cross 10x\nTargets:\n1) 66000\n2) 68000\nStop-Loss: 62000";
    const res = await parse({ text });
    expect(res.status).toBe(200);
    const { signal } = (await res.json()) as { signal: Record<string, unknown> };
    expect(signal).toMatchObject({
      action: "buy",
      symbol: "BTC/USDT",
      leverage: 10,
      entry: { low: 64000, high: 64500 },
    });
  });

  it("Scenario: An invalid text answers 422 with located details", async () => {
    const text = "BUY AAPL @ 190 SL 195 TP 180";
    const res = await parse({ text });
    expect(res.status).toBe(422);
    const error = await errorOf(res);
    expect(error.code).toBe("SIGNAL_INVALID");
    expect(error.message).toMatch(
      /^The text is not a valid signal: A long stop must be below the entry \(190\)\. \(and 1 more problem\)$/,
    );
    const details = error.details as { code: string; message: string; start: number; end: number }[];
    expect(details.map((d) => [d.code, text.slice(d.start, d.end)])).toEqual([
      ["STOP_WRONG_SIDE", "195"],
      ["TARGET_WRONG_SIDE", "180"],
    ]);
    for (const detail of details) expect(detail.message).not.toBe("");
  });

  it("answers 422 NOT_A_SIGNAL for chat and TOO_LONG past 2,000 characters", async () => {
    const chat = await errorOf(await parse({ text: "I think the market looks bullish today" }));
    expect(chat.code).toBe("SIGNAL_INVALID");
    expect(chat.details).toEqual([expect.objectContaining({ code: "NOT_A_SIGNAL", start: 0, end: 38 })]);
    const long = await errorOf(await parse({ text: `BUY AAPL ${"🚀".repeat(1_200)}` }));
    expect(long.details).toEqual([expect.objectContaining({ code: "TOO_LONG", start: 2_000, end: 2_409 })]);
  });

  it("answers 400 for malformed JSON and for a body without text", async () => {
    const malformed = await parse('{"text": "BUY AAPL"');
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).code).toBe("INVALID_JSON");
    const shapeless = await parse({ txt: "BUY AAPL" });
    expect(shapeless.status).toBe(400);
    expect((await errorOf(shapeless)).code).toBe("VALIDATION_FAILED");
    const badNow = await parse({ text: "BUY AAPL", now: "yesterday" });
    expect(badNow.status).toBe(400);
    expect((await errorOf(badNow)).code).toBe("VALIDATION_FAILED");
  });

  it("answers 415 for a body that is not JSON", async () => {
    const res = await parse("BUY AAPL 10 @ 190", clientIp(), "text/plain");
    expect(res.status).toBe(415);
    expect((await errorOf(res)).code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("Scenario: The parse endpoint is rate-limited per IP", async () => {
    const ip = clientIp();
    const started = Date.now();
    for (let i = 0; i < 60; i++) {
      const res = await parse({ text: "BUY 10 AAPL MKT" }, ip);
      expect(res.status).toBe(200);
      await res.json();
    }
    // The budget refills one request a second: on a slow machine (or under coverage) the burst takes seconds, so
    // up to that many more may pass before the limit answers.
    const refilled = Math.ceil((Date.now() - started) / 1000) + 1;
    let limited = await parse({ text: "BUY 10 AAPL MKT" }, ip);
    for (let extra = 0; limited.status === 200 && extra < refilled; extra++) {
      await limited.json();
      limited = await parse({ text: "BUY 10 AAPL MKT" }, ip);
    }
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await errorOf(limited)).code).toBe("RATE_LIMITED");
    const other = await parse({ text: "BUY 10 AAPL MKT" });
    expect(other.status).toBe(200);
    await other.json();
  });

  it("is described in the OpenAPI document", async () => {
    const res = await call("/api/v1/openapi.json");
    const doc = (await res.json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const operation = doc.paths[PATH]?.post;
    expect(operation).toBeDefined();
    expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(["200", "400", "415", "422", "429"]);
  });
});
