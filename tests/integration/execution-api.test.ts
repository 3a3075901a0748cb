import { env, exports } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { breakerName } from "../../platform/execution/broker-guard";
import type { NormalizedSignal } from "../../shared/signals/schema";
import { snowflake } from "../support/discord";
import {
  AAPL_LONG,
  communityWithFollowers,
  deliver,
  executorOf,
  AAPL_MARKET_BUY as MARKET_AAPL,
  queuedMessages,
  submit,
  type TestCommunity,
} from "../support/execution";
import { call, errorOf, opsHeaders } from "../support/http";

/**
 * The operator API over real orders: signals go through the real executor,
 * orders through the real order-submissions consumer and the paper broker.
 * Only Discord (fill DMs) is faked, at the HTTP boundary.
 */

interface CommunityBody {
  id: string;
  guildId: string;
  name: string;
  tier: string;
  halted: boolean;
  haltedReason: string | null;
  createdAt: number;
  counts?: {
    members: number;
    membersByRole: Record<string, number>;
    providers: number;
    followers: number;
    enabledFollows: number;
    signalsToday: number;
    openOrders: number;
  };
}

interface OrderBody {
  id: string;
  communityId: string;
  signalId: string | null;
  userId: string;
  leg: string;
  status: string;
  quantity: number;
  filledQuantity: number;
  averageFillPrice: number | null;
  createdAt: number;
  events?: { fromStatus: string | null; toStatus: string; cause: string; createdAt: number }[];
  fills?: { executionId: string; quantity: number; price: number; quoteSource: string | null; filledAt: number }[];
}

interface SignalOutcomeBody {
  signal: {
    id: string;
    communityId: string;
    source: string;
    rawText: string | null;
    normalized: Record<string, unknown>;
    status: string;
    statusReason: string | null;
    summary: { followers: number; ordersQueued: number; skipped: Record<string, number> } | null;
  };
  followers: { userId: string; orders: OrderBody[] }[];
  nextAfterUserId: string | null;
}

interface MetricsBody {
  generatedAt: number;
  orders: { windowMs: number; byStatus: Record<string, number> };
  deadLetters: { notReplayed: number; byQueue: Record<string, number> };
  reconciliation: { lastRun: { id: string; startedAt: number; finishedAt: number | null; checked: number } | null };
  brokers: { broker: string; state: string; openedAt: number | null; coolDownEndsAt: number | null; trips: number }[];
}

const MSFT_LIMIT = {
  ...AAPL_LONG,
  symbol: "MSFT",
  entry: { price: 100 },
  stopLoss: 95,
  takeProfits: [{ price: 110, percent: null }],
};
/** Per filled entry: the entry, its stop and its take-profit. */
const ORDERS_PER_FILLED_ENTRY = 3;

const get = (path: string) => call(path, { headers: opsHeaders() });

async function ok<T>(res: Response): Promise<T> {
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/**
 * Delivers what is still queued until the community has `orders` orders and
 * none queued (entries filled, exits working at the paper broker).
 */
async function settle(community: TestCommunity, orders: number) {
  await vi.waitFor(
    async () => {
      const queued = await queuedMessages(community);
      if (queued.length > 0) await deliver("order-submissions", queued);
      const rows = await community.tenant.execution.listOrders({ limit: 1000 });
      expect(rows.filter((o) => o.status === "queued")).toEqual([]);
      expect(rows).toHaveLength(orders);
    },
    { timeout: 10_000, interval: 100 },
  );
}

async function communityWithFilledSignal(followers: number, signal: NormalizedSignal = MARKET_AAPL) {
  const community = await communityWithFollowers(followers);
  const { signalId } = await submit(community, signal);
  await settle(community, followers * ORDERS_PER_FILLED_ENTRY);
  return { community, signalId };
}

const guildOf = async (community: TestCommunity) => (await community.tenant.community.get())?.guildId ?? "";
const ids = (orders: readonly { id: string }[]) => orders.map((o) => o.id).sort();

/** Discord's answers to the fill DMs (POST /users/@me/channels, then POST /channels/{id}/messages). */
function fakeDiscord() {
  const realFetch = globalThis.fetch;
  return vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.hostname !== "discord.com") return realFetch(input, init);
    if (url.pathname.endsWith("/users/@me/channels")) {
      const { recipient_id: recipientId } = (await request.json()) as { recipient_id: string };
      return Response.json({
        id: snowflake(),
        type: 1,
        last_message_id: null,
        flags: 0,
        recipients: [{ id: recipientId, username: "follower", discriminator: "0", global_name: null, avatar: null }],
      });
    }
    const channel = /\/channels\/(\d+)\/messages$/.exec(url.pathname);
    if (channel) {
      const body = (await request.json()) as { content?: string; nonce?: string };
      return Response.json({
        id: snowflake(),
        type: 0,
        channel_id: channel[1],
        content: body.content ?? "",
        nonce: body.nonce,
        author: { id: "100000000000000001", username: "Trade Executor", discriminator: "0", bot: true, avatar: null },
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        tts: false,
        mention_everyone: false,
        mentions: [],
        attachments: [],
        embeds: [],
        pinned: false,
        flags: 0,
      });
    }
    return Response.json({ message: "404: Not Found", code: 0 }, { status: 404 });
  });
}

let discord: ReturnType<typeof fakeDiscord>;
beforeAll(() => {
  discord = fakeDiscord();
});
afterAll(() => discord.mockRestore());

describe("operator API access", () => {
  it("Scenario: The operator API requires the operator token", async () => {
    const unknown = crypto.randomUUID();
    const paths = [
      "/api/v1/communities?guild_id=not-a-snowflake",
      `/api/v1/communities/${unknown}`,
      `/api/v1/communities/${unknown}/orders?status=bogus`,
      `/api/v1/communities/${unknown}/signals/${crypto.randomUUID()}`,
      "/api/v1/ops/metrics",
    ];
    for (const [i, path] of paths.entries()) {
      // Failures are throttled per address (10 per 15 minutes): each path gets its own.
      const ip = `203.0.113.${200 + i}`;
      const none = await call(path, { headers: { "cf-connecting-ip": ip } });
      expect(none.status, path).toBe(401);
      // Community paths also take a member's session, so without any credential they ask for one.
      expect((await errorOf(none)).code).toBe(
        path.startsWith("/api/v1/communities/") ? "SESSION_REQUIRED" : "UNAUTHORIZED",
      );
      const wrong = await call(path, {
        headers: { authorization: "Bearer not-the-ops-token", "cf-connecting-ip": ip },
      });
      expect(wrong.status, path).toBe(401);
      expect((await errorOf(wrong)).code).toBe("INVALID_TOKEN");
    }
  });

  it("Scenario: The operator API is described in the OpenAPI document", async () => {
    const doc = await ok<{ paths: Record<string, { get?: { security?: unknown[] } }> }>(
      await call("/api/v1/openapi.json"),
    );
    for (const path of ["/api/v1/communities", "/api/v1/ops/metrics"]) {
      expect(doc.paths[path]?.get?.security, path).toEqual([{ opsToken: [] }]);
    }
    // Community paths take the operator token or a member's session whose role grants the route's action.
    for (const [path, action] of [
      ["/api/v1/communities/{communityId}", "community.view"],
      ["/api/v1/communities/{communityId}/orders", "orders.view_all"],
      ["/api/v1/communities/{communityId}/signals/{signalId}", "orders.view_all"],
    ] as const) {
      expect(doc.paths[path]?.get?.security, path).toEqual([{ sessionCookie: [action] }, { opsToken: [] }]);
    }
  });
});

describe("community lookup by guild", () => {
  it("Scenario: An operator finds a community by its guild id", async () => {
    const community = await communityWithFollowers(0);
    const guildId = await guildOf(community);
    const body = await ok<{ community: CommunityBody }>(await get(`/api/v1/communities?guild_id=${guildId}`));
    expect(body.community).toMatchObject({
      id: community.communityId,
      guildId,
      name: "Test community",
      tier: "free",
      halted: false,
      haltedReason: null,
    });
    expect(body.community.counts).toBeUndefined();
  });

  it("Scenario: A guild without a community is a 404", async () => {
    const res = await get(`/api/v1/communities?guild_id=${snowflake()}`);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("COMMUNITY_NOT_FOUND");
  });

  it("Scenario: A missing or malformed guild id is a 400", async () => {
    for (const query of [
      "",
      "?guild_id=",
      "?guild_id=abc",
      "?guild_id=1234567890123456",
      `?guild_id=${"1".repeat(21)}`,
      "?guild_id=12345678901234567a",
    ]) {
      const res = await get(`/api/v1/communities${query}`);
      expect(res.status, query).toBe(400);
      expect((await errorOf(res)).code).toBe("VALIDATION_FAILED");
    }
  });
});

describe("community overview", () => {
  it("Scenario: An operator reads a community's tier, kill switch and counts", async () => {
    const community = await communityWithFollowers(3);
    const [, named, unfollowed] = community.followerIds as [string, string, string];
    await community.tenant.follows.remove(unfollowed, community.providerId);
    await community.tenant.providers.name(named, null);
    await submit(community, MARKET_AAPL);
    await settle(community, 2 * ORDERS_PER_FILLED_ENTRY);

    const body = await ok<{ community: CommunityBody }>(await get(`/api/v1/communities/${community.communityId}`));
    expect(body.community).toMatchObject({
      id: community.communityId,
      tier: "free",
      halted: false,
      haltedReason: null,
    });
    expect(body.community.counts).toEqual({
      members: 4,
      membersByRole: { owner: 0, admin: 0, moderator: 0, provider: 1, trader: 3, viewer: 0 },
      providers: 2,
      followers: 2,
      enabledFollows: 2,
      signalsToday: 1,
      // The two filled entries are final; their stops and take-profits are working.
      openOrders: 4,
    });

    await executorOf(community.communityId).halt({
      communityId: community.communityId,
      reason: "broker outage",
      actorId: null,
    });
    const halted = await ok<{ community: CommunityBody }>(await get(`/api/v1/communities/${community.communityId}`));
    expect(halted.community).toMatchObject({ halted: true, haltedReason: "broker outage" });
  });

  it("Scenario: An unknown community is a 404 on every operator API path", async () => {
    const unknown = crypto.randomUUID();
    for (const path of [
      `/api/v1/communities/${unknown}`,
      `/api/v1/communities/${unknown}/orders`,
      `/api/v1/communities/${unknown}/orders?status=filled&include=events`,
      `/api/v1/communities/${unknown}/signals/${crypto.randomUUID()}`,
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect((await errorOf(res)).code).toBe("COMMUNITY_NOT_FOUND");
    }
  });
});

describe("order listing", () => {
  it("Scenario: An operator lists a community's orders, newest first, filtered", async () => {
    const { community, signalId: first } = await communityWithFilledSignal(2);
    const { signalId: second } = await submit(community, MSFT_LIMIT);
    await settle(community, 4 * ORDERS_PER_FILLED_ENTRY);
    const stored = await community.tenant.execution.listOrders({ limit: 1000 });
    const path = `/api/v1/communities/${community.communityId}/orders`;

    const all = await ok<{ orders: OrderBody[] }>(await get(path));
    expect(ids(all.orders)).toEqual(ids(stored));
    const created = all.orders.map((o) => o.createdAt);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect(all.orders.slice(0, 2 * ORDERS_PER_FILLED_ENTRY).every((o) => o.signalId === second)).toBe(true);
    expect(all.orders.slice(2 * ORDERS_PER_FILLED_ENTRY).every((o) => o.signalId === first)).toBe(true);
    expect(all.orders.every((o) => o.events === undefined)).toBe(true);

    for (const status of ["filled", "submitted", "canceled"] as const) {
      const filtered = await ok<{ orders: OrderBody[] }>(await get(`${path}?status=${status}`));
      expect(ids(filtered.orders), status).toEqual(ids(stored.filter((o) => o.status === status)));
    }
    const filled = await ok<{ orders: OrderBody[] }>(await get(`${path}?status=filled`));
    expect(filled.orders.map((o) => o.leg)).toEqual(["entry", "entry", "entry", "entry"]);

    const member = community.followerIds[0] as string;
    const mine = await ok<{ orders: OrderBody[] }>(await get(`${path}?user_id=${member}`));
    expect(ids(mine.orders)).toEqual(ids(stored.filter((o) => o.userId === member)));
    expect(mine.orders).toHaveLength(2 * ORDERS_PER_FILLED_ENTRY);
    // Operators usually know the member's Discord id: it names the same member.
    const { discord_id: discordId } = (await env.DB.prepare("select discord_id from users where id = ?")
      .bind(member)
      .first<{ discord_id: string }>()) ?? { discord_id: "" };
    const byDiscordId = await ok<{ orders: OrderBody[] }>(await get(`${path}?user_id=${discordId}`));
    expect(ids(byDiscordId.orders)).toEqual(ids(mine.orders));
    const mineFilled = await ok<{ orders: OrderBody[] }>(await get(`${path}?user_id=${member}&status=filled`));
    expect(mineFilled.orders.map((o) => [o.userId, o.status])).toEqual([
      [member, "filled"],
      [member, "filled"],
    ]);

    const page = await ok<{ orders: OrderBody[] }>(await get(`${path}?limit=5`));
    expect(page.orders.map((o) => o.id)).toEqual(all.orders.slice(0, 5).map((o) => o.id));
  });

  it("Scenario: Order event history is included on request", async () => {
    const { community } = await communityWithFilledSignal(1);
    const body = await ok<{ orders: OrderBody[] }>(
      await get(`/api/v1/communities/${community.communityId}/orders?include=events`),
    );
    expect(body.orders).toHaveLength(ORDERS_PER_FILLED_ENTRY);
    for (const order of body.orders) {
      const events = order.events ?? [];
      expect(events[0]).toMatchObject({ fromStatus: null, toStatus: "queued" });
      expect(events.at(-1)?.toStatus).toBe(order.status);
      for (let i = 1; i < events.length; i++) {
        expect(events[i]?.fromStatus).toBe(events[i - 1]?.toStatus);
        expect(events[i]?.createdAt).toBeGreaterThanOrEqual(events[i - 1]?.createdAt ?? 0);
      }
    }
    const entry = body.orders.find((o) => o.leg === "entry");
    expect(entry?.events?.map((e) => [e.fromStatus, e.toStatus, e.cause])).toEqual([
      [null, "queued", "signal"],
      ["queued", "submitted", "broker_accepted"],
      ["submitted", "filled", "broker_filled"],
    ]);
  });

  it("Scenario: An invalid order filter is a 400", async () => {
    const community = await communityWithFollowers(0);
    const path = `/api/v1/communities/${community.communityId}/orders`;
    for (const query of [
      "?status=open",
      "?status=FILLED",
      "?status=",
      "?user_id=a%20b",
      `?user_id=${"u".repeat(129)}`,
      "?limit=0",
      "?limit=501",
      "?limit=ten",
      "?include=fills",
    ]) {
      const res = await get(`${path}${query}`);
      expect(res.status, query).toBe(400);
      expect((await errorOf(res)).code).toBe("VALIDATION_FAILED");
    }
  });
});

describe("signal outcome", () => {
  it("Scenario: An operator reads a signal with each follower's outcome", async () => {
    const { community, signalId } = await communityWithFilledSignal(3);
    const path = `/api/v1/communities/${community.communityId}/signals/${signalId}`;
    const body = await ok<SignalOutcomeBody>(await get(path));

    expect(body.signal).toMatchObject({
      id: signalId,
      communityId: community.communityId,
      source: "slash",
      rawText: null,
      normalized: { action: "buy", symbol: "AAPL", orderType: "market" },
      status: "accepted",
      statusReason: null,
    });
    expect(body.signal.summary).toMatchObject({ followers: 3, ordersQueued: 3, skipped: {} });
    expect(body.followers.map((f) => f.userId)).toEqual([...community.followerIds].sort());
    expect(body.nextAfterUserId).toBeNull();
    for (const follower of body.followers) {
      expect(follower.orders.map((o) => o.leg).sort()).toEqual(["entry", "stop", "tp1"]);
      expect(follower.orders.every((o) => o.userId === follower.userId && o.signalId === signalId)).toBe(true);
      const entry = follower.orders.find((o) => o.leg === "entry") as OrderBody;
      expect(entry.status).toBe("filled");
      expect(entry.quantity).toBeGreaterThan(0);
      expect(entry.fills).toHaveLength(1);
      expect(entry.fills?.[0]).toMatchObject({
        quantity: entry.filledQuantity,
        price: entry.averageFillPrice,
        quoteSource: "deterministic",
      });
      for (const exit of follower.orders.filter((o) => o.leg !== "entry")) {
        expect(exit).toMatchObject({ status: "submitted", quantity: entry.quantity, fills: [] });
      }
    }

    const first = await ok<SignalOutcomeBody>(await get(`${path}?limit=2`));
    expect(first.followers).toHaveLength(2);
    expect(first.nextAfterUserId).toBe(first.followers[1]?.userId);
    const rest = await ok<SignalOutcomeBody>(await get(`${path}?limit=2&after_user_id=${first.nextAfterUserId}`));
    expect(rest.nextAfterUserId).toBeNull();
    expect([...first.followers, ...rest.followers]).toEqual(body.followers);
  });

  it("Scenario: Skipped followers appear in the signal's summary counts", async () => {
    const community = await communityWithFollowers(3);
    const denier = community.followerIds[0] as string;
    await community.tenant.riskProfiles.setSettings(denier, { symbolDenyList: ["AAPL"] });
    const { signalId, summary } = await submit(community, MARKET_AAPL);
    expect(summary.skipped).toEqual({ symbol_denied: 1 });
    await settle(community, 2 * ORDERS_PER_FILLED_ENTRY);

    const body = await ok<SignalOutcomeBody>(
      await get(`/api/v1/communities/${community.communityId}/signals/${signalId}`),
    );
    expect(body.signal.summary).toMatchObject({ followers: 3, ordersQueued: 2, skipped: { symbol_denied: 1 } });
    expect(body.followers.map((f) => f.userId)).toEqual(community.followerIds.filter((id) => id !== denier).sort());
  });

  it("Scenario: An unknown signal is a 404", async () => {
    const community = await communityWithFollowers(0);
    const res = await get(`/api/v1/communities/${community.communityId}/signals/${crypto.randomUUID()}`);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("SIGNAL_NOT_FOUND");
  });
});

describe("tenant isolation of the operator API", () => {
  async function twoCommunities() {
    const a = await communityWithFilledSignal(2);
    const b = await communityWithFilledSignal(2);
    return { a, b };
  }

  it("Scenario: One community's orders never appear through another community's orders path", async () => {
    const { a, b } = await twoCommunities();
    const aOrders = new Set(ids(await a.community.tenant.execution.listOrders({ limit: 1000 })));
    const bOrders = ids(await b.community.tenant.execution.listOrders({ limit: 1000 }));
    const path = `/api/v1/communities/${b.community.communityId}/orders`;

    for (const query of ["", "?status=filled", "?status=submitted&include=events", "?limit=500"]) {
      const body = await ok<{ orders: OrderBody[] }>(await get(`${path}${query}`));
      expect(body.orders.length, query).toBeGreaterThan(0);
      expect(body.orders.every((o) => o.communityId === b.community.communityId && !aOrders.has(o.id))).toBe(true);
      expect(bOrders).toEqual(expect.arrayContaining(ids(body.orders)));
    }
    const aMember = a.community.followerIds[0] as string;
    const byAMember = await ok<{ orders: OrderBody[] }>(await get(`${path}?user_id=${aMember}`));
    expect(byAMember.orders).toEqual([]);
  });

  it("Scenario: One community's signal is a 404 through another community's path", async () => {
    const { a, b } = await twoCommunities();
    const own = await get(`/api/v1/communities/${a.community.communityId}/signals/${a.signalId}`);
    expect((await ok<SignalOutcomeBody>(own)).signal.id).toBe(a.signalId);

    const res = await get(`/api/v1/communities/${b.community.communityId}/signals/${a.signalId}`);
    expect(res.status).toBe(404);
    const text = await res.clone().text();
    expect((await errorOf(res)).code).toBe("SIGNAL_NOT_FOUND");
    for (const order of await a.community.tenant.execution.listOrders({ limit: 1000 })) {
      expect(text).not.toContain(order.id);
    }
  });

  it("Scenario: A community's counts include nothing of another community", async () => {
    const { a, b } = await twoCommunities();
    await submit(a.community, MSFT_LIMIT);
    await settle(a.community, 4 * ORDERS_PER_FILLED_ENTRY);

    const body = await ok<{ community: CommunityBody }>(await get(`/api/v1/communities/${b.community.communityId}`));
    expect(body.community.counts).toEqual({
      members: 3,
      membersByRole: { owner: 0, admin: 0, moderator: 0, provider: 1, trader: 2, viewer: 0 },
      providers: 1,
      followers: 2,
      enabledFollows: 2,
      signalsToday: 1,
      openOrders: 4,
    });
    const aBody = await ok<{ community: CommunityBody }>(await get(`/api/v1/communities/${a.community.communityId}`));
    expect(aBody.community.counts).toMatchObject({ signalsToday: 2, openOrders: 8 });
  });

  it("Scenario: Each guild id finds its own community", async () => {
    const a = await communityWithFollowers(0);
    const b = await communityWithFollowers(0);
    for (const community of [a, b]) {
      const body = await ok<{ community: CommunityBody }>(
        await get(`/api/v1/communities?guild_id=${await guildOf(community)}`),
      );
      expect(body.community.id).toBe(community.communityId);
    }
  });
});

describe("platform metrics", () => {
  it("Scenario: An operator reads the platform metrics", async () => {
    const metrics = async () => ok<MetricsBody>(await get("/api/v1/ops/metrics"));
    const total = (m: MetricsBody) => Object.values(m.orders.byStatus).reduce((sum, n) => sum + n, 0);
    const before = await metrics();
    expect(Object.keys(before.orders.byStatus).sort()).toEqual([
      "canceled",
      "expired",
      "failed",
      "filled",
      "partially_filled",
      "queued",
      "rejected",
      "submitted",
    ]);
    expect(before.orders.windowMs).toBe(24 * 3600_000);
    expect(before.brokers.map((b) => [b.broker, b.state])).toEqual(
      ["alpaca", "schwab", "etrade", "ibkr", "coinbase", "binance", "kraken"].map((broker) => [broker, "closed"]),
    );

    await communityWithFilledSignal(2);
    const afterOrders = await metrics();
    expect(total(afterOrders) - total(before)).toBe(2 * ORDERS_PER_FILLED_ENTRY);
    expect((afterOrders.orders.byStatus.filled ?? 0) - (before.orders.byStatus.filled ?? 0)).toBe(2);

    const dm = {
      kind: "dm",
      key: `operator-api-test:${crypto.randomUUID()}`,
      communityId: null,
      discordUserId: snowflake(),
      message: { content: "A test message that ran out of retries." },
    };
    await deliver("notifications-dlq", [dm]);
    const dead = await metrics();
    expect(dead.deadLetters.notReplayed).toBe(before.deadLetters.notReplayed + 1);
    expect(dead.deadLetters.byQueue.notifications).toBe((before.deadLetters.byQueue.notifications ?? 0) + 1);

    const listed = await ok<{ deadLetters: { id: string; body: unknown }[] }>(
      await get("/api/v1/ops/dead-letters?queue=notifications&replayed=false"),
    );
    const letter = listed.deadLetters.find((d) => (d.body as { key?: string }).key === dm.key);
    const replay = await call(`/api/v1/ops/dead-letters/${letter?.id}/replay`, {
      method: "POST",
      headers: opsHeaders(),
    });
    expect(replay.status).toBe(202);
    await replay.body?.cancel();
    expect((await metrics()).deadLetters.notReplayed).toBe(before.deadLetters.notReplayed);

    const scheduledTime = Date.now();
    await (exports.default as unknown as ScheduledFetcher).scheduled({ cron: "*/5 * * * *", scheduledTime });
    const reconciled = await metrics();
    expect(reconciled.reconciliation.lastRun).toMatchObject({
      startedAt: scheduledTime,
      finishedAt: expect.any(Number),
    });
    expect(reconciled.reconciliation.lastRun?.checked).toBeGreaterThan(0);

    // Alpaca failing most calls (5xx and timeouts, as the broker guard records them) opens its breaker.
    const alpaca = env.RATE_LIMITER.getByName(breakerName("alpaca"));
    for (let i = 0; i < 20; i++) await alpaca.breakerRecord(breakerName("alpaca"), i % 4 === 0);
    const tripped = await metrics();
    expect(tripped.brokers.find((b) => b.broker === "alpaca")).toMatchObject({
      state: "open",
      trips: 1,
      openedAt: expect.any(Number),
      coolDownEndsAt: expect.any(Number),
    });
    expect(tripped.brokers.filter((b) => b.state !== "closed").map((b) => b.broker)).toEqual(["alpaca"]);
  });
});

/** The test-only service_binding_extra_handlers flag adds scheduled() to the entry's binding. */
interface ScheduledFetcher {
  scheduled(options: { cron: string; scheduledTime: number }): Promise<unknown>;
}
