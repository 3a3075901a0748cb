import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import { COMMUNITY_DATA_RETENTION_MS } from "../../platform/members/community-deletion";
import { executorFor, realtimeHubFor } from "../../platform/objects";
import { communityScope } from "../../shared/crypto/data-keys";
import { rootLogger } from "../../shared/logging";
import { CLOSE_CODES } from "../../shared/realtime/protocol";
import { runHousekeeping } from "../../workers/cron/housekeeping";
import { DAY, postActiveCommunitySubscription } from "../support/billing";
import {
  fakeDiscordApi,
  interactionResponse,
  postInteraction,
  setUpCommunity,
  slash,
  snowflake,
} from "../support/discord";
import { communityWithFollowers, AAPL_MARKET_BUY as MARKET_BUY, submit } from "../support/execution";
import { call, errorOf, opsHeaders } from "../support/http";
import { enrolMfa, mfaCall } from "../support/mfa";
import { connect, memberOf, requestUpgrade } from "../support/realtime";
import { createWebhook } from "../support/signal-webhooks";

const db = database(env.DB);

// Members are told by DM: the notifications consumer reaches this fake Discord.
beforeEach(() => {
  fakeDiscordApi();
});

afterEach(() => {
  vi.restoreAllMocks();
});

const deleteAs = (cookie: string, communityId: string) =>
  mfaCall(cookie, "DELETE", `/api/v1/communities/${communityId}`);
const deleteAsOperator = (communityId: string) =>
  call(`/api/v1/communities/${communityId}`, { method: "DELETE", headers: opsHeaders() });

async function auditOf(communityId: string, event: string) {
  const { results } = await env.DB.prepare(
    "SELECT actor_id AS actorId, data FROM audit_log WHERE community_id = ? AND event = ? ORDER BY seq",
  )
    .bind(communityId, event)
    .all<{ actorId: string | null; data: string }>();
  return results.map((row) => ({ actorId: row.actorId, data: JSON.parse(row.data) as Record<string, unknown> }));
}

/** Rows in a Durable Object's own SQLite, over all its tables (none when it was emptied and not woken since). */
const storedRows = (stub: DurableObjectStub) =>
  runInDurableObject(stub, (_instance, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
      )
      .toArray();
    let rows = 0;
    for (const { name } of tables)
      rows += state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM "${name}"`).one().n;
    return rows;
  });

const rowCount = async (table: string, communityId: string) =>
  (
    await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE community_id = ?`)
      .bind(communityId)
      .first<{ n: number }>()
  )?.n ?? 0;

const dataKeyCount = async (communityId: string) =>
  (
    await env.DB.prepare("SELECT count(*) AS n FROM data_keys WHERE scope = ?")
      .bind(communityScope(communityId))
      .first<{ n: number }>()
  )?.n ?? 0;

describe("deleting a community", () => {
  it("Scenario: The owner deletes the community after a step-up", async () => {
    const community = await communityWithFollowers(2);
    // Keep the copies queued (not yet sent to a broker): the messages are recorded, not delivered.
    vi.spyOn(env.ORDER_QUEUE, "sendBatch").mockResolvedValue({
      metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } },
    });
    const { summary } = await submit(community, MARKET_BUY);
    expect(summary).toMatchObject({ status: "accepted", ordersQueued: 2 });
    const webhook = await createWebhook(community.communityId, community.providerId);
    const owner = await memberOf(community.communityId, "owner");
    await enrolMfa(owner.cookie);
    const dms = vi.spyOn(env.NOTIFY_QUEUE, "send");

    const res = await deleteAs(owner.cookie, community.communityId);
    expect(res.status).toBe(200);
    const { community: deleted } = (await res.json()) as { community: Record<string, unknown> };
    expect(deleted).toMatchObject({
      id: community.communityId,
      deleted: true,
      halted: true,
      executorNotified: true,
      canceledOrders: 2,
      revokedWebhooks: 1,
      membersNotified: 4,
      openPositions: "untouched",
    });
    expect(deleted.purgeAfter).toBe((deleted.deletedAt as number) + COMMUNITY_DATA_RETENTION_MS);

    const row = await community.tenant.community.get();
    expect(row).toMatchObject({ halted: true, haltedReason: "community deleted", deletedBy: owner.userId });
    const orders = await community.tenant.execution.listOrders({ limit: 10 });
    expect(orders.map((order) => order.status)).toEqual(["canceled", "canceled"]);
    expect(orders.every((order) => order.brokerOrderId === null)).toBe(true);
    expect((await community.tenant.signalWebhooks.view(webhook.id))?.revokedAt).not.toBeNull();
    expect(await auditOf(community.communityId, "community.deleted")).toEqual([
      { actorId: owner.userId, data: expect.objectContaining({ stepUp: "community.delete" }) },
    ]);
    // Every member is told by DM that open positions at their broker are untouched.
    await vi.waitFor(() => {
      const told = dms.mock.calls
        .map(([message]) => message as { kind: string; key: string; message: { content: string } })
        .filter((message) => message.kind === "dm" && message.key.includes(":community_deleted:"));
      expect(told).toHaveLength(4);
      expect(told[0]?.message.content).toContain("Your open positions and their orders at your broker are untouched");
    });

    // From now on the community is not found, for its owner and for a second deletion.
    const again = await deleteAs(owner.cookie, community.communityId);
    expect(again.status).toBe(404);
    expect((await errorOf(again)).code).toBe("COMMUNITY_NOT_FOUND");
    const read = await mfaCall(owner.cookie, "GET", `/api/v1/communities/${community.communityId}`);
    expect((await errorOf(read)).code).toBe("COMMUNITY_NOT_FOUND");
    const byOperator = await call(`/api/v1/communities/${community.communityId}/members`, { headers: opsHeaders() });
    expect(byOperator.status).toBe(404);
    const me = (await (await mfaCall(owner.cookie, "GET", "/api/v1/me")).json()) as { communities: { id: string }[] };
    expect(me.communities.map((listed) => listed.id)).not.toContain(community.communityId);
  });

  it("Scenario: Deleting a community closes its open dashboard sockets", async () => {
    const member = await memberOf(null, "trader");
    const { socket } = await connect(member);
    const res = await deleteAsOperator(member.communityId);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { community: { socketsClosed: number } }).community.socketsClosed).toBe(1);
    expect(await socket.closedWith(1_000)).toEqual({ code: CLOSE_CODES.communityDeleted, reason: "community deleted" });
    const again = await requestUpgrade(member.communityId, member.cookie);
    expect(again.status).toBe(404);
    await again.body?.cancel();
  });

  it("Scenario: Only the owner deletes the community, with a step-up", async () => {
    const owner = await memberOf(null, "owner");
    const admin = await memberOf(owner.communityId, "admin");
    const refused = await deleteAs(admin.cookie, owner.communityId);
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).code).toBe("FORBIDDEN");
    const unenrolled = await deleteAs(owner.cookie, owner.communityId);
    expect(unenrolled.status).toBe(403);
    const refusal = await errorOf(unenrolled);
    expect(refusal.code).toBe("MFA_REQUIRED");
    expect(refusal.message).toContain("Deleting the community");
    const tenant = forCommunity(db, owner.communityId);
    expect(await tenant.community.get()).toMatchObject({ deletedAt: null, halted: false });
    expect(await auditOf(owner.communityId, "community.deleted")).toEqual([]);
  });

  it("Scenario: An operator deletes a community without a step-up", async () => {
    const { communityId } = await memberOf(null, "owner");
    const res = await deleteAsOperator(communityId);
    expect(res.status).toBe(200);
    const [entry] = await auditOf(communityId, "community.deleted");
    expect(entry?.actorId).toMatch(/^ops:/);
    expect(entry?.data).toMatchObject({ stepUp: null });
    const guildId = (await forCommunity(db, communityId).community.get())?.guildId ?? "";
    const lookup = await call(`/api/v1/communities?guild_id=${guildId}`, { headers: opsHeaders() });
    expect(lookup.status).toBe(404);
    expect((await errorOf(lookup)).code).toBe("COMMUNITY_NOT_FOUND");
  });

  it("Scenario: A community whose subscription still renews is not deleted", async () => {
    const owner = await memberOf(null, "owner");
    await postActiveCommunitySubscription(owner.communityId, owner.userId);
    await vi.waitFor(async () =>
      expect((await forCommunity(db, owner.communityId).community.get())?.tier).toBe("professional"),
    );
    const res = await deleteAsOperator(owner.communityId);
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe("SUBSCRIPTION_ACTIVE");
    expect(await forCommunity(db, owner.communityId).community.get()).toMatchObject({ deletedAt: null, halted: false });
  });

  it("Scenario: A deleted community is restored by /setup within 30 days and purged after them", async () => {
    const kept = await setUpCommunity();
    expect((await deleteAsOperator(kept.communityId)).status).toBe(200);
    // Discord no longer finds it, except /setup, which restores it as a re-invite would; trading stays halted.
    const portfolio = await interactionResponse(
      await postInteraction(slash("portfolio", [], { at: kept.at, who: kept.owner })),
    );
    expect(portfolio.data?.content).toMatch(/^This server is not set up yet/);
    const reply = await interactionResponse(
      await postInteraction(slash("setup", [], { at: kept.at, who: kept.owner })),
    );
    expect(reply.data?.content).toMatch(/^♻️ This server's community was deleted and is restored/);
    expect(await forCommunity(db, kept.communityId).community.get()).toMatchObject({
      deletedAt: null,
      halted: true,
      haltedReason: "community deleted",
    });
    expect(await auditOf(kept.communityId, "community.restored")).toHaveLength(1);

    const gone = await communityWithFollowers(1);
    const member = await upsertUser(db, { discordId: snowflake(), username: "gone-member" });
    await gone.tenant.memberships.upsert(member.id, "viewer");
    // A signal webhook gives the community a data key in the credential vault.
    await createWebhook(gone.communityId, gone.providerId);
    expect(await dataKeyCount(gone.communityId)).toBe(1);
    expect((await deleteAsOperator(gone.communityId)).status).toBe(200);
    const deletedAt = (await gone.tenant.community.get())?.deletedAt ?? 0;
    expect(await runHousekeeping(env, rootLogger, deletedAt + COMMUNITY_DATA_RETENTION_MS - DAY)).toMatchObject({
      deletedCommunitiesPurged: 0,
    });
    expect(await rowCount("memberships", gone.communityId)).toBe(3);
    const executor = executorFor(env, gone.communityId);
    const hub = realtimeHubFor(env, gone.communityId);
    expect(await storedRows(executor)).toBeGreaterThan(0);
    expect(await storedRows(hub)).toBeGreaterThan(0);
    // Communities deleted by the other scenarios of this file are purged too.
    const { deletedCommunitiesPurged } = await runHousekeeping(
      env,
      rootLogger,
      deletedAt + COMMUNITY_DATA_RETENTION_MS,
    );
    expect(deletedCommunitiesPurged).toBeGreaterThanOrEqual(1);
    for (const table of ["memberships", "follows", "signals", "orders"]) {
      expect(await rowCount(table, gone.communityId)).toBe(0);
    }
    // What its executor and hub kept (kill switch, counters, the replay buffer) is gone too.
    expect(await storedRows(executor)).toBe(0);
    expect(await storedRows(hub)).toBe(0);
    // Its data keys are deleted last: anything they sealed can never be opened again.
    expect(await dataKeyCount(gone.communityId)).toBe(0);
    // The audit log is append-only: it stays, the deletion recorded in it.
    expect(await auditOf(gone.communityId, "community.deleted")).toHaveLength(1);
    expect(await gone.tenant.community.get()).toBeNull();
    // The restored one is not purged.
    expect(await forCommunity(db, kept.communityId).community.get()).not.toBeNull();
  });
});
