import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { fakeDiscordApi } from "../support/discord";
import { call, errorOf, opsHeaders } from "../support/http";
import { enrolMfa, mfaCall } from "../support/mfa";
import { memberOf, type TestMember } from "../support/realtime";

afterEach(() => {
  vi.restoreAllMocks();
});

const SEALED = "v1.sealed-credentials-never-shown";

// Each row a later creation time than the last: rows stored in the same millisecond would list in id order.
let lastCreatedAt = Date.now();

/** A connection row as the (later) connect flow would store it, with sealed credentials. */
async function connection(who: TestMember, options: { live?: boolean; status?: string; error?: string } = {}) {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    "INSERT INTO broker_connections (id, community_id, user_id, broker, status, status_reason, account_id, is_paper, credentials, key_version, expires_at, created_at) VALUES (?, ?, ?, 'alpaca', ?, ?, ?, ?, ?, 1, ?, ?)",
  )
    .bind(
      id,
      who.communityId,
      who.userId,
      options.status ?? "active",
      options.error ?? null,
      `PA${id.slice(0, 8)}`,
      options.live === false ? 1 : 0,
      SEALED,
      Date.now() + 86_400_000,
      ++lastCreatedAt,
    )
    .run();
  return id;
}

/** An order through the connection, still open at the broker. */
async function openOrder(who: TestMember, connectionId: string) {
  await env.DB.prepare(
    "INSERT INTO orders (id, community_id, user_id, account_ref, broker, client_order_id, symbol, asset_class, intent, side, order_type, quantity, status) VALUES (?, ?, ?, ?, 'alpaca', ?, 'AAPL', 'equity', '{}', 'buy', 'market', 1, 'submitted')",
  )
    .bind(crypto.randomUUID(), who.communityId, who.userId, connectionId, crypto.randomUUID())
    .run();
}

const list = (who: TestMember) => mfaCall(who.cookie, "GET", `/api/v1/communities/${who.communityId}/brokers`);
const remove = (who: TestMember, id: string) =>
  mfaCall(who.cookie, "DELETE", `/api/v1/communities/${who.communityId}/brokers/${id}`);
const idsOf = async (res: Response) =>
  ((await res.json()) as { connections: { id: string }[] }).connections.map((c) => c.id);

async function disconnections(communityId: string) {
  const { results } = await env.DB.prepare(
    "SELECT actor_id AS actorId, target, data FROM audit_log WHERE community_id = ? AND event = 'broker.disconnected' ORDER BY seq",
  )
    .bind(communityId)
    .all<{ actorId: string; target: string; data: string }>();
  return results.map((row) => ({ ...row, data: JSON.parse(row.data) as Record<string, unknown> }));
}

const stored = async (id: string) =>
  env.DB.prepare("SELECT id, credentials FROM broker_connections WHERE id = ?").bind(id).first();

describe("broker connections", () => {
  it("Scenario: Members see their own broker connections, admins every member's", async () => {
    const trader = await memberOf(null, "trader");
    const other = await memberOf(trader.communityId, "trader");
    const admin = await memberOf(trader.communityId, "admin");
    const mine = await connection(trader, { status: "error", error: "Alpaca answered 401: token revoked" });
    const theirs = await connection(other, { live: false });

    const own = await list(trader);
    expect(own.status).toBe(200);
    const text = await own.text();
    expect(text).not.toContain(SEALED);
    expect(JSON.parse(text)).toEqual({
      connections: [
        expect.objectContaining({
          id: mine,
          userId: trader.userId,
          broker: "alpaca",
          status: "error",
          lastError: "Alpaca answered 401: token revoked",
          mode: "live",
          accountId: `PA${mine.slice(0, 8)}`,
          expiresAt: expect.any(Number),
        }),
      ],
    });
    expect(await idsOf(await list(admin))).toEqual([mine, theirs]);
    const byOperator = await call(`/api/v1/communities/${trader.communityId}/brokers`, { headers: opsHeaders() });
    expect(await idsOf(byOperator)).toEqual([mine, theirs]);
  });

  it("Scenario: A member removes their broker connection after a step-up", async () => {
    const trader = await memberOf(null, "trader");
    const id = await connection(trader);
    // A live connection means the member must have two-factor authentication.
    const refused = await remove(trader, id);
    expect(refused.status).toBe(403);
    const refusal = await errorOf(refused);
    expect(refusal.code).toBe("MFA_REQUIRED");
    expect(refusal.message).toContain("Removing a broker connection");
    expect(await stored(id)).not.toBeNull();

    await enrolMfa(trader.cookie);
    const res = await remove(trader, id);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ disconnected: true, connection: { id, broker: "alpaca", mode: "live" } });
    // The row goes, and the sealed credentials with it.
    expect(await stored(id)).toBeNull();
    expect(await disconnections(trader.communityId)).toEqual([
      {
        actorId: trader.userId,
        target: trader.userId,
        data: expect.objectContaining({ connectionId: id, broker: "alpaca", stepUp: "broker.disconnect" }),
      },
    ]);
    const again = await remove(trader, id);
    expect(again.status).toBe(404);
    expect((await errorOf(again)).code).toBe("BROKER_CONNECTION_NOT_FOUND");
  });

  it("Scenario: A connection with open orders is not removed", async () => {
    const trader = await memberOf(null, "trader");
    const id = await connection(trader, { live: false });
    await openOrder(trader, id);
    const res = await remove(trader, id);
    expect(res.status).toBe(409);
    const error = await errorOf(res);
    expect(error.code).toBe("BROKER_CONNECTION_BUSY");
    expect(error.message).toContain("1 order(s)");
    expect(await stored(id)).not.toBeNull();
    expect(await disconnections(trader.communityId)).toEqual([]);
  });

  it("Scenario: An order placed while the removal is decided keeps the connection", async () => {
    const trader = await memberOf(null, "trader");
    const id = await connection(trader, { live: false });
    // The real repository on the real D1; the order lands just before the removal's batch runs, as a copy being
    // placed by the executor at that moment would.
    let raced = false;
    const racing = new Proxy(env.DB, {
      get(target, property) {
        if (property === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            if (!raced) {
              raced = true;
              await openOrder(trader, id);
            }
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const outcome = await forCommunity(database(racing), trader.communityId).brokerConnections.disconnect(id, {
      actorId: trader.userId,
      stepUp: null,
    });
    expect(raced).toBe(true);
    expect(outcome).toEqual({ outcome: "busy", openOrders: 1 });
    expect(await stored(id)).not.toBeNull();
    expect(await disconnections(trader.communityId)).toEqual([]);
  });

  it("Scenario: Only admins and operators remove another member's connection", async () => {
    fakeDiscordApi();
    const dms = vi.spyOn(env.NOTIFY_QUEUE, "send");
    const owner = await memberOf(null, "trader");
    const stranger = await memberOf(owner.communityId, "trader");
    const admin = await memberOf(owner.communityId, "admin");
    const first = await connection(owner, { live: false });
    const second = await connection(owner, { live: false });

    const hidden = await remove(stranger, first);
    expect(hidden.status).toBe(404);
    expect((await errorOf(hidden)).code).toBe("BROKER_CONNECTION_NOT_FOUND");
    expect(await stored(first)).not.toBeNull();

    expect((await remove(admin, first)).status).toBe(200);
    const byOperator = await call(`/api/v1/communities/${owner.communityId}/brokers/${second}`, {
      method: "DELETE",
      headers: opsHeaders(),
    });
    expect(byOperator.status).toBe(200);
    const audited = await disconnections(owner.communityId);
    expect(audited.map((entry) => [entry.actorId.startsWith("ops:") ? "ops" : entry.actorId, entry.target])).toEqual([
      [admin.userId, owner.userId],
      ["ops", owner.userId],
    ]);
    // The member is told of each removal by DM.
    await vi.waitFor(() => {
      const told = dms.mock.calls
        .map(([message]) => message as { kind: string; key: string; message: { content: string } })
        .filter((message) => message.kind === "dm" && message.key.includes(":broker_disconnected:"));
      expect(told.map((message) => message.key.split(":").at(-1))).toEqual([first, second]);
      expect(told[0]?.message.content).toContain("was removed by an admin");
    });
  });
});
