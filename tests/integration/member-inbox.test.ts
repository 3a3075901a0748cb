import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { directMessage } from "../../platform/notifications/notify-queue";
import { rootLogger } from "../../shared/logging";
import type { Notification } from "../../shared/notifications/message";
import { runHousekeeping } from "../../workers/cron/housekeeping";
import {
  EPHEMERAL,
  interactionResponse,
  member,
  OPTION,
  postInteraction,
  setUpCommunity,
  slash,
  snowflake,
} from "../support/discord";
import { BASE, call, errorOf } from "../support/http";
import { runBatch } from "../support/queues";
import { connect, memberOf, newCommunityId, type TestMember } from "../support/realtime";

const db = database(env.DB);
const DISCORD = "https://discord.com/api/v10";

afterEach(() => {
  vi.restoreAllMocks();
});

/** The DMs `directMessage` queues, captured instead of delivered, so each test hands them to the consumer itself. */
function captureQueue() {
  const send = vi.spyOn(env.NOTIFY_QUEUE, "send").mockResolvedValue(undefined as never);
  return () => send.mock.calls.map(([body]) => body as Notification);
}

/**
 * Discord's HTTP API at the fetch boundary: a DM channel for `POST /users/@me/channels`, and for the message either
 * a message object or, with `dmsClosed`, the documented refusal `403 {"message": "Cannot send messages to this
 * user", "code": 50007}`.
 */
function fakeDiscord(options: { dmsClosed?: boolean } = {}) {
  const calls: { method: string; path: string }[] = [];
  const original = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    if (!request.url.startsWith(DISCORD)) return original(input, init);
    const path = request.url.slice(DISCORD.length);
    calls.push({ method: request.method, path });
    const body = (await request.json()) as Record<string, unknown>;
    if (path === "/users/@me/channels") {
      return Response.json({ id: snowflake(), type: 1, recipients: [{ id: body.recipient_id, username: "member" }] });
    }
    if (options.dmsClosed) {
      return Response.json({ message: "Cannot send messages to this user", code: 50007 }, { status: 403 });
    }
    return Response.json({
      id: snowflake(),
      type: 0,
      content: body.content ?? "",
      channel_id: path.split("/")[2],
      author: { id: "100000000000000001", username: "Trade Executor", bot: true },
      timestamp: new Date().toISOString(),
      flags: 0,
      components: [],
    });
  });
  return calls;
}

async function inbox(who: Pick<TestMember, "cookie">, query = "") {
  const res = await call(`/api/v1/me/notifications${query}`, { headers: { cookie: who.cookie } });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    notices: {
      id: string;
      communityId: string | null;
      kind: string;
      title: string;
      body: string;
      readAt: number | null;
      delivery: { status: string; lastError: string | null };
    }[];
    nextCursor: string | null;
    unread: number;
  };
}

function jsonCall(who: Pick<TestMember, "cookie">, method: string, path: string, body: unknown, origin = BASE) {
  return call(path, {
    method,
    headers: { cookie: who.cookie, "content-type": "application/json", origin },
    body: JSON.stringify(body),
  });
}

/** Queues one DM through the one sender and hands it to the notifications consumer. */
async function deliver(who: TestMember, event: string, text: string, communityId: string | null = who.communityId) {
  const queued = captureQueue();
  expect(await directMessage(env, { userId: who.userId, communityId, event, message: text })).toBe(true);
  const bodies = queued();
  vi.mocked(env.NOTIFY_QUEUE.send).mockRestore();
  return { bodies, ...(await runBatch("notifications", bodies)) };
}

describe("member inbox", () => {
  it("Scenario: Every DM notice is stored in the member's inbox and marked sent", async () => {
    const who = await memberOf(null);
    const discord = fakeDiscord();
    const { result } = await deliver(who, `order:${crypto.randomUUID()}:fill:2`, "✅ Filled: BUY 2 AAPL");
    expect(result.explicitAcks).toHaveLength(1);
    expect(discord.map((c) => c.path)).toEqual([
      "/users/@me/channels",
      expect.stringMatching(/^\/channels\/\d+\/messages$/),
    ]);
    const page = await inbox(who);
    expect(page.unread).toBe(1);
    expect(page.notices).toEqual([
      expect.objectContaining({
        communityId: who.communityId,
        kind: "orders",
        title: "Order update",
        body: "✅ Filled: BUY 2 AAPL",
        readAt: null,
        delivery: { status: "sent", lastError: null },
      }),
    ]);
  });

  it("Scenario: A member whose DMs are closed still gets the notice", async () => {
    const who = await memberOf(null);
    const { socket } = await connect(who);
    const discord = fakeDiscord({ dmsClosed: true });
    const { result } = await deliver(who, `billing:stripe:invoice:${crypto.randomUUID()}`, "💳 Payment received");
    // 50007 cannot succeed on a retry: acked, not retried.
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
    expect(discord).toHaveLength(2);
    const [notice] = (await inbox(who)).notices;
    expect(notice).toMatchObject({ kind: "billing", body: "💳 Payment received", delivery: { status: "failed" } });
    expect(notice?.delivery.lastError).toContain("code 50007");
    // Its sender published nothing: the consumer puts the stored notice on the member's notifications channel.
    await socket.until(
      (s) => s.events().some((e) => e.type === "notification" && (e.data as { id?: string }).id === notice?.id),
      3_000,
      "the stored notice on the notifications channel",
    );
    const event = socket.events().find((e) => e.type === "notification");
    expect(event).toMatchObject({ channel: "notifications", stream: "notifications:member" });
    expect(event?.data).toMatchObject({ kind: "billing", title: "Billing", content: "💳 Payment received" });
    socket.ws.close(1000, "done");
  });

  it("Scenario: A redelivered DM is stored once", async () => {
    const who = await memberOf(null);
    fakeDiscord({ dmsClosed: true });
    const { bodies } = await deliver(who, `order:${crypto.randomUUID()}:placed`, "Order placed");
    await runBatch("notifications", bodies);
    expect((await inbox(who)).notices).toHaveLength(1);
  });

  it("Scenario: A muted kind is stored but not sent", async () => {
    const who = await memberOf(null);
    const put = await jsonCall(who, "PUT", "/api/v1/me/notification-preferences", {
      preferences: [{ kind: "orders", dm: false }],
    });
    expect(put.status).toBe(200);
    const saved = (await put.json()) as { preferences: { kind: string; dm: boolean; mutable: boolean }[] };
    expect(saved.preferences.find((p) => p.kind === "orders")).toMatchObject({ dm: false, mutable: true });
    const discord = fakeDiscord();
    const { result } = await deliver(who, `order:${crypto.randomUUID()}:fill:1`, "✅ Filled: BUY 1 AAPL");
    expect(result.explicitAcks).toHaveLength(1);
    expect(discord).toHaveLength(0);
    expect((await inbox(who)).notices).toEqual([
      expect.objectContaining({ kind: "orders", delivery: { status: "muted", lastError: null } }),
    ]);
    // Another kind still comes by DM.
    await deliver(who, `pause:${Date.now()}`, "🛑 Daily loss limit reached");
    expect(discord).toHaveLength(2);
  });

  it("Scenario: Security and membership notices cannot be muted", async () => {
    const who = await memberOf(null);
    for (const kind of ["security", "membership"]) {
      const res = await jsonCall(who, "PUT", "/api/v1/me/notification-preferences", {
        preferences: [{ kind, dm: false }],
      });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe("VALIDATION_FAILED");
    }
    const got = await call("/api/v1/me/notification-preferences", { headers: { cookie: who.cookie } });
    const { preferences } = (await got.json()) as { preferences: { kind: string; dm: boolean; mutable: boolean }[] };
    expect(preferences.filter((p) => !p.mutable).map((p) => p.kind)).toEqual(["security", "membership"]);
    expect(preferences.every((p) => p.dm)).toBe(true);
    // A stored "off" for a security kind (as an old client might have left) is ignored: the DM goes out.
    await env.DB.prepare(
      "insert into notification_preferences (user_id, kind, dm, updated_at) values (?, 'security', 0, 0)",
    )
      .bind(who.userId)
      .run();
    const discord = fakeDiscord();
    await deliver(who, `sign-in:${crypto.randomUUID()}`, "New sign-in from Firefox on Linux", null);
    expect(discord).toHaveLength(2);
    expect((await inbox(who)).notices[0]).toMatchObject({ kind: "security", communityId: null });
  });

  it("Scenario: A dead-lettered notice is marked failed", async () => {
    const who = await memberOf(null);
    fakeDiscord();
    const queued = captureQueue();
    await directMessage(env, {
      userId: who.userId,
      communityId: who.communityId,
      event: "order:x:fill:1",
      message: "hi",
    });
    const [body] = queued();
    vi.mocked(env.NOTIFY_QUEUE.send).mockRestore();
    // The consumer stored it and Discord kept failing (5xx) until the last retry; then the DLQ gets it.
    vi.mocked(globalThis.fetch).mockImplementation(async () => Response.json({ message: "oops" }, { status: 502 }));
    await runBatch("notifications", [body]);
    expect((await inbox(who)).notices[0]?.delivery).toMatchObject({ status: "pending" });
    await runBatch("notifications-dlq", [body]);
    const [notice] = (await inbox(who)).notices;
    expect(notice?.delivery.status).toBe("failed");
    expect(notice?.delivery.lastError).toContain("502");
  });

  it("Scenario: A member sees only their own notices of communities they still belong to", async () => {
    const who = await memberOf(null);
    const other = await memberOf(who.communityId);
    const left = await newCommunityId();
    await forCommunity(db, left).memberships.upsert(who.userId, "trader");
    fakeDiscord();
    await deliver(who, "order:a:placed", "here");
    await deliver({ ...who, communityId: left }, "order:b:placed", "there");
    await deliver(other, "order:c:placed", "someone else's");
    expect((await inbox(who)).notices.map((n) => n.body).sort()).toEqual(["here", "there"]);
    await forCommunity(db, left).memberships.remove(who.userId);
    expect((await inbox(who)).notices.map((n) => n.body)).toEqual(["here"]);
    expect((await inbox(other)).notices.map((n) => n.body)).toEqual(["someone else's"]);
    const foreign = await call(`/api/v1/me/notifications?community_id=${left}`, { headers: { cookie: who.cookie } });
    expect(foreign.status).toBe(404);
    expect((await errorOf(foreign)).code).toBe("COMMUNITY_NOT_FOUND");
    // Marking another member's notice read changes nothing.
    const [theirs] = (await inbox(other)).notices;
    const marked = await jsonCall(who, "POST", "/api/v1/me/notifications/read", { ids: [theirs?.id] });
    expect(await marked.json()).toMatchObject({ marked: 0 });
    expect((await inbox(other)).unread).toBe(1);
    const anonymous = await call("/api/v1/me/notifications");
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
  });

  it("Scenario: A member marks notices read, one by one or all", async () => {
    const who = await memberOf(null);
    fakeDiscord();
    for (const n of [1, 2, 3]) await deliver(who, `order:${n}:placed`, `notice ${n}`);
    const page = await inbox(who, "?limit=2");
    expect(page.notices).toHaveLength(2);
    expect(page.unread).toBe(3);
    const rest = await inbox(who, `?limit=2&cursor=${page.nextCursor}`);
    expect(rest.notices).toHaveLength(1);
    expect(rest.nextCursor).toBeNull();
    const one = await jsonCall(who, "POST", "/api/v1/me/notifications/read", { ids: [page.notices[0]?.id] });
    expect(await one.json()).toEqual({ marked: 1, unread: 2 });
    expect((await inbox(who, "?unread=true")).notices).toHaveLength(2);
    const all = await jsonCall(who, "POST", "/api/v1/me/notifications/read", { all: true });
    expect(await all.json()).toEqual({ marked: 2, unread: 0 });
    const bad = await call("/api/v1/me/notifications?cursor=nope", { headers: { cookie: who.cookie } });
    expect(bad.status).toBe(400);
    await bad.body?.cancel();
  });

  it("Scenario: A cross-site request to mark notices read is refused", async () => {
    const who = await memberOf(null);
    const res = await jsonCall(who, "POST", "/api/v1/me/notifications/read", { all: true }, "https://evil.example");
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe("CSRF_REJECTED");
  });

  it("Scenario: Notices older than 90 days are pruned", async () => {
    const who = await memberOf(null);
    fakeDiscord();
    await deliver(who, "order:old:placed", "old");
    await deliver(who, "order:new:placed", "new");
    const day = 24 * 60 * 60 * 1000;
    await env.DB.prepare("update member_notices set created_at = ? where user_id = ? and body = 'old'")
      .bind(Date.now() - 91 * day, who.userId)
      .run();
    const summary = await runHousekeeping(env, rootLogger, Date.now());
    expect(summary.memberNoticesDeleted).toBeGreaterThanOrEqual(1);
    expect((await inbox(who)).notices.map((n) => n.body)).toEqual(["new"]);
  });

  it("Scenario: /risk notify turns a kind's DMs on or off", async () => {
    const community = await setUpCommunity();
    const who = member();
    const notify = (options: Record<string, string>) =>
      postInteraction(
        slash(
          "risk",
          [
            {
              name: "notify",
              type: OPTION.SUB_COMMAND,
              options: Object.entries(options).map(([name, value]) => ({ name, type: OPTION.STRING, value })),
            },
          ],
          { at: community.at, who },
        ),
      );
    const off = await interactionResponse(await notify({ kind: "billing", dm: "off" }));
    expect(off).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(off.data?.content).toMatch(/^✅ Saved: billing notices .* no longer come by direct message/);
    const row = await env.DB.prepare(
      "select p.dm from notification_preferences p join users u on u.id = p.user_id where u.discord_id = ? and p.kind = 'billing'",
    )
      .bind(who.id)
      .first<{ dm: number }>();
    expect(row?.dm).toBe(0);
    const half = await interactionResponse(await notify({ kind: "orders" }));
    expect(half.data?.content).toMatch(/^Nothing saved: name both kind: and dm:/);
    const refused = await interactionResponse(await notify({ kind: "security", dm: "off" }));
    expect(refused.data?.content).toContain("must be one of");
    const shown = await interactionResponse(await notify({}));
    expect(shown.data?.content).toContain("• billing: DM off");
    expect(shown.data?.content).toContain("• security: DM on (always)");
  });

  it("Scenario: The inbox page loads its script from this site, with no inline script", async () => {
    const who = await memberOf(null);
    const page = await call("/app/inbox", { headers: { cookie: who.cookie, accept: "text/html" } });
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    const html = await page.text();
    expect(html).toContain('<script src="/app/inbox.js" defer></script>');
    expect(html.match(/<script/g)).toHaveLength(1);
    const script = await call("/app/inbox.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    const source = await script.text();
    expect(source).toContain("/api/v1/me/notifications");
    expect(source).toContain('event.type === "notification"');
    expect(source).not.toContain("innerHTML");
    const signedOut = await call("/app/inbox", { redirect: "manual" });
    expect(signedOut.status).toBe(302);
    expect(signedOut.headers.get("location")).toBe("/auth/discord/login?next=%2Fapp%2Finbox");
    await signedOut.body?.cancel();
  });
});
