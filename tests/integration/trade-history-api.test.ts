import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TradeRecord } from "../../shared/execution/trade-history";
import { fakeDiscordApi, snowflake } from "../support/discord";
import {
  AAPL_LONG,
  AAPL_MARKET_BUY,
  AAPL_SELL_ALL,
  communityWithFollowers,
  deliver,
  executorOf,
  queuedMessages,
  settle,
  submit,
  type TestCommunity,
} from "../support/execution";
import { call, errorOf, opsHeaders } from "../support/http";
import { memberOf, sessionFor } from "../support/realtime";

/**
 * The trade history over real fills: signals go through the real executor, orders through the real
 * order-submissions consumer and the paper broker (deterministic quotes). Only Discord (fill DMs) is faked.
 */

type Trade = TradeRecord;

interface TradePage {
  trades: Trade[];
  nextCursor: string | null;
}

const HEADER =
  "filled_at,order_id,execution_id,user_id,discord_user_id,account,broker,symbol,instrument,asset_class,option_underlying,option_expiration,option_strike,option_right,side,quantity,price,currency,multiplier,notional,order_type,leg,leg_kind,signal_id,provider_user_id,provider_discord_id,quote_source,quote_at,delayed";

let discord: ReturnType<typeof fakeDiscordApi>;
beforeAll(() => {
  discord = fakeDiscordApi();
});
afterAll(() => discord.restore());

const tradesPath = (communityId: string, query = "") => `/api/v1/communities/${communityId}/trades${query}`;

async function page(res: Response): Promise<TradePage> {
  expect(res.status).toBe(200);
  return (await res.json()) as TradePage;
}

async function fillCount(communityId: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from fills where community_id = ?")
    .bind(communityId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Delivers what is queued until the community has `fills` fills and nothing queued, then lets it settle. */
async function deliverUntilFilled(community: TestCommunity, fills: number) {
  await vi.waitFor(
    async () => {
      const queued = await queuedMessages(community);
      if (queued.length > 0) await deliver("order-submissions", queued);
      expect(await fillCount(community.communityId)).toBe(fills);
    },
    { timeout: 10_000, interval: 100 },
  );
  await settle(community);
}

async function discordIdOf(userId: string): Promise<string> {
  const row = await env.DB.prepare("select discord_id from users where id = ?").bind(userId).first<{
    discord_id: string;
  }>();
  return row?.discord_id ?? expect.fail(`no user ${userId}`);
}

/** Two followers whose copied buy at market filled, then the provider's sell closed it: four fills in all. */
async function tradedCommunity() {
  const community = await communityWithFollowers(2);
  const entry = await submit(community, AAPL_MARKET_BUY);
  expect(entry.summary.status).toBe("accepted");
  await deliverUntilFilled(community, 2);
  const exit = await submit(community, AAPL_SELL_ALL);
  expect(exit.summary.status).toBe("accepted");
  await deliverUntilFilled(community, 4);
  const [first = "", second = ""] = community.followerIds;
  const sessions = {
    first: (await sessionFor(first, { inGuildOf: community.communityId })).cookie,
    second: (await sessionFor(second, { inGuildOf: community.communityId })).cookie,
  };
  return { community, first, second, sessions, entrySignal: entry.signalId, exitSignal: exit.signalId };
}

let world: ReturnType<typeof tradedCommunity> | undefined;
/** One traded community, shared by the tests that only read it. */
const traded = () => {
  world ??= tradedCommunity();
  return world;
};

describe("trade history records", () => {
  it("Scenario: A member's fills come back one record per fill, oldest first", async () => {
    const { community, first, sessions, entrySignal, exitSignal } = await traded();
    const { trades, nextCursor } = await page(
      await call(tradesPath(community.communityId), { headers: { cookie: sessions.first } }),
    );
    expect(nextCursor).toBeNull();
    expect(trades.map((t) => [t.side, t.legKind, t.signalId])).toEqual([
      ["buy", "entry", entrySignal],
      ["sell", "exit", exitSignal],
    ]);
    const [bought, sold] = trades as [Trade, Trade];
    expect(bought.quantity).toBe(sold.quantity);
    expect(Date.parse(bought.filledAt)).toBeLessThanOrEqual(Date.parse(sold.filledAt));

    const orders = await community.tenant.execution.listOrders({ userId: first, limit: 100 });
    for (const trade of trades) {
      const order = orders.find((o) => o.id === trade.orderId) ?? expect.fail("no order");
      const [fill] = await community.tenant.execution.fillsOf(order.id);
      expect(trade).toEqual({
        filledAt: new Date(fill?.filledAt ?? 0).toISOString(),
        orderId: order.id,
        executionId: fill?.executionId,
        userId: first,
        discordUserId: await discordIdOf(first),
        account: "paper",
        broker: "paper",
        symbol: "AAPL",
        instrument: "AAPL",
        assetClass: "equity",
        optionUnderlying: null,
        optionExpiration: null,
        optionStrike: null,
        optionRight: null,
        side: order.side,
        quantity: String(fill?.quantity),
        price: expect.stringMatching(/^\d+\.\d{2,8}$/),
        currency: "USD",
        multiplier: 1,
        notional: expect.stringMatching(/^\d+\.\d{2,}$/),
        orderType: "market",
        leg: order.leg,
        legKind: trade.legKind,
        signalId: order.signalId,
        providerUserId: community.providerId,
        providerDiscordId: await discordIdOf(community.providerId),
        quoteSource: fill?.quoteSource,
        quoteAt: new Date(fill?.quoteTimestamp ?? 0).toISOString(),
        delayed: fill?.delayed,
      });
      expect(Number(trade.price)).toBeCloseTo(fill?.price ?? 0, 8);
      expect(Number(trade.notional)).toBeCloseTo((fill?.quantity ?? 0) * (fill?.price ?? 0), 6);
    }
  });

  it("Scenario: An option fill names its contract and counts 100 per contract", async () => {
    const community = await communityWithFollowers(0);
    const member = await memberOf(community.communityId, "trader");
    const option = { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" } as const;
    const signal = {
      ...AAPL_LONG,
      assetClass: "option" as const,
      option,
      entry: { price: 2.5 },
      quantity: 2,
      stopLoss: null,
      takeProfits: [],
    };
    // As /trade stores a member's own trade before its Confirm: the member is the signal's provider.
    const sourceId = snowflake();
    const { signal: stored } = await community.tenant.signals.store({
      providerUserId: member.userId,
      source: "slash",
      sourceId,
      sourceTimestamp: Date.now(),
      channelId: null,
      rawText: null,
      normalized: signal,
    });
    const summary = await executorOf(community.communityId).submitManualTrade({
      signalId: stored.id,
      communityId: community.communityId,
      userId: member.userId,
      signal,
      sourceId,
      sourceTimestamp: Date.now(),
    });
    expect(summary).toMatchObject({ status: "accepted", ordersQueued: 1 });
    await deliverUntilFilled(community, 1);

    const { trades } = await page(
      await call(tradesPath(community.communityId), { headers: { cookie: member.cookie } }),
    );
    expect(trades).toHaveLength(1);
    const [trade] = trades as [Trade];
    expect(trade).toMatchObject({
      userId: member.userId,
      assetClass: "option",
      symbol: "AAPL",
      instrument: "AAPL261220C00190000",
      optionUnderlying: "AAPL",
      optionExpiration: "2026-12-20",
      optionStrike: "190",
      optionRight: "call",
      side: "buy",
      quantity: "2",
      multiplier: 100,
      legKind: "entry",
      signalId: stored.id,
      providerUserId: member.userId,
    });
    expect(trade.notional).toMatch(/^\d+\.\d{2,8}$/);
    expect(Number(trade.notional)).toBeCloseTo(Number(trade.price) * 2 * 100, 8);
  });
});

describe("who sees which trades", () => {
  it("Scenario: A member sees only their own trades", async () => {
    const { community, first, second, sessions } = await traded();
    for (const [cookie, own] of [
      [sessions.first, first],
      [sessions.second, second],
    ] as const) {
      for (const query of ["", `?user_id=${own}`, `?user_id=${await discordIdOf(own)}`]) {
        const { trades } = await page(await call(tradesPath(community.communityId, query), { headers: { cookie } }));
        expect(trades.length, query).toBe(2);
        expect(trades.every((t) => t.userId === own)).toBe(true);
      }
    }
  });

  it("Scenario: An admin sees every member's trades and filters by member", async () => {
    const { community, first, second } = await traded();
    const admin = await memberOf(community.communityId, "admin");
    const asAdmin = { cookie: admin.cookie };
    for (const headers of [asAdmin, opsHeaders()]) {
      const { trades } = await page(await call(tradesPath(community.communityId), { headers }));
      expect(trades).toHaveLength(4);
      expect(new Set(trades.map((t) => t.userId))).toEqual(new Set([first, second]));
    }
    for (const named of [second, await discordIdOf(second)]) {
      const { trades } = await page(
        await call(tradesPath(community.communityId, `?user_id=${named}`), { headers: asAdmin }),
      );
      expect(trades.map((t) => t.userId)).toEqual([second, second]);
    }
  });

  it("Scenario: A member asking for another member's trades is refused", async () => {
    const { community, second, sessions } = await traded();
    for (const named of [second, await discordIdOf(second), "no-such-user", snowflake()]) {
      const res = await call(tradesPath(community.communityId, `?user_id=${named}`), {
        headers: { cookie: sessions.first },
      });
      expect(res.status, named).toBe(403);
      expect((await errorOf(res)).code).toBe("FORBIDDEN");
    }
  });

  it("Scenario: A member of another community gets a 404 for its trades", async () => {
    const { community } = await traded();
    const stranger = await memberOf(null, "admin");
    for (const query of ["", "?format=csv", `?user_id=${community.followerIds[0]}`]) {
      const res = await call(tradesPath(community.communityId, query), { headers: { cookie: stranger.cookie } });
      expect(res.status, query).toBe(404);
      const text = await res.clone().text();
      expect((await errorOf(res)).code).toBe("COMMUNITY_NOT_FOUND");
      for (const userId of community.followerIds) expect(text).not.toContain(userId);
    }
    // Their own community's history has none of the other's fills.
    const { trades } = await page(
      await call(tradesPath(stranger.communityId), { headers: { cookie: stranger.cookie } }),
    );
    expect(trades).toEqual([]);
  });
});

describe("pages and filters", () => {
  it("Scenario: Trades are paged with a cursor and filtered by time and symbol", async () => {
    const { community } = await traded();
    const headers = opsHeaders();
    const all = (await page(await call(tradesPath(community.communityId), { headers }))).trades;
    expect(all).toHaveLength(4);
    const times = all.map((t) => Date.parse(t.filledAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    const paged: Trade[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const next: TradePage = await page(await call(tradesPath(community.communityId, query), { headers }));
      expect(next.trades.length).toBeLessThanOrEqual(1);
      paged.push(...next.trades);
      cursor = next.nextCursor;
    } while (cursor !== null);
    expect(paged).toEqual(all);

    const firstExit = all.find((t) => t.legKind === "exit") ?? expect.fail("no exit");
    const since = (
      await page(await call(tradesPath(community.communityId, `?from=${firstExit.filledAt}`), { headers }))
    ).trades;
    expect(since).toEqual(all.filter((t) => Date.parse(t.filledAt) >= Date.parse(firstExit.filledAt)));
    expect(since.every((t) => t.legKind === "exit")).toBe(true);
    const before = (
      await page(await call(tradesPath(community.communityId, `?to=${Date.parse(firstExit.filledAt)}`), { headers }))
    ).trades;
    expect(before).toEqual(all.filter((t) => Date.parse(t.filledAt) < Date.parse(firstExit.filledAt)));
    const longAgo = await page(
      await call(tradesPath(community.communityId, "?from=2020-01-01&to=2020-01-02"), { headers }),
    );
    expect(longAgo.trades).toEqual([]);

    expect((await page(await call(tradesPath(community.communityId, "?symbol=aapl"), { headers }))).trades).toEqual(
      all,
    );
    expect((await page(await call(tradesPath(community.communityId, "?symbol=MSFT"), { headers }))).trades).toEqual([]);
  });

  it("Scenario: An invalid trade history query is a 400", async () => {
    const { community, sessions } = await traded();
    const cases: [string, string][] = [
      ["?format=xml", "format"],
      ["?limit=0", "limit"],
      ["?limit=501", "limit"],
      ["?limit=ten", "limit"],
      ["?format=csv&limit=100001", "limit"],
      ["?from=2026-02-30", "from"],
      ["?from=2026-12-02&to=2026-12-01", "to"],
      ["?cursor=not-a-cursor", "cursor"],
      ["?symbol=%3DCMD()", "symbol"],
      ["?user_id=a%20b", "user_id"],
    ];
    for (const [query, parameter] of cases) {
      const res = await call(tradesPath(community.communityId, query), { headers: { cookie: sessions.first } });
      expect(res.status, query).toBe(400);
      const error = await errorOf(res);
      expect(error.code, query).toBe("VALIDATION_FAILED");
      expect(
        error.details?.map((d) => d.path),
        query,
      ).toContain(parameter);
    }
  });
});

describe("the trade history as CSV", () => {
  it("Scenario: The trade history downloads as CSV with a header row and one row per fill", async () => {
    const { community } = await traded();
    const json = (await page(await call(tradesPath(community.communityId), { headers: opsHeaders() }))).trades;
    const res = await call(tradesPath(community.communityId, "?format=csv"), { headers: opsHeaders() });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("x-export-truncated")).toBeNull();
    const today = new Date().toISOString().slice(0, 10);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="trades-${community.communityId}-${today}.csv"`,
    );
    const text = await res.text();
    expect(text.endsWith("\r\n")).toBe(true);
    const [header, ...rows] = text.slice(0, -2).split("\r\n");
    expect(header).toBe(HEADER);
    expect(rows).toHaveLength(json.length);
    const columns = HEADER.split(",");
    rows.forEach((row, i) => {
      const cells = row.split(",");
      expect(cells).toHaveLength(columns.length);
      const byColumn = Object.fromEntries(columns.map((column, c) => [column, cells[c]]));
      const trade = json[i] as Trade;
      expect(byColumn).toMatchObject({
        filled_at: trade.filledAt,
        order_id: trade.orderId,
        execution_id: trade.executionId,
        side: trade.side,
        quantity: trade.quantity,
        price: trade.price,
        notional: trade.notional,
        leg_kind: trade.legKind,
        account: "paper",
        option_strike: "",
        delayed: String(trade.delayed),
      });
    });

    // A download stopped at its cap says so, and where the next one starts; following it gets the rest.
    const capped = await call(tradesPath(community.communityId, "?format=csv&limit=3"), { headers: opsHeaders() });
    expect((await capped.text()).slice(0, -2).split("\r\n")).toHaveLength(1 + 3);
    expect(json.length).toBeGreaterThan(3);
    expect(capped.headers.get("x-export-truncated")).toBe("true");
    expect(capped.headers.get("x-next-cursor")).toMatch(/^\d+\.[A-Za-z0-9-]+$/);
    const link = /^<([^>]+)>; rel="next"$/.exec(capped.headers.get("link") ?? "")?.[1] ?? "";
    expect(link).toContain("format=csv");
    const rest = await call(link, { headers: opsHeaders() });
    expect(rest.headers.get("x-export-truncated")).toBeNull();
    const restRows = (await rest.text()).slice(0, -2).split("\r\n").slice(1);
    expect(restRows.map((row) => row.split(",")[1])).toEqual(json.slice(3).map((trade) => trade.orderId));
  });

  it("Scenario: A CSV cell a spreadsheet would run as a formula is defused", async () => {
    const community = await communityWithFollowers(1);
    await submit(community, AAPL_MARKET_BUY);
    await deliverUntilFilled(community, 1);
    // The quote source is what the outside quote service named; the paper path never names one like this.
    await env.DB.prepare("update fills set quote_source = ? where community_id = ?")
      .bind('=HYPERLINK("http://evil.example","x"),1', community.communityId)
      .run();
    const res = await call(tradesPath(community.communityId, "?format=csv"), { headers: opsHeaders() });
    const [header = "", row = ""] = (await res.text()).split("\r\n");
    expect(row).toContain(',"\'=HYPERLINK(""http://evil.example"",""x""),1",');
    // Outside the quoted cell, the row has exactly the header's columns.
    const unquoted = row.replace(/"(?:[^"]|"")*"/g, "Q");
    expect(unquoted.split(",")).toHaveLength(header.split(",").length);
  });
});

describe("members find the download", () => {
  it("Scenario: The dashboard links each community's trade history download", async () => {
    const { community, first, sessions } = await traded();
    const home = await call("/app", { headers: { cookie: sessions.first } });
    expect(home.status).toBe(200);
    const html = await home.text();
    const href = `/api/v1/communities/${community.communityId}/trades?format=csv`;
    expect(html).toContain(`<a href="${href}" download>Download trade history (CSV)</a>`);
    expect(html).not.toContain("<script");

    const download = await call(href, { headers: { cookie: sessions.first } });
    expect(download.status).toBe(200);
    const rows = (await download.text()).slice(0, -2).split("\r\n").slice(1);
    expect(rows).toHaveLength(2);
    expect(rows.every((row) => row.split(",")[3] === first)).toBe(true);
  });

  it("Scenario: The trade history is described in the OpenAPI document", async () => {
    const res = await call("/api/v1/openapi.json");
    const doc = (await res.json()) as {
      paths: Record<
        string,
        { get?: { operationId?: string; security?: unknown[]; responses: Record<string, { content?: object }> } }
      >;
    };
    const operation = doc.paths["/api/v1/communities/{communityId}/trades"]?.get;
    expect(operation?.operationId).toBe("listTrades");
    expect(operation?.security).toEqual([{ sessionCookie: ["community.view"] }, { opsToken: [] }]);
    expect(Object.keys(operation?.responses["200"]?.content ?? {})).toEqual(["application/json", "text/csv"]);
    expect(Object.keys(operation?.responses ?? {})).toEqual(expect.arrayContaining(["400", "401", "403", "404"]));
  });
});
