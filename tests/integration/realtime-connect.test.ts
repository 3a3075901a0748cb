import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { database } from "../../platform/db/client";
import { sessionStore } from "../../platform/db/sessions";
import { purposeKey } from "../../shared/crypto/purpose-key";
import { HANDOFF_HEADER, signHandoff } from "../../shared/realtime/handoff";
import { REALTIME_LIMITS } from "../../shared/realtime/protocol";
import { errorOf, opsHeaders } from "../support/http";
import { connect, hubOf, memberOf, newCommunityId, requestUpgrade, TestSocket } from "../support/realtime";
import { TEST_VARS } from "../support/test-vars";

const SECRET = TEST_VARS.SESSION_SECRET;

/** Asks a hub directly for an upgrade, as only the Worker should. */
function hubUpgrade(communityId: string, handoff: string | null, extra: Record<string, string> = {}) {
  return hubOf(communityId).fetch("https://realtime-hub/connect", {
    headers: { upgrade: "websocket", ...(handoff ? { [HANDOFF_HEADER]: handoff } : {}), ...extra },
  });
}

describe("connecting through the Worker", () => {
  it("Scenario: A member connects and is welcomed with their channels", async () => {
    const trader = await memberOf(null, "trader");
    const { socket, welcome } = await connect(trader);
    expect(welcome).toMatchObject({
      type: "welcome",
      seq: 0,
      role: "trader",
      channels: ["portfolio", "orders", "signals", "notifications"],
      replay: null,
    });
    expect(welcome.streams).toEqual({
      "portfolio:member": 0,
      "orders:member": 0,
      "signals:community": 0,
      "notifications:member": 0,
      "notifications:community": 0,
    });
    socket.ws.close(1000);
  });

  it("Scenario: A request without a session is refused with 401", async () => {
    const member = await memberOf(null);
    const none = await requestUpgrade(member.communityId, null);
    expect(none.status).toBe(401);
    expect((await errorOf(none)).code).toBe("SESSION_REQUIRED");
    expect(none.webSocket).toBeNull();

    await sessionStore(database(env.DB)).revoke(member.sessionId);
    const revoked = await requestUpgrade(member.communityId, member.cookie);
    expect(revoked.status).toBe(401);
    expect((await errorOf(revoked)).code).toBe("SESSION_INVALID");

    const forged = await requestUpgrade(member.communityId, `__Host-session=${member.cookie.split("=")[1]}x`);
    expect(forged.status).toBe(401);
    expect((await errorOf(forged)).code).toBe("SESSION_INVALID");
    expect((await hubOf(member.communityId).stats()).counters.connectionsOpened).toBe(0);
  });

  it("Scenario: A non-member gets 404 as for a missing community", async () => {
    const memberOfA = await memberOf(null, "owner");
    const communityB = await newCommunityId();
    const wrong = await requestUpgrade(communityB, memberOfA.cookie);
    const missing = await requestUpgrade(`missing-${crypto.randomUUID()}`, memberOfA.cookie);
    for (const res of [wrong, missing]) {
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe("COMMUNITY_NOT_FOUND");
    }
    // Even without the upgrade header, a non-member learns nothing more.
    const plain = await requestUpgrade(communityB, memberOfA.cookie, { headers: { upgrade: "" } });
    expect(plain.status).toBe(404);
    await plain.body?.cancel();
  });

  it("Scenario: A request that is not a WebSocket upgrade gets 426", async () => {
    const member = await memberOf(null);
    const res = await requestUpgrade(member.communityId, member.cookie, { headers: { upgrade: "h2c" } });
    expect(res.status).toBe(426);
    expect(res.headers.get("upgrade")).toBe("websocket");
    const error = await errorOf(res);
    expect(error.code).toBe("UPGRADE_REQUIRED");
    expect(error.message).toMatch(/WebSocket/);
  });

  it("Scenario: A since that is not a sequence number is refused", async () => {
    const member = await memberOf(null);
    for (const since of ["-1", "abc", "1.5", "9".repeat(16)]) {
      const res = await requestUpgrade(member.communityId, member.cookie, { query: `since=${since}` });
      expect(res.status).toBe(400);
      expect(res.webSocket).toBeNull();
      expect((await errorOf(res)).code).toBe("VALIDATION_FAILED");
    }
  });

  it("Scenario: The hub refuses connections that did not come through the Worker", async () => {
    const member = await memberOf(null);
    const identity = {
      communityId: member.communityId,
      userId: member.userId,
      role: "owner" as const,
      credential: { kind: "session" as const, sessionId: member.sessionId },
    };
    const nowSeconds = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ cid: member.communityId, role: "owner", sid: member.sessionId })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("dte:realtime-handoff")
      .setSubject(member.userId)
      .setIssuedAt(nowSeconds - 120)
      .setExpirationTime(nowSeconds - 60)
      .sign(await purposeKey(SECRET, "dte:realtime-handoff"));
    const attempts = [
      null,
      "not-a-token",
      await signHandoff("another-secret-another-secret-another-secret", identity),
      expired,
      await signHandoff(SECRET, { ...identity, communityId: await newCommunityId() }),
      // A session token is not a hand-off, though both come from SESSION_SECRET.
      member.cookie.split("=")[1] ?? "",
    ];
    for (const handoff of attempts) {
      const res = await hubUpgrade(member.communityId, handoff, { "x-user-id": member.userId, "x-role": "owner" });
      expect(res.status).toBe(403);
      expect(res.webSocket).toBeNull();
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("HANDOFF_INVALID");
    }
    expect((await hubOf(member.communityId).stats()).connections).toBe(0);
    // A genuine hand-off is still held to the Worker's own checks: an upgrade, and a since that is a sequence number.
    const notUpgrade = await hubOf(member.communityId).fetch("https://realtime-hub/connect", {
      headers: { [HANDOFF_HEADER]: await signHandoff(SECRET, identity) },
    });
    expect(notUpgrade.status).toBe(426);
    expect(((await notUpgrade.json()) as { error: { code: string } }).error.code).toBe("UPGRADE_REQUIRED");
    const badSince = await hubOf(member.communityId).fetch("https://realtime-hub/connect?since=-1", {
      headers: { upgrade: "websocket", [HANDOFF_HEADER]: await signHandoff(SECRET, identity) },
    });
    expect(badSince.status).toBe(400);
    expect(((await badSince.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
    // The genuine article opens a socket, so the refusals above were about the token alone.
    const genuine = await hubUpgrade(member.communityId, await signHandoff(SECRET, identity));
    expect(genuine.status).toBe(101);
    const socket = new TestSocket(genuine.webSocket as WebSocket);
    await socket.nextOfType("welcome");
    socket.ws.close(1000);
  });

  it("Scenario: A member holds at most ten sockets in a community", async () => {
    const member = await memberOf(null);
    const sockets: TestSocket[] = [];
    for (let i = 0; i < REALTIME_LIMITS.maxSocketsPerUser; i++) sockets.push((await connect(member)).socket);
    const eleventh = await requestUpgrade(member.communityId, member.cookie);
    expect(eleventh.status).toBe(429);
    expect((await errorOf(eleventh)).code).toBe("TOO_MANY_CONNECTIONS");
    expect((await hubOf(member.communityId).stats()).connections).toBe(10);
    expect(sockets.every((socket) => socket.closed === null)).toBe(true);
    // Another member of the same community is not affected.
    const other = await memberOf(member.communityId);
    const { socket } = await connect(other);
    for (const open of [...sockets, socket]) open.ws.close(1000);
  });
});

describe("reconnect storms", () => {
  it("Scenario: Connection attempts are limited per member", async () => {
    const member = await memberOf(null);
    const { limit, periodMs } = REALTIME_LIMITS.connectRate;
    const started = Date.now();
    let allowed = 0;
    let refused: Response | null = null;
    while (!refused && allowed < limit + 10) {
      const res = await requestUpgrade(member.communityId, member.cookie);
      if (res.status === 101) {
        allowed += 1;
        new TestSocket(res.webSocket as WebSocket).ws.close(1000);
      } else refused = res;
    }
    // The burst, plus what refilled while the loop ran (one every periodMs / limit), and not one more.
    const refilled = Math.ceil((Date.now() - started) / (periodMs / limit));
    expect(allowed).toBeGreaterThanOrEqual(limit);
    expect(allowed).toBeLessThanOrEqual(limit + refilled);
    expect(refused?.status).toBe(429);
    expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await errorOf(refused as Response)).code).toBe("RATE_LIMITED");
    // Another member of the community connects as usual.
    const other = await memberOf(member.communityId);
    const { socket } = await connect(other);
    socket.ws.close(1000);
  });
});

describe("operators", () => {
  it("Scenario: An operator connects with the operator token and sees what admins see", async () => {
    const owner = await memberOf(null, "owner");
    const trader = await memberOf(owner.communityId, "trader");
    const res = await requestUpgrade(owner.communityId, null, { headers: opsHeaders() });
    expect(res.status).toBe(101);
    const operator = new TestSocket(res.webSocket as WebSocket);
    const welcome = await operator.nextOfType("welcome");
    expect(welcome).toMatchObject({ role: "operator", channels: ["portfolio", "orders", "signals", "notifications"] });
    expect(Object.keys(welcome.streams as object).some((stream) => stream.endsWith(":member"))).toBe(false);
    const { socket: traderSocket } = await connect(trader);

    await hubOf(owner.communityId).publishBatch([
      {
        communityId: owner.communityId,
        type: "order.updated",
        audience: { userId: trader.userId },
        data: { n: 1 },
        at: Date.now(),
      },
      { communityId: owner.communityId, type: "position.updated", audience: "admins", data: { n: 2 }, at: Date.now() },
      {
        communityId: owner.communityId,
        type: "signal.accepted",
        audience: "community",
        data: { n: 3 },
        at: Date.now(),
      },
    ]);
    await operator.until((s) => s.events().length === 2, 3_000, "two events");
    await traderSocket.until((s) => s.events().length === 2, 3_000, "two events");
    expect(operator.events().map((e) => e.type)).toEqual(["position.updated", "signal.accepted"]);
    expect(traderSocket.events().map((e) => e.type)).toEqual(["order.updated", "signal.accepted"]);
    operator.ws.close(1000);
    traderSocket.ws.close(1000);
  });

  it("Scenario: A wrong operator token or a missing community is refused", async () => {
    const member = await memberOf(null);
    const wrong = await requestUpgrade(member.communityId, member.cookie, {
      headers: { authorization: "Bearer not-the-ops-token-not-the-ops-token-0", "cf-connecting-ip": "198.18.7.7" },
    });
    expect(wrong.status).toBe(401);
    expect((await errorOf(wrong)).code).toBe("INVALID_TOKEN");
    const missing = await requestUpgrade(`missing-${crypto.randomUUID()}`, null, { headers: opsHeaders() });
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe("COMMUNITY_NOT_FOUND");
  });
});
