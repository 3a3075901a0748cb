import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity, type TenantRepository } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import { rootLogger } from "../../shared/logging";
import { ACCESS_SETTING_RETENTION_MS } from "../../shared/membership/standing";
import type { NormalizedSignal } from "../../shared/signals/schema";
import { runHousekeeping } from "../../workers/cron/housekeeping";
import { newCommunity } from "../support/communities";
import {
  directMessagesTo,
  fakeDiscordApi,
  interactionResponse,
  member,
  OPTION,
  postInteraction,
  type RegisteredCommunity,
  resolvedUser,
  setUpCommunity,
  slash,
  snowflake,
  type TestMember,
} from "../support/discord";
import {
  AAPL_LONG,
  AAPL_MARKET_BUY,
  communityWithFollowers,
  executorOf,
  settle,
  submit,
  type TestCommunity,
} from "../support/execution";
import {
  type FakeDiscord,
  fakeDiscord,
  gatewayOf,
  memberUpdate,
  testShard,
  waitForStatus,
} from "../support/fake-discord";
import { call, errorOf, opsHeaders } from "../support/http";
import { createWebhook, postSignal } from "../support/signal-webhooks";

/**
 * The membership spec: paid access through a Discord role, suspensions of members and communities, and what
 * losing a role stops. Real D1, executor, queues and paper broker; Discord's HTTP API and Gateway faked at their
 * boundaries (fakeDiscordApi, the fake Gateway), with payloads as Discord documents them.
 */

const db = database(env.DB);
const ACCESS_ROLE_NAME = "VIP Signals";
const eventually = (check: () => void | Promise<void>, timeout = 8_000) => vi.waitFor(check, { timeout, interval: 50 });
const MSFT_LONG: NormalizedSignal = {
  ...AAPL_LONG,
  symbol: "MSFT",
  entry: { price: 400 },
  stopLoss: 390,
  takeProfits: [],
};

afterEach(() => {
  vi.restoreAllMocks();
});

function roleResolved(id: string, name: string) {
  return {
    roles: {
      [id]: { id, name, permissions: "0", position: 2, color: 0, hoist: false, managed: false, mentionable: false },
    },
  };
}

async function setup(community: RegisteredCommunity, options: Parameters<typeof slash>[1], resolved = {}) {
  return interactionResponse(
    await postInteraction(slash("setup", options, { at: community.at, who: community.owner, resolved })),
  );
}

/** A registered community whose access role is set with a real /setup. */
async function gatedCommunity(): Promise<RegisteredCommunity & { accessRoleId: string; tenant: TenantRepository }> {
  const community = await setUpCommunity({ aroundTheClock: true });
  const accessRoleId = snowflake();
  const reply = await setup(
    community,
    [{ name: "access_role", type: OPTION.ROLE, value: accessRoleId }],
    roleResolved(accessRoleId, ACCESS_ROLE_NAME),
  );
  expect(reply.data?.content).toContain(`Access role: <@&${accessRoleId}>`);
  return { ...community, accessRoleId, tenant: forCommunity(db, community.communityId) };
}

/** A member of the community with these Discord roles recorded, following `providerId`. */
async function follower(
  tenant: TenantRepository,
  providerId: string,
  roles: string[] | null,
  mode: "auto" | "confirm" = "auto",
) {
  const who = member({ roles: roles ?? [] });
  const user = await upsertUser(db, { discordId: who.id, username: who.username });
  await tenant.memberships.upsert(user.id, "trader");
  if (roles) await tenant.memberships.recordDiscordRoles(user.id, roles);
  await tenant.follows.upsert({
    followerUserId: user.id,
    providerUserId: providerId,
    sizingMode: "fixed_quantity",
    amount: 1,
    mode,
  });
  return { who, userId: user.id };
}

async function providerOf(community: RegisteredCommunity, tenant: TenantRepository) {
  const who = community.provider();
  const user = await upsertUser(db, { discordId: who.id, username: who.username });
  await tenant.memberships.upsert(user.id, "trader");
  await tenant.memberships.recordDiscordRoles(user.id, who.roles);
  return { who, userId: user.id };
}

const asTestCommunity = (communityId: string, providerId: string, tenant: TenantRepository): TestCommunity => ({
  communityId,
  providerId,
  followerIds: [],
  tenant,
});

async function ordersOf(communityId: string, userId?: string) {
  const rows = await env.DB.prepare(
    "SELECT id, user_id, status, leg, status_reason FROM orders WHERE community_id = ? ORDER BY created_at",
  )
    .bind(communityId)
    .all<{ id: string; user_id: string; status: string; leg: string; status_reason: string | null }>();
  return rows.results.filter((row) => userId === undefined || row.user_id === userId);
}

async function auditOf(communityId: string, event: string) {
  const rows = await env.DB.prepare(
    "SELECT actor_id, target, data FROM audit_log WHERE community_id = ? AND event = ? ORDER BY seq",
  )
    .bind(communityId, event)
    .all<{ actor_id: string | null; target: string | null; data: string }>();
  return rows.results.map((row) => ({ ...row, data: JSON.parse(row.data) as Record<string, unknown> }));
}

function memberCommand(
  community: RegisteredCommunity,
  who: TestMember,
  subcommand: "suspend" | "unsuspend",
  target: TestMember & { bot?: boolean },
  reason?: string,
) {
  const resolved = resolvedUser(target);
  if (target.bot) (resolved.users[target.id] as Record<string, unknown>).bot = true;
  return slash(
    "member",
    [
      {
        name: subcommand,
        type: OPTION.SUB_COMMAND,
        options: [
          { name: "user", type: OPTION.USER, value: target.id },
          ...(reason ? [{ name: "reason", type: OPTION.STRING, value: reason }] : []),
        ],
      },
    ],
    { at: community.at, who, resolved },
  );
}

describe("paid access through a Discord role", { timeout: 30_000 }, () => {
  it("Scenario: An admin sets the access role with /setup", async () => {
    const community = await gatedCommunity();
    expect(await community.tenant.providers.discordSettings()).toMatchObject({
      accessRoleId: community.accessRoleId,
      accessRoleName: ACCESS_ROLE_NAME,
    });
    const changed = await auditOf(community.communityId, "community.settings_changed");
    expect(changed.at(-1)?.data).toMatchObject({ after: { accessRoleId: community.accessRoleId } });

    const removed = await setup(community, [{ name: "remove_access_role", type: OPTION.BOOLEAN, value: true }]);
    expect(removed.data?.content).toContain("Access role: none");
    expect(await community.tenant.providers.discordSettings()).toMatchObject({
      accessRoleId: null,
      accessRoleName: null,
    });
  });

  it("Scenario: An access role that is not a role of the server is refused", async () => {
    const community = await setUpCommunity();
    const tenant = forCommunity(db, community.communityId);
    const unresolved = snowflake();
    const notARole = await setup(community, [{ name: "access_role", type: OPTION.ROLE, value: unresolved }]);
    expect(notARole.data?.content).toBe(`<@&${unresolved}> is not a role of this server; nothing was changed.`);
    const everyone = await setup(
      community,
      [{ name: "access_role", type: OPTION.ROLE, value: community.at.guildId }],
      roleResolved(community.at.guildId, "@everyone"),
    );
    expect(everyone.data?.content).toMatch(/^@everyone cannot be the access role/);
    const role = snowflake();
    const both = await setup(
      community,
      [
        { name: "access_role", type: OPTION.ROLE, value: role },
        { name: "remove_access_role", type: OPTION.BOOLEAN, value: true },
      ],
      roleResolved(role, "VIP"),
    );
    expect(both.data?.content).toMatch(/not both; nothing was changed/);
    expect((await tenant.providers.discordSettings()).accessRoleId).toBeNull();
  });

  it("Scenario: A member without the access role cannot follow and is told where to get it", async () => {
    const community = await gatedCommunity();
    const provider = community.provider();
    const follow = (who: TestMember) =>
      postInteraction(
        slash("follow", [{ name: "provider", type: OPTION.USER, value: provider.id }], {
          at: community.at,
          who,
          resolved: resolvedUser(provider),
        }),
      );
    const outsider = member();
    const refused = await interactionResponse(await follow(outsider));
    expect(refused.data?.content).toContain(
      "Not followed: Copy trading in this server is for members with the **VIP Signals** role",
    );
    expect(refused.data?.content).toContain(`https://discord.com/channels/${community.at.guildId}/role-subscriptions`);
    const outsiderId = (await community.tenant.providers.memberByDiscordId(outsider.id))?.userId ?? "";
    expect(await community.tenant.follows.followedBy(outsiderId)).toEqual([]);

    const paying = member({ id: outsider.id, username: outsider.username, roles: [community.accessRoleId] });
    const accepted = await interactionResponse(await follow(paying));
    expect(accepted.data?.content).toMatch(/^✅ You now follow/);
    // The interaction's roles are recorded: what execution checks later.
    expect((await community.tenant.memberships.get(outsiderId))?.discordRoleIds).toEqual([community.accessRoleId]);
  });

  it("Scenario: A follower without the access role is skipped at execution and told once a day", async () => {
    const discord = fakeDiscordApi();
    const community = await gatedCommunity();
    const provider = await providerOf(community, community.tenant);
    const holder = await follower(community.tenant, provider.userId, [community.accessRoleId]);
    const lapsed = await follower(community.tenant, provider.userId, []);
    const signals = asTestCommunity(community.communityId, provider.userId, community.tenant);

    const first = await submit(signals, AAPL_LONG);
    const second = await submit(signals, MSFT_LONG);
    for (const { summary } of [first, second]) {
      expect(summary).toMatchObject({ status: "accepted", ordersQueued: 1, skipped: { access_role_missing: 1 } });
    }
    expect((await ordersOf(community.communityId, holder.userId)).length).toBeGreaterThanOrEqual(2);
    expect(await ordersOf(community.communityId, lapsed.userId)).toEqual([]);

    await eventually(async () => expect(await directMessagesTo(discord, lapsed.userId)).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const told = await directMessagesTo(discord, lapsed.userId);
    expect(told).toHaveLength(1);
    expect(told[0]).toContain("**VIP Signals**");
    expect(told[0]).toContain("role-subscriptions");
    await settle(signals);
  });

  it("Scenario: The access role outlives the bot's departure for 30 days, then lapses with the follows paused", async () => {
    const community = await gatedCommunity();
    const provider = await providerOf(community, community.tenant);
    const paying = await follower(community.tenant, provider.userId, [community.accessRoleId]);
    const watched = await watching();
    const leftAt = async () =>
      (
        await env.DB.prepare("SELECT bot_left_at FROM communities WHERE id = ?")
          .bind(community.communityId)
          .first<{ bot_left_at: number | null }>()
      )?.bot_left_at ?? null;

    await watched.discord.dispatch("GUILD_DELETE", { id: community.at.guildId });
    await eventually(async () => expect(await leftAt()).not.toBeNull());
    await watched.discord.dispatch("GUILD_CREATE", {
      id: community.at.guildId,
      owner_id: community.owner.id,
      roles: [{ id: community.at.guildId, permissions: "0" }],
    });
    await eventually(async () => expect(await leftAt()).toBeNull());
    // An outage keeps what is known: not a departure.
    await watched.discord.dispatch("GUILD_DELETE", { id: community.at.guildId, unavailable: true });
    await watched.discord.dispatch("GUILD_DELETE", { id: community.at.guildId });
    await eventually(async () => expect(await leftAt()).not.toBeNull());
    const left = (await leftAt()) ?? 0;

    const day = 24 * 60 * 60 * 1000;
    expect(await runHousekeeping(env, rootLogger, left + ACCESS_SETTING_RETENTION_MS - day)).toMatchObject({
      accessRolesExpired: 0,
    });
    expect((await community.tenant.providers.discordSettings()).accessRoleId).toBe(community.accessRoleId);
    expect(await community.tenant.follows.get(paying.userId, provider.userId)).toMatchObject({ enabled: true });

    expect(await runHousekeeping(env, rootLogger, left + ACCESS_SETTING_RETENTION_MS)).toMatchObject({
      accessRolesExpired: 1,
    });
    expect((await community.tenant.providers.discordSettings()).accessRoleId).toBeNull();
    expect(await community.tenant.follows.get(paying.userId, provider.userId)).toMatchObject({ enabled: false });
    expect(await auditOf(community.communityId, "community.access_role_expired")).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ accessRoleId: community.accessRoleId, followsPaused: 1 }),
      }),
    ]);
  });
});

describe("suspending members", { timeout: 30_000 }, () => {
  it("Scenario: An admin suspends a member with /member and their copies stop at once", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity({ aroundTheClock: true });
    const tenant = forCommunity(db, community.communityId);
    const provider = await providerOf(community, tenant);
    const suspended = await follower(tenant, provider.userId, []);
    const signals = asTestCommunity(community.communityId, provider.userId, tenant);

    // An open position with its engine-placed stop, then an entry waiting for the member's confirmation.
    await submit(signals, AAPL_MARKET_BUY);
    await settle(signals);
    const exitsBefore = (await ordersOf(community.communityId, suspended.userId)).filter((o) => o.leg !== "entry");
    expect(exitsBefore.length).toBeGreaterThan(0);
    await tenant.follows.upsert({
      followerUserId: suspended.userId,
      providerUserId: provider.userId,
      sizingMode: "fixed_quantity",
      amount: 1,
      mode: "confirm",
    });
    const waiting = await submit(signals, MSFT_LONG);
    expect(waiting.summary).toMatchObject({ ordersAwaitingConfirmation: 1 });

    const payload = memberCommand(community, community.owner, "suspend", suspended.who, "spamming the channel");
    expect((await interactionResponse(await postInteraction(payload))).type).toBe(5);
    const edit = await discord.editOf(payload, 10_000);
    expect(edit.body.content).toMatch(
      /is suspended: their copy trading stopped\. 1 order\(s\) not yet sent were canceled/,
    );

    const after = await ordersOf(community.communityId, suspended.userId);
    expect(after.find((o) => o.leg === "entry" && o.status_reason === "member_suspended")).toBeDefined();
    for (const exit of exitsBefore) {
      expect(after.find((o) => o.id === exit.id)?.status).toBe(exit.status);
    }
    const next = await submit(signals, {
      ...AAPL_LONG,
      symbol: "NVDA",
      entry: { price: 100 },
      stopLoss: 95,
      takeProfits: [],
    });
    expect(next.summary).toMatchObject({ ordersQueued: 0, skipped: { member_suspended: 1 } });

    await eventually(async () =>
      expect(await directMessagesTo(discord, suspended.userId)).toContainEqual(
        expect.stringContaining("suspended your copy trading in this server (reason: spamming the channel)"),
      ),
    );
    const ownerId = (await tenant.providers.memberByDiscordId(community.owner.id))?.userId;
    expect(await auditOf(community.communityId, "member.suspended")).toEqual([
      {
        actor_id: ownerId,
        target: suspended.userId,
        data: { userId: suspended.userId, reason: "spamming the channel" },
      },
    ]);
    await settle(signals);
  });

  it("Scenario: Unsuspending lets the member's copies resume", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity({ aroundTheClock: true });
    const tenant = forCommunity(db, community.communityId);
    const provider = await providerOf(community, tenant);
    const back = await follower(tenant, provider.userId, []);
    await tenant.memberships.suspend(back.userId, { actorId: null, reason: "cooling off" });
    const signals = asTestCommunity(community.communityId, provider.userId, tenant);
    expect((await submit(signals, AAPL_LONG)).summary).toMatchObject({ skipped: { member_suspended: 1 } });

    const payload = memberCommand(community, community.owner, "unsuspend", back.who, "served the time");
    await postInteraction(payload);
    expect((await discord.editOf(payload, 10_000)).body.content).toMatch(/is no longer suspended/);
    expect(await auditOf(community.communityId, "member.unsuspended")).toEqual([
      expect.objectContaining({ target: back.userId, data: expect.objectContaining({ reason: "served the time" }) }),
    ]);
    expect((await submit(signals, MSFT_LONG)).summary).toMatchObject({ ordersQueued: 1 });
    await eventually(async () =>
      expect(await directMessagesTo(discord, back.userId)).toContainEqual(expect.stringContaining("was lifted")),
    );
    await settle(signals);
  });

  it("Scenario: Only staff may suspend members", async () => {
    const community = await setUpCommunity();
    const tenant = forCommunity(db, community.communityId);
    const provider = await providerOf(community, tenant);
    const target = await follower(tenant, provider.userId, []);
    const reply = await interactionResponse(
      await postInteraction(memberCommand(community, member(), "suspend", target.who, "no reason")),
    );
    expect(reply.data?.content).toBe(
      "Only server admins (Manage Server permission), moderators and the community's owner can do this; your role here is trader.",
    );
    expect((await tenant.memberships.get(target.userId))?.suspendedAt).toBeNull();
    expect(await auditOf(community.communityId, "member.suspended")).toEqual([]);
  });

  it("Scenario: Suspending someone who is not a member, or unsuspending someone not suspended, changes nothing", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const tenant = forCommunity(db, community.communityId);
    const provider = await providerOf(community, tenant);
    const ask = async (payload: ReturnType<typeof memberCommand>) =>
      (await interactionResponse(await postInteraction(payload))).data?.content;

    const stranger = member();
    expect(await ask(memberCommand(community, community.owner, "suspend", stranger, "x"))).toBe(
      `<@${stranger.id}> is not a member of this community (they never used the bot here): nothing changed.`,
    );
    expect(await ask(memberCommand(community, community.owner, "suspend", { ...member(), bot: true }, "x"))).toBe(
      "Bots do not trade here: nothing to suspend.",
    );
    expect(await ask(memberCommand(community, community.owner, "suspend", community.owner, "x"))).toBe(
      "You cannot suspend or unsuspend yourself.",
    );
    const fine = await follower(tenant, provider.userId, []);
    const payload = memberCommand(community, community.owner, "unsuspend", fine.who);
    await postInteraction(payload);
    expect((await discord.editOf(payload, 10_000)).body.content).toBe(
      `<@${fine.who.id}> is not suspended: nothing changed.`,
    );
    expect(await auditOf(community.communityId, "member.suspended")).toEqual([]);
    expect(await auditOf(community.communityId, "member.unsuspended")).toEqual([]);
  });
});

describe("suspensions over the API", { timeout: 30_000 }, () => {
  const memberPath = (communityId: string, userId: string) =>
    `/api/v1/communities/${communityId}/members/${userId}/suspension`;
  const send = (path: string, method: "PUT" | "DELETE", body?: unknown, headers = opsHeaders()) =>
    call(path, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it("Scenario: Operators suspend and unsuspend a member over the API", async () => {
    fakeDiscordApi();
    const community = await communityWithFollowers(1);
    const [followerId = ""] = community.followerIds;
    const discordId =
      (
        await env.DB.prepare("SELECT discord_id FROM users WHERE id = ?").bind(followerId).first<{
          discord_id: string;
        }>()
      )?.discord_id ?? "";

    const first = await send(memberPath(community.communityId, discordId), "PUT", { reason: "chargeback" });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      userId: followerId,
      suspended: true,
      changed: true,
      reason: "chargeback",
    });
    const again = await send(memberPath(community.communityId, discordId), "PUT", { reason: "again" });
    expect(await again.json()).toMatchObject({ suspended: true, changed: false, reason: "chargeback" });
    const lifted = await send(memberPath(community.communityId, followerId), "DELETE", { reason: "resolved" });
    expect(lifted.status).toBe(200);
    expect(await lifted.json()).toMatchObject({ suspended: false, changed: true, suspendedAt: null });

    const suspendedAudit = await auditOf(community.communityId, "member.suspended");
    const liftedAudit = await auditOf(community.communityId, "member.unsuspended");
    expect(suspendedAudit).toHaveLength(1);
    expect(liftedAudit).toHaveLength(1);
    expect(suspendedAudit[0]?.actor_id).toMatch(/^ops:/);
    expect(liftedAudit[0]?.actor_id).toMatch(/^ops:/);
  });

  it("Scenario: Suspension requests with bad input are refused clearly", async () => {
    fakeDiscordApi();
    const community = await communityWithFollowers(1);
    const other = await communityWithFollowers(1);
    const [followerId = ""] = community.followerIds;
    const [outsiderId = ""] = other.followerIds;
    const path = memberPath(community.communityId, followerId);

    const noToken = await send(path, "PUT", { reason: "x" }, {});
    expect(noToken.status).toBe(401);
    await noToken.arrayBuffer();
    const noReason = await send(path, "PUT", { reason: "  " });
    expect(noReason.status).toBe(400);
    await noReason.arrayBuffer();
    const unknown = await send(memberPath(community.communityId, snowflake()), "PUT", { reason: "x" });
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe("MEMBER_NOT_FOUND");
    const crossTenant = await send(memberPath(community.communityId, outsiderId), "PUT", { reason: "x" });
    expect(crossTenant.status).toBe(404);
    expect((await errorOf(crossTenant)).code).toBe("MEMBER_NOT_FOUND");
    const noCommunity = await send(memberPath("no-such-community", followerId), "PUT", { reason: "x" });
    expect(noCommunity.status).toBe(404);
    expect((await errorOf(noCommunity)).code).toBe("COMMUNITY_NOT_FOUND");
    const notSuspended = await send(path, "DELETE");
    expect(notSuspended.status).toBe(409);
    expect((await errorOf(notSuspended)).code).toBe("MEMBER_NOT_SUSPENDED");

    expect((await community.tenant.memberships.get(followerId))?.suspendedAt).toBeNull();
    expect((await other.tenant.memberships.get(outsiderId))?.suspendedAt).toBeNull();
  });
});

describe("suspending communities", { timeout: 30_000 }, () => {
  const path = (communityId: string) => `/api/v1/ops/communities/${communityId}/suspension`;

  it("Scenario: A suspended community executes nothing until unsuspended", async () => {
    fakeDiscordApi();
    const community = await communityWithFollowers(1, { mode: "confirm", sizingMode: "fixed_quantity", amount: 1 });
    const [followerId = ""] = community.followerIds;
    expect((await submit(community, AAPL_LONG)).summary).toMatchObject({ ordersAwaitingConfirmation: 1 });

    const suspended = await call(path(community.communityId), {
      method: "PUT",
      headers: opsHeaders({ "content-type": "application/json" }),
      body: JSON.stringify({ reason: "unpaid invoices" }),
    });
    expect(suspended.status).toBe(200);
    expect(await suspended.json()).toEqual({
      communityId: community.communityId,
      suspended: true,
      changed: true,
      canceledOrders: 1,
    });
    expect((await ordersOf(community.communityId)).map((o) => [o.status, o.status_reason])).toEqual([
      ["canceled", "community_suspended"],
    ]);

    const refused = await submit(community, MSFT_LONG);
    expect(refused.summary).toMatchObject({ status: "refused", code: "COMMUNITY_SUSPENDED" });
    expect(refused.summary.message).toContain("unpaid invoices");
    const trade = await executorOf(community.communityId).submitManualTrade({
      signalId: (
        await community.tenant.signals.store({
          providerUserId: followerId,
          source: "slash",
          sourceId: snowflake(),
          sourceTimestamp: Date.now(),
          channelId: null,
          rawText: null,
          normalized: MSFT_LONG,
        })
      ).signal.id,
      communityId: community.communityId,
      userId: followerId,
      signal: MSFT_LONG,
      sourceId: snowflake(),
      sourceTimestamp: Date.now(),
    });
    expect(trade).toMatchObject({ status: "refused", code: "COMMUNITY_SUSPENDED" });

    const lifted = await call(path(community.communityId), { method: "DELETE", headers: opsHeaders() });
    expect(await lifted.json()).toMatchObject({ suspended: false, changed: true });
    expect(await auditOf(community.communityId, "community.suspended")).toEqual([
      expect.objectContaining({ actor_id: expect.stringMatching(/^ops:/), data: { reason: "unpaid invoices" } }),
    ]);
    expect(await auditOf(community.communityId, "community.unsuspended")).toHaveLength(1);
    const resumed = await submit(community, { ...MSFT_LONG, symbol: "NVDA" });
    expect(resumed.summary).toMatchObject({ status: "accepted", ordersAwaitingConfirmation: 1 });
    await settle(community);
  });

  it("Scenario: Community suspension requests are refused for an unknown community or without the operator token", async () => {
    const { communityId } = await newCommunity();
    const unknown = await call(path("no-such-community"), {
      method: "PUT",
      headers: opsHeaders({ "content-type": "application/json" }),
      body: JSON.stringify({ reason: "x" }),
    });
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe("COMMUNITY_NOT_FOUND");
    const noToken = await call(path(communityId), {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ reason: "x" }),
    });
    expect(noToken.status).toBe(401);
    await noToken.arrayBuffer();
    const noReason = await call(path(communityId), {
      method: "PUT",
      headers: opsHeaders({ "content-type": "application/json" }),
      body: JSON.stringify({}),
    });
    expect(noReason.status).toBe(400);
    await noReason.arrayBuffer();
    const row = await env.DB.prepare("SELECT suspended_at FROM communities WHERE id = ?")
      .bind(communityId)
      .first<{ suspended_at: number | null }>();
    expect(row?.suspended_at).toBeNull();
  });
});

// ---- role loss, from the Gateway ----

const started: ReturnType<typeof testShard>[] = [];
afterEach(async () => {
  for (const shard of started.splice(0)) await gatewayOf(shard).stop("test finished");
});

async function watching(): Promise<{ discord: FakeDiscord; shard: ReturnType<typeof testShard> }> {
  const discord = await fakeDiscord();
  const shard = testShard();
  started.push(shard);
  await gatewayOf(shard).start();
  await waitForStatus(shard, (status) => expect(status.connected).toBe(true));
  return { discord, shard };
}

async function roleUpdate(
  watched: { discord: FakeDiscord; shard: ReturnType<typeof testShard> },
  guildId: string,
  who: TestMember,
  roles: string[],
) {
  const seq = await watched.discord.dispatch(
    "GUILD_MEMBER_UPDATE",
    memberUpdate({
      guild_id: guildId,
      roles,
      user: { id: who.id, username: who.username, discriminator: "0", global_name: null, avatar: null },
    }),
  );
  await waitForStatus(watched.shard, (status) =>
    expect(status.dispatches.recent.find((d) => d.seq === seq)?.status).toBe("handed_on"),
  );
}

function directMessagesIn(discord: FakeDiscord): string[] {
  return discord.rest
    .filter((c) => c.method === "POST" && /^\/channels\/\d+\/messages$/.test(c.path) && !c.body?.message_reference)
    .map((c) => String(c.body?.content));
}

describe("losing a role", { timeout: 30_000 }, () => {
  it("Scenario: A member who loses the access role stops copying at once and is told", async () => {
    const community = await gatedCommunity();
    const provider = await providerOf(community, community.tenant);
    const paying = await follower(community.tenant, provider.userId, [community.accessRoleId], "confirm");
    const signals = asTestCommunity(community.communityId, provider.userId, community.tenant);
    expect((await submit(signals, AAPL_LONG)).summary).toMatchObject({ ordersAwaitingConfirmation: 1 });
    const watched = await watching();

    await roleUpdate(watched, community.at.guildId, paying.who, []);
    expect((await ordersOf(community.communityId, paying.userId)).map((o) => [o.status, o.status_reason])).toEqual([
      ["canceled", "access_role_lost"],
    ]);
    expect((await community.tenant.memberships.get(paying.userId))?.discordRoleIds).toEqual([]);
    await eventually(() =>
      expect(directMessagesIn(watched.discord)).toContainEqual(
        expect.stringContaining("You no longer hold the role that copy trading"),
      ),
    );
    expect(directMessagesIn(watched.discord).filter((dm) => dm.includes("**VIP Signals**"))).toHaveLength(1);
    expect((await submit(signals, MSFT_LONG)).summary).toMatchObject({
      ordersQueued: 0,
      skipped: { access_role_missing: 1 },
    });
    await settle(signals);
  });

  it("Scenario: A provider who loses the provider role loses their signal webhook", async () => {
    const community = await setUpCommunity();
    const tenant = forCommunity(db, community.communityId);
    const provider = await providerOf(community, tenant);
    // The operator API creates webhooks for recorded providers; this one is a provider through the role.
    await tenant.providers.name(provider.userId, null);
    const webhook = await createWebhook(community.communityId, provider.userId);
    await tenant.providers.unname(provider.userId, null);
    const watched = await watching();

    await roleUpdate(watched, community.at.guildId, provider.who, []);
    const refused = await postSignal(webhook.path, { text: "BUY MSFT 1 @ 400" });
    expect(refused.status).toBe(404);
    await refused.arrayBuffer();
    expect(await auditOf(community.communityId, "signal_webhook.revoked")).toEqual([
      expect.objectContaining({
        target: provider.userId,
        data: expect.objectContaining({ webhookId: webhook.id, reason: "the provider lost the provider role" }),
      }),
    ]);
    await eventually(() =>
      expect(directMessagesIn(watched.discord)).toContainEqual(expect.stringContaining("no longer a signal provider")),
    );
  });
});
