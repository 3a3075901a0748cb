import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import { snowflakeTime } from "../../shared/execution/submit";
import type { ShardIdentity } from "../../shared/gateway/shards";
import {
  type Guild,
  interactionResponse,
  member,
  messageCommand,
  postInteraction,
  type RegisteredCommunity,
  setUpCommunity,
  snowflake,
  type TestMember,
} from "../support/discord";
import { executorOf, settle } from "../support/execution";
import {
  FAKE_BOT_USER_ID,
  type FakeDiscord,
  fakeDiscord,
  gatewayOf,
  guildCreate,
  memberRemove,
  messageCreate,
  roleObject,
  testShard,
  waitForStatus,
} from "../support/fake-discord";
import { connect, sessionFor, type TestSocket } from "../support/realtime";
import { createWebhook, postSignal } from "../support/signal-webhooks";

/**
 * Message intake (discord-gateway spec): messages posted in a signal channel
 * reach the executor through a real DiscordGateway object connected to the
 * fake Discord Gateway, with the real D1, executor, queues and paper broker.
 * Reactions, replies and DMs are the calls the notifications consumer makes
 * to Discord's REST API, recorded by the fake.
 */

const db = database(env.DB);
const MANAGE_GUILD = 1n << 5n;
const SEND_MESSAGES = 1n << 11n;
const started: ShardIdentity[] = [];

afterEach(async () => {
  for (const shard of started.splice(0)) await gatewayOf(shard).stop("test finished");
  vi.restoreAllMocks();
});

interface Watched {
  community: RegisteredCommunity;
  discord: FakeDiscord;
  shard: ShardIdentity;
  /** The community's repository. */
  tenant: ReturnType<typeof forCommunity>;
}

/** A registered server (/setup with a provider role and a signal channel) whose messages a connected shard reads. */
async function watchedServer(settings: { unparsedMessages?: "reply" } = {}): Promise<Watched> {
  const community = await setUpCommunity({ aroundTheClock: true });
  const tenant = forCommunity(db, community.communityId);
  if (settings.unparsedMessages) await tenant.providers.changeDiscordSettings(settings, null);
  const discord = await fakeDiscord();
  const shard = testShard();
  started.push(shard);
  await gatewayOf(shard).start();
  await waitForStatus(shard, (status) => expect(status.connected).toBe(true));
  return { community, discord, shard, tenant };
}

/** Members following the provider with paper accounts, one unit each (`members`, or new ones). */
async function followersOf(
  watched: Watched,
  provider: TestMember,
  count: number,
  mode: "auto" | "confirm",
  members: TestMember[] = Array.from({ length: count }, () => member()),
) {
  const providerUser = await upsertUser(db, { discordId: provider.id, username: provider.username });
  const ids: string[] = [];
  for (const who of members) {
    const follower = await upsertUser(db, { discordId: who.id, username: who.username });
    await watched.tenant.memberships.upsert(follower.id, "trader");
    await watched.tenant.follows.upsert({
      followerUserId: follower.id,
      providerUserId: providerUser.id,
      sizingMode: "fixed_quantity",
      amount: 1,
      mode,
    });
    ids.push(follower.id);
  }
  return ids;
}

/** A MESSAGE_CREATE as Discord sends it for a member's message in the server. */
function posted(
  at: Guild,
  author: TestMember,
  content: string,
  overrides: { id?: string; channelId?: string } & Record<string, unknown> = {},
) {
  const { id = snowflake(), channelId = at.channelId, ...rest } = overrides;
  return messageCreate({
    id,
    channel_id: channelId,
    guild_id: at.guildId,
    content,
    timestamp: new Date(snowflakeTime(id)).toISOString(),
    author: { id: author.id, username: author.username, global_name: null, discriminator: "0", avatar: null },
    member: { roles: author.roles, joined_at: "2026-01-01T00:00:00.000000+00:00", deaf: false, mute: false },
    ...rest,
  });
}

/** Dispatches a message event and waits until the watcher has handed it on. */
async function dispatchAndWait(watched: Watched, type: "MESSAGE_CREATE" | "MESSAGE_UPDATE", message: unknown) {
  const { id, edited_timestamp } = message as { id: string; edited_timestamp: string | null };
  const key = type === "MESSAGE_CREATE" ? `message:${id}` : `message_update:${id}:${edited_timestamp ?? "unedited"}`;
  await watched.discord.dispatch(type, message);
  await waitForStatus(
    watched.shard,
    (status) => expect(status.dispatches.recent.find((dispatch) => dispatch.key === key)?.status).toBe("handed_on"),
    10_000,
  );
}

async function post(watched: Watched, author: TestMember, content: string, overrides: Record<string, unknown> = {}) {
  const message = posted(watched.community.at, author, content, overrides);
  await dispatchAndWait(watched, "MESSAGE_CREATE", message);
  return message;
}

/** The same message, edited by its author at `editedAt`. */
async function edit(watched: Watched, message: ReturnType<typeof posted>, content: string, editedAt = Date.now()) {
  const update = { ...message, content, edited_timestamp: new Date(editedAt).toISOString() };
  await dispatchAndWait(watched, "MESSAGE_UPDATE", update);
  return update;
}

async function signalsOf(watched: Watched) {
  return (
    await env.DB.prepare(
      "SELECT id, source, source_id, source_timestamp, status, status_reason, provider_user_id FROM signals WHERE community_id = ? ORDER BY created_at",
    )
      .bind(watched.community.communityId)
      .all<{
        id: string;
        source: string;
        source_id: string;
        source_timestamp: number;
        status: string;
        status_reason: string | null;
        provider_user_id: string;
      }>()
  ).results;
}

async function ordersOf(watched: Watched) {
  return (
    await env.DB.prepare(
      "SELECT id, signal_id, user_id, status, leg FROM orders WHERE community_id = ? ORDER BY created_at",
    )
      .bind(watched.community.communityId)
      .all<{ id: string; signal_id: string; user_id: string; status: string; leg: string }>()
  ).results;
}

/** What Discord was asked to do about one message: reactions (method and emoji) and replies (text). */
function saidAbout(watched: Watched, message: { channel_id: string; id: string }) {
  const prefix = `/channels/${message.channel_id}/messages/${message.id}/reactions/`;
  return {
    reactions: watched.discord.rest
      .filter((call) => call.path.startsWith(prefix))
      .map((call) => `${call.method} ${decodeURIComponent(call.path.slice(prefix.length, -"/@me".length))}`),
    replies: watched.discord.rest
      .filter(
        (call) =>
          call.path === `/channels/${message.channel_id}/messages` &&
          (call.body?.message_reference as { message_id?: string } | undefined)?.message_id === message.id,
      )
      .map((call) => String(call.body?.content)),
  };
}

/** DMs the notifications consumer posted (the text of each). */
function directMessages(watched: Watched): string[] {
  return watched.discord.rest
    .filter(
      (call) =>
        call.method === "POST" && /^\/channels\/\d+\/messages$/.test(call.path) && !call.body?.message_reference,
    )
    .map((call) => String(call.body?.content));
}

/** Lets the queues deliver what the hand-off sent (reactions, replies, DMs): waits until `check` holds. */
const eventually = (check: () => void | Promise<void>, timeout = 5_000) => vi.waitFor(check, { timeout, interval: 50 });

describe("message intake", { timeout: 30_000 }, () => {
  it("Scenario: A provider's message in a signal channel is executed and marked ✅", async () => {
    const watched = await watchedServer();
    const provider = watched.community.provider();
    const followers = await followersOf(watched, provider, 2, "confirm");
    const message = await post(watched, provider, "BUY AAPL 10 @ 190 SL 185 TP 195");

    const [signal] = await signalsOf(watched);
    expect(signal).toMatchObject({
      source: "message",
      source_id: message.id,
      source_timestamp: snowflakeTime(message.id),
      status: "accepted",
    });
    const providerUser = await watched.tenant.providers.memberByDiscordId(provider.id);
    expect(signal?.provider_user_id).toBe(providerUser?.userId);
    const orders = await ordersOf(watched);
    expect(orders.map((order) => [order.user_id, order.signal_id, order.leg])).toEqual(
      expect.arrayContaining(followers.map((id) => [id, signal?.id, "entry"])),
    );
    await eventually(() => expect(saidAbout(watched, message)).toEqual({ reactions: ["PUT ✅"], replies: [] }));
    await settle({ communityId: watched.community.communityId, tenant: watched.tenant });
  });

  it("Scenario: A provider's message that placed no orders gets ⚠️ and the counts by DM", async () => {
    const watched = await watchedServer();
    const provider = watched.community.provider();
    const message = await post(watched, provider, "BUY AAPL 10 @ 190 SL 185");
    expect((await signalsOf(watched)).map((signal) => signal.status)).toEqual(["accepted"]);
    expect(await ordersOf(watched)).toEqual([]);
    await eventually(() => {
      expect(saidAbout(watched, message)).toEqual({ reactions: ["PUT ⚠️"], replies: [] });
      expect(directMessages(watched)).toEqual([
        "⚠️ Posted: BUY AAPL. Nobody follows you yet, so no orders were placed.\nOnly you see these counts.",
      ]);
    });
  });

  it("Scenario: Admins, named providers and granted providers post signals by message", async () => {
    const watched = await watchedServer();
    const { at } = watched.community;
    const [adminRole, memberRole] = [snowflake(), snowflake()];
    const owner = member();
    const guildAdmin = member({ roles: [adminRole] });
    const named = member();
    const granted = member();
    const ordinary = member({ roles: [memberRole] });
    // The watcher learns the guild's owner and roles from GUILD_CREATE, and their changes from GUILD_ROLE_UPDATE.
    await watched.discord.dispatch(
      "GUILD_CREATE",
      guildCreate({
        id: at.guildId,
        ownerId: owner.id,
        roles: [
          roleObject(at.guildId, SEND_MESSAGES, "@everyone"),
          roleObject(adminRole, MANAGE_GUILD, "Moderators"),
          roleObject(memberRole, SEND_MESSAGES, "Members"),
        ],
      }),
    );
    await watched.tenant.providers.name(
      (await upsertUser(db, { discordId: named.id, username: named.username })).id,
      null,
    );
    await watched.tenant.memberships.upsert(
      (await upsertUser(db, { discordId: granted.id, username: granted.username })).id,
      "provider",
    );

    const symbols = ["AAPL", "MSFT", "NVDA", "TSLA", "AMZN"];
    const authors = [owner, guildAdmin, named, granted, ordinary];
    const messages = [];
    for (const [i, author] of authors.entries()) {
      messages.push(await post(watched, author, `BUY ${symbols[i]} 1 @ 100`));
    }
    const bySource = new Map((await signalsOf(watched)).map((signal) => [signal.source_id, signal.status]));
    expect(messages.map((message) => bySource.get(message.id) ?? "none")).toEqual([
      "accepted",
      "accepted",
      "accepted",
      "accepted",
      "none",
    ]);

    // Manage Server taken from the role: its members are no longer admins, so no longer providers.
    await watched.discord.dispatch("GUILD_ROLE_UPDATE", {
      guild_id: at.guildId,
      role: roleObject(adminRole, SEND_MESSAGES, "Moderators"),
    });
    const after = await post(watched, guildAdmin, "BUY META 1 @ 100");
    expect((await signalsOf(watched)).some((signal) => signal.source_id === after.id)).toBe(false);
  });

  it("Scenario: Messages from non-providers, outside signal channels, from bots and system messages are not signals", async () => {
    const watched = await watchedServer({ unparsedMessages: "reply" });
    const provider = watched.community.provider();
    const outsider = member();
    const elsewhere = await post(watched, provider, "BUY AAPL 1 @ 190", { channelId: snowflake() });
    const notProvider = await post(watched, outsider, "BUY AAPL 1 @ 190");
    const joinMessage = await post(watched, provider, "BUY AAPL 1 @ 190", { type: 7 });
    const thread = await post(watched, provider, "BUY AAPL 1 @ 190", { channelId: snowflake() });
    // Bots (ours included) and webhooks are dropped by the watcher before any hand-off.
    for (const author of [
      { id: FAKE_BOT_USER_ID, username: "executor", bot: true },
      { id: snowflake(), username: "other-bot", bot: true },
    ]) {
      await watched.discord.dispatch("MESSAGE_CREATE", {
        ...posted(watched.community.at, provider, "BUY AAPL 1 @ 190"),
        author,
      });
    }
    await watched.discord.dispatch("MESSAGE_CREATE", {
      ...posted(watched.community.at, provider, "BUY AAPL 1 @ 190"),
      webhook_id: snowflake(),
    });
    // A server that never ran /setup.
    const unregistered = posted({ guildId: snowflake(), channelId: snowflake() }, provider, "BUY AAPL 1 @ 190");
    await dispatchAndWait(watched, "MESSAGE_CREATE", unregistered);

    const status = await gatewayOf(watched.shard).status();
    expect(status.dispatches.received.MESSAGE_CREATE).toBe(5);
    expect(await signalsOf(watched)).toEqual([]);
    // Nothing is said about any of them, even with replies to unparsed messages on.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const message of [elsewhere, notProvider, joinMessage, thread, unregistered]) {
      expect(saidAbout(watched, message)).toEqual({ reactions: [], replies: [] });
    }
  });

  it("Scenario: A dispatch replayed after RESUME executes once, and Execute as signal on it stores nothing new", async () => {
    const watched = await watchedServer();
    await watched.discord.configure({ replayOverlap: 1 });
    const provider = watched.community.provider();
    await followersOf(watched, provider, 1, "confirm");
    const message = await post(watched, provider, "BUY AAPL 10 @ 190 SL 185");
    await watched.discord.drop();
    const status = await waitForStatus(watched.shard, (s) => {
      expect(s.connected).toBe(true);
      expect(s.dispatches.replayed.MESSAGE_CREATE).toBe(1);
    });
    expect(status.dispatches.received.MESSAGE_CREATE).toBe(1);
    expect(await signalsOf(watched)).toHaveLength(1);
    expect(await ordersOf(watched)).toHaveLength(1);

    // The message id is the key "Execute as signal" uses too.
    const reply = await interactionResponse(
      await postInteraction(
        messageCommand(
          { id: message.id, content: message.content, author: provider },
          { at: watched.community.at, who: provider },
        ),
      ),
    );
    expect(reply.type).toBe(5);
    await eventually(() =>
      expect(watched.discord.rest.some((call) => String(call.body?.content).includes("already received"))).toBe(true),
    );
    expect(await signalsOf(watched)).toHaveLength(1);
    expect(await ordersOf(watched)).toHaveLength(1);
    await eventually(() => expect(saidAbout(watched, message).reactions).toEqual(["PUT ✅"]));
  });

  it("Scenario: A message older than the maximum signal age is not executed after an outage", async () => {
    const watched = await watchedServer();
    const provider = watched.community.provider();
    await followersOf(watched, provider, 1, "auto");
    const message = await post(watched, provider, "BUY AAPL 10 @ 190", { id: snowflake(Date.now() - 5 * 60_000) });
    const [signal] = await signalsOf(watched);
    expect(signal).toMatchObject({ source_id: message.id, status: "expired" });
    expect(await ordersOf(watched)).toEqual([]);
    await eventually(() => {
      const said = saidAbout(watched, message);
      expect(said.reactions).toEqual(["PUT ⚠️"]);
      expect(said.replies).toEqual([expect.stringMatching(/^⚠️ Not executed: .*old/)]);
    });
  });

  it("Scenario: A message that is not a signal is ignored, or answered with ⚠️ and the reason", async () => {
    const quiet = await watchedServer();
    const chat = await post(quiet, quiet.community.provider(), "Good morning traders, AAPL looks strong today");
    const loud = await watchedServer({ unparsedMessages: "reply" });
    const typo = await post(loud, loud.community.provider(), "BUY AAPL @ 190 SL 195");
    await eventually(() => {
      const said = saidAbout(loud, typo);
      expect(said.reactions).toEqual(["PUT ⚠️"]);
      // The problem in words; the error code stays in the log.
      expect(said.replies).toEqual([
        "⚠️ Not executed: this message is not a signal I can read.\n• A long stop must be below the entry (190).",
      ]);
    });
    expect(saidAbout(quiet, chat)).toEqual({ reactions: [], replies: [] });
    expect(await signalsOf(quiet)).toEqual([]);
    expect(await signalsOf(loud)).toEqual([]);
  });

  it("Scenario: Several signals in one message are refused as a whole", async () => {
    const watched = await watchedServer({ unparsedMessages: "reply" });
    const provider = watched.community.provider();
    await followersOf(watched, provider, 1, "auto");
    const message = await post(watched, provider, "Today's plays:\n1) BUY AAPL 10 @ 190\n2) SELL TSLA 5 @ 250");
    expect(await signalsOf(watched)).toEqual([]);
    expect(await ordersOf(watched)).toEqual([]);
    await eventually(() =>
      expect(saidAbout(watched, message).replies).toEqual([
        expect.stringContaining("This message holds 2 signals (AAPL, TSLA). Post each signal as its own message"),
      ]),
    );
  });
});

describe("edits", { timeout: 30_000 }, () => {
  it("Scenario: An edit within 30 seconds amends a signal whose orders are still queued", async () => {
    const watched = await watchedServer();
    const provider = watched.community.provider();
    const [follower] = await followersOf(watched, provider, 1, "confirm");
    const message = await post(watched, provider, "BUY AAPL 10 @ 190 SL 185");
    const [first] = await signalsOf(watched);
    expect(first?.status).toBe("accepted");
    // An update Discord sends for a link preview carries no edit time: it changes nothing.
    await dispatchAndWait(watched, "MESSAGE_UPDATE", { ...message, embeds: [] });
    const edited = await edit(watched, message, "BUY AAPL 10 @ 188 SL 184");

    const [withdrawn, replacement] = await signalsOf(watched);
    expect(withdrawn).toMatchObject({ id: first?.id, status: "withdrawn" });
    expect(replacement).toMatchObject({
      source_id: `${message.id}:edit:${Date.parse(edited.edited_timestamp)}`,
      source_timestamp: Date.parse(edited.edited_timestamp),
      status: "accepted",
    });
    const orders = await ordersOf(watched);
    expect(orders.map((order) => [order.signal_id, order.user_id, order.status])).toEqual([
      [first?.id, follower, "canceled"],
      [replacement?.id, follower, "queued"],
    ]);
    await eventually(() =>
      expect(saidAbout(watched, message).replies).toEqual([
        expect.stringMatching(
          /^✏️ Edit applied: BUY \$AAPL QTY 10 @ 188 SL 184\. 1 queued order of the first version was canceled\.$/,
        ),
      ]),
    );
    // The same edit delivered again (a replay) changes nothing more.
    await watched.discord.dispatch("MESSAGE_UPDATE", edited);
    expect(await signalsOf(watched)).toHaveLength(2);
  });

  it("Scenario: An edit that is no longer a signal withdraws it", async () => {
    const watched = await watchedServer();
    const provider = watched.community.provider();
    await followersOf(watched, provider, 2, "confirm");
    const message = await post(watched, provider, "BUY AAPL 10 @ 190 SL 185");
    await edit(watched, message, "scratch that, waiting for a better entry");
    const [signal] = await signalsOf(watched);
    expect(signal?.status).toBe("withdrawn");
    expect((await ordersOf(watched)).map((order) => order.status)).toEqual(["canceled", "canceled"]);
    await eventually(() => {
      const said = saidAbout(watched, message);
      expect(said.reactions).toEqual(expect.arrayContaining(["PUT ✅", "PUT ⚠️", "DELETE ✅"]));
      expect(said.replies).toEqual([expect.stringMatching(/^✏️ This edit withdrew the signal.*2 queued orders/s)]);
    });
  });

  it("Scenario: An edit after an order was sent or filled is ignored and the provider is told", async () => {
    const watched = await watchedServer();
    const provider = watched.community.provider();
    await followersOf(watched, provider, 1, "auto");
    const message = await post(watched, provider, "BUY AAPL 10 @ 190 SL 185");
    // The paper broker takes the order off the queue (submitted, then filled or working).
    await eventually(async () => expect((await ordersOf(watched))[0]?.status).not.toBe("queued"), 10_000);
    await edit(watched, message, "BUY AAPL 10 @ 180 SL 175");
    const signals = await signalsOf(watched);
    expect(signals.map((signal) => signal.status)).toEqual(["accepted"]);
    expect((await ordersOf(watched)).filter((order) => order.leg === "entry")).toHaveLength(1);
    await eventually(() =>
      expect(directMessages(watched)).toContainEqual(
        expect.stringMatching(/^✏️ Your edit of .* was not applied: An order of it already went to a broker/),
      ),
    );
    await settle({ communityId: watched.community.communityId, tenant: watched.tenant });
  });

  it("Scenario: An edit later than 30 seconds is ignored and the provider is told", async () => {
    const watched = await watchedServer();
    const provider = watched.community.provider();
    await followersOf(watched, provider, 1, "confirm");
    const message = await post(watched, provider, "BUY AAPL 10 @ 190 SL 185", { id: snowflake(Date.now() - 40_000) });
    await edit(watched, message, "BUY AAPL 10 @ 188 SL 184");
    expect((await signalsOf(watched)).map((signal) => signal.status)).toEqual(["accepted"]);
    expect((await ordersOf(watched)).map((order) => order.status)).toEqual(["queued"]);
    await eventually(() =>
      expect(directMessages(watched)).toContainEqual(
        expect.stringMatching(/^✏️ Your edit of .* was not applied: a signal changes only by an edit within 30 s/),
      ),
    );
  });
});

describe("departures", { timeout: 30_000 }, () => {
  it("Scenario: A member who leaves the server stops trading", async () => {
    const watched = await watchedServer();
    const provider = watched.community.provider();
    const leaving = member();
    const [leaverId = ""] = await followersOf(watched, provider, 1, "confirm", [leaving]);
    const providerUser = await upsertUser(db, { discordId: provider.id, username: provider.username });
    await post(watched, provider, "BUY AAPL 10 @ 190 SL 185");
    expect((await ordersOf(watched)).map((order) => order.status)).toEqual(["queued"]);

    const removal = memberRemove({
      guild_id: watched.community.at.guildId,
      user: { id: leaving.id, username: leaving.username, discriminator: "0", global_name: null, avatar: null },
    });
    await watched.discord.dispatch("GUILD_MEMBER_REMOVE", removal);
    await waitForStatus(watched.shard, (status) =>
      expect(status.dispatches.recent.find((d) => d.type === "GUILD_MEMBER_REMOVE")?.status).toBe("handed_on"),
    );
    expect(await watched.tenant.follows.get(leaverId, providerUser.id)).toMatchObject({ enabled: false });
    expect((await ordersOf(watched)).map((order) => order.status)).toEqual(["canceled"]);
    const audit = await env.DB.prepare("SELECT event, target FROM audit_log WHERE community_id = ? AND event = ?")
      .bind(watched.community.communityId, "member.departed")
      .all<{ event: string; target: string }>();
    expect(audit.results).toEqual([{ event: "member.departed", target: leaverId }]);
    await eventually(() =>
      expect(directMessages(watched)).toContainEqual(expect.stringContaining("copy trading there is paused")),
    );

    // The next signal reaches nobody; their position (none here) would keep its exits.
    await post(watched, provider, "BUY MSFT 1 @ 400");
    expect(await ordersOf(watched)).toHaveLength(1);
  });

  it("Scenario: A provider who leaves the server loses their webhook", async () => {
    const watched = await watchedServer();
    const leaving = member();
    const provider = await upsertUser(db, { discordId: leaving.id, username: leaving.username });
    await watched.tenant.memberships.upsert(provider.id, "trader");
    await watched.tenant.providers.name(provider.id, null);
    const webhook = await createWebhook(watched.community.communityId, provider.id);
    const accepted = await postSignal(webhook.path, { text: "BUY MSFT 1 @ 400" });
    expect(accepted.status).toBe(202);
    await accepted.arrayBuffer();

    await watched.discord.dispatch(
      "GUILD_MEMBER_REMOVE",
      memberRemove({
        guild_id: watched.community.at.guildId,
        user: { id: leaving.id, username: leaving.username, discriminator: "0", global_name: null, avatar: null },
      }),
    );
    await waitForStatus(watched.shard, (status) =>
      expect(status.dispatches.recent.find((d) => d.type === "GUILD_MEMBER_REMOVE")?.status).toBe("handed_on"),
    );
    const refused = await postSignal(webhook.path, { text: "BUY MSFT 1 @ 401" });
    expect(refused.status).toBe(404);
    await refused.arrayBuffer();
    const revoked = await env.DB.prepare(
      "SELECT actor_id, target, data FROM audit_log WHERE community_id = ? AND event = 'signal_webhook.revoked'",
    )
      .bind(watched.community.communityId)
      .all<{ actor_id: string | null; target: string; data: string }>();
    expect(revoked.results.map((row) => ({ ...row, data: JSON.parse(row.data) }))).toEqual([
      {
        actor_id: null,
        target: provider.id,
        data: expect.objectContaining({ webhookId: webhook.id, reason: "the provider left the server" }),
      },
    ]);
    expect(await watched.tenant.providers.memberByDiscordId(leaving.id)).toMatchObject({ namedProvider: false });
  });
});

describe("live dashboards", { timeout: 30_000 }, () => {
  it("Scenario: Orders canceled by a provider's edit or a member's departure reach their owners", async () => {
    const watched = await watchedServer();
    const provider = watched.community.provider();
    const leaving = member();
    const [leaverId = "", stayerId = ""] = await followersOf(watched, provider, 2, "confirm", [leaving, member()]);
    const socketOf = async (userId: string) => {
      const { cookie } = await sessionFor(userId, { inGuildOf: watched.community.communityId });
      return (await connect({ communityId: watched.community.communityId, cookie })).socket;
    };
    const leaver = await socketOf(leaverId);
    const stayer = await socketOf(stayerId);
    const orderUpdates = (socket: TestSocket) =>
      socket
        .events()
        .filter((event) => event.type === "order.updated")
        .map((event) => {
          const data = event.data as { orderId: string; status: string };
          return `${data.orderId} ${data.status}`;
        });
    const notices = (socket: TestSocket) =>
      socket
        .events()
        .filter((event) => event.type === "notification")
        .map((event) => String((event.data as { content: string }).content));
    const orderIdsOf = async (userId: string) =>
      (await ordersOf(watched)).filter((order) => order.user_id === userId).map((order) => order.id);

    // An edit within 30 s that is no longer a signal withdraws it: both queued orders are canceled.
    const message = await post(watched, provider, "BUY AAPL 10 @ 190 SL 185");
    await edit(watched, message, "scratch that");
    const [leaverFirst] = await orderIdsOf(leaverId);
    const [stayerFirst] = await orderIdsOf(stayerId);
    const withdrawn = (id: string | undefined) => [`${id} queued`, `${id} canceled`];
    await leaver.until((s) => orderUpdates(s).join() === withdrawn(leaverFirst).join(), 5_000, "queued, canceled");
    await stayer.until((s) => orderUpdates(s).join() === withdrawn(stayerFirst).join(), 5_000, "queued, canceled");

    // The next signal's order of the member who leaves is canceled, and the departure notice reaches their socket.
    await post(watched, provider, "BUY MSFT 1 @ 400");
    await watched.discord.dispatch(
      "GUILD_MEMBER_REMOVE",
      memberRemove({
        guild_id: watched.community.at.guildId,
        user: { id: leaving.id, username: leaving.username, discriminator: "0", global_name: null, avatar: null },
      }),
    );
    const [, leaverSecond] = await orderIdsOf(leaverId);
    const [, stayerSecond] = await orderIdsOf(stayerId);
    await leaver.until(
      (s) =>
        orderUpdates(s).includes(`${leaverSecond} canceled`) &&
        notices(s).some((notice) => notice.includes("copy trading there is paused")),
      10_000,
      "the canceled order and the departure notice",
    );
    expect(orderUpdates(leaver).slice(2)).toEqual([`${leaverSecond} queued`, `${leaverSecond} canceled`]);
    await stayer.until((s) => orderUpdates(s).includes(`${stayerSecond} queued`), 5_000, "its queued order");
    expect(orderUpdates(stayer)).toEqual([...withdrawn(stayerFirst), `${stayerSecond} queued`]);
    expect(notices(stayer).filter((notice) => notice.includes("copy trading there is paused"))).toEqual([]);
    leaver.ws.close(1000);
    stayer.ws.close(1000);
  });
});

describe("withdrawal in the executor", { timeout: 30_000 }, () => {
  it("Scenario: A withdrawal cancels every queued order of the signal, or none once one was sent", async () => {
    const watched = await watchedServer();
    const provider = watched.community.provider();
    await followersOf(watched, provider, 3, "confirm");
    await post(watched, provider, "BUY AAPL 10 @ 190 SL 185");
    const [signal] = await signalsOf(watched);
    const orders = await ordersOf(watched);
    expect(orders).toHaveLength(3);
    // One of them reached a broker (a member confirmed it, the order went out).
    await env.DB.prepare("UPDATE orders SET status = 'submitted', submitted_at = ? WHERE id = ?")
      .bind(Date.now(), orders[0]?.id)
      .run();
    const executor = executorOf(watched.community.communityId);
    const refused = await executor.withdrawSignal({
      communityId: watched.community.communityId,
      signalId: signal?.id ?? "",
      reason: "edited",
    });
    expect(refused).toMatchObject({ ok: false, code: "ORDERS_SENT", retryable: false });
    expect((await ordersOf(watched)).map((order) => order.status)).toEqual(["submitted", "queued", "queued"]);
    expect((await signalsOf(watched))[0]?.status).toBe("accepted");

    // Back to all queued: all three are canceled together, and a second call changes nothing.
    await env.DB.prepare("UPDATE orders SET status = 'queued', submitted_at = NULL WHERE id = ?")
      .bind(orders[0]?.id)
      .run();
    const withdrawn = await executor.withdrawSignal({
      communityId: watched.community.communityId,
      signalId: signal?.id ?? "",
      reason: "edited",
    });
    expect(withdrawn).toEqual({ ok: true, canceledOrders: 3, alreadyWithdrawn: false });
    expect((await ordersOf(watched)).map((order) => order.status)).toEqual(["canceled", "canceled", "canceled"]);
    expect(
      await executor.withdrawSignal({
        communityId: watched.community.communityId,
        signalId: signal?.id ?? "",
        reason: "edited",
      }),
    ).toEqual({ ok: true, canceledOrders: 0, alreadyWithdrawn: true });
    expect(await executor.signalUsage({ communityId: watched.community.communityId })).toMatchObject({ signals: 0 });
  });
});

describe("trade-management messages", { timeout: 40_000 }, () => {
  /** A provider's market signal posted by message, filled for one follower holding `shares`. */
  async function filledSignal(watched: Watched, provider: TestMember, shares: number) {
    const [follower = ""] = await followersOf(watched, provider, 1, "auto");
    const providerUser = await watched.tenant.providers.memberByDiscordId(provider.id);
    await watched.tenant.follows.upsert({
      followerUserId: follower,
      providerUserId: providerUser?.userId ?? "",
      sizingMode: "fixed_quantity",
      amount: shares,
      mode: "auto",
    });
    const message = await post(watched, provider, "BUY AAPL MKT");
    await eventually(async () => {
      const entry = (await ordersOf(watched)).find((order) => order.leg === "entry");
      expect(entry?.status).toBe("filled");
    }, 10_000);
    return { follower, message };
  }

  const replyTo = (message: { id: string; channel_id: string }) => ({
    type: 19,
    message_reference: { message_id: message.id, channel_id: message.channel_id },
  });

  const exitsOf = async (watched: Watched) =>
    (await ordersOf(watched)).filter((order) => order.leg.startsWith("exit@"));

  it("Scenario: A reply to a signal manages its trades", async () => {
    const watched = await watchedServer();
    const provider = watched.community.provider();
    const { follower, message } = await filledSignal(watched, provider, 4);
    const reply = await post(watched, provider, "TP1 hit ✅ close half", replyTo(message));
    await eventually(() => expect(saidAbout(watched, reply).reactions).toEqual(["PUT ✅"]));
    const exits = await exitsOf(watched);
    expect(exits.map((order) => [order.user_id, order.leg.startsWith("exit@")])).toEqual([[follower, true]]);
    const [exit] = await watched.tenant.execution.getOrdersByIds([exits[0]?.id ?? ""]);
    expect(exit).toMatchObject({ side: "sell", quantity: 2, orderType: "market" });
    expect(exit?.intent.positionEffect).toBe("close");
    await eventually(() =>
      expect(directMessages(watched)).toContainEqual(expect.stringMatching(/updated the AAPL trade .*paper account/)),
    );
    // A management message is not a signal: nothing new is stored in the signals table.
    expect(await signalsOf(watched)).toHaveLength(1);
    await settle({ communityId: watched.community.communityId, tenant: watched.tenant });
  });

  it("Scenario: Management from a non-provider, elsewhere or on another provider's signal is not taken", async () => {
    const watched = await watchedServer({ unparsedMessages: "reply" });
    const provider = watched.community.provider();
    const { message } = await filledSignal(watched, provider, 2);
    const outsider = member();
    const fromOutsider = await post(watched, outsider, "close all", replyTo(message));
    const elsewhere = await post(watched, provider, "close all", { ...replyTo(message), channelId: snowflake() });
    const otherProvider = watched.community.provider();
    const fromOther = await post(watched, otherProvider, "close all", replyTo(message));
    await eventually(() => {
      const said = saidAbout(watched, fromOther);
      expect(said.reactions).toEqual(["PUT ⚠️"]);
      expect(said.replies).toEqual([expect.stringContaining("another provider's signal")]);
    });
    expect(saidAbout(watched, fromOutsider)).toEqual({ reactions: [], replies: [] });
    expect(saidAbout(watched, elsewhere)).toEqual({ reactions: [], replies: [] });
    expect(await exitsOf(watched)).toEqual([]);
    await settle({ communityId: watched.community.communityId, tenant: watched.tenant });
  });

  it("Scenario: Management that names no open trade is refused with a reason", async () => {
    const watched = await watchedServer({ unparsedMessages: "reply" });
    const provider = watched.community.provider();
    const { message } = await filledSignal(watched, provider, 2);
    const before = await ordersOf(watched);
    const unnamed = await post(watched, provider, "move SL to 185");
    const nothingToCancel = await post(watched, provider, "cancel", replyTo(message));
    const onChat = await post(
      watched,
      provider,
      "close half",
      replyTo({ id: snowflake(), channel_id: message.channel_id }),
    );
    await eventually(() => {
      expect(saidAbout(watched, unnamed).replies).toEqual([expect.stringContaining("This names no trade")]);
      expect(saidAbout(watched, nothingToCancel).replies).toEqual([
        expect.stringContaining("No follower has an entry waiting to fill"),
      ]);
      expect(saidAbout(watched, onChat).replies).toEqual([expect.stringContaining("not a signal I executed")]);
      for (const refused of [unnamed, nothingToCancel, onChat]) {
        expect(saidAbout(watched, refused).reactions).toEqual(["PUT ⚠️"]);
      }
    });
    expect(await ordersOf(watched)).toEqual(before);
    // With the default setting the same refusal is quiet.
    const quiet = await watchedServer();
    const silent = await post(quiet, quiet.community.provider(), "move SL to 185");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(saidAbout(quiet, silent)).toEqual({ reactions: [], replies: [] });
    await settle({ communityId: watched.community.communityId, tenant: watched.tenant });
  });

  it("Scenario: An edit of a management message is re-read only before it acted", async () => {
    const watched = await watchedServer({ unparsedMessages: "reply" });
    const provider = watched.community.provider();
    const { message } = await filledSignal(watched, provider, 4);
    // Refused (the entry filled, nothing to cancel): an edit within 30 s re-reads it.
    const instruction = await post(watched, provider, "cancel", replyTo(message));
    await eventually(() => expect(saidAbout(watched, instruction).reactions).toEqual(["PUT ⚠️"]));
    await edit(watched, instruction, "close half");
    await eventually(async () => expect(await exitsOf(watched)).toHaveLength(1));
    const [exit] = await watched.tenant.execution.getOrdersByIds([(await exitsOf(watched))[0]?.id ?? ""]);
    expect(exit).toMatchObject({ side: "sell", quantity: 2 });
    // It acted: a further edit cannot undo that, so it is ignored and the provider told.
    await edit(watched, instruction, "close all");
    await eventually(() => expect(directMessages(watched)).toContainEqual(expect.stringContaining("already acted")));
    // After the window an edit is ignored too, even of an instruction that did nothing.
    const other = await post(watched, provider, "cancel", replyTo(message));
    await eventually(() => expect(saidAbout(watched, other).reactions).toEqual(["PUT ⚠️"]));
    await edit(watched, other, "close all", Date.now() + 31_000);
    await eventually(() =>
      expect(directMessages(watched)).toContainEqual(expect.stringContaining("changes only by an edit within 30 s")),
    );
    expect(await exitsOf(watched)).toHaveLength(1);
    await settle({ communityId: watched.community.communityId, tenant: watched.tenant });
  });

  it("Scenario: A replayed management dispatch acts once", async () => {
    const watched = await watchedServer();
    const provider = watched.community.provider();
    const { message } = await filledSignal(watched, provider, 3);
    await watched.discord.configure({ replayOverlap: 1 });
    await post(watched, provider, "close all", replyTo(message));
    await watched.discord.drop();
    await waitForStatus(watched.shard, (s) => {
      expect(s.connected).toBe(true);
      expect(s.dispatches.replayed.MESSAGE_CREATE).toBe(1);
    });
    expect(await exitsOf(watched)).toHaveLength(1);
    await eventually(() =>
      expect(directMessages(watched).filter((dm) => dm.includes("updated the AAPL trade"))).toHaveLength(1),
    );
    await settle({ communityId: watched.community.communityId, tenant: watched.tenant });
  });

  it("recognizes result reports and never trades them", async () => {
    const watched = await watchedServer({ unparsedMessages: "reply" });
    const provider = watched.community.provider();
    const { message } = await filledSignal(watched, provider, 2);
    const before = await ordersOf(watched);
    const reports = [
      await post(watched, provider, "TP2 reached 🎯", replyTo(message)),
      await post(watched, provider, "Profit: 69%"),
    ];
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const report of reports) expect(saidAbout(watched, report)).toEqual({ reactions: [], replies: [] });
    expect(await ordersOf(watched)).toEqual(before);
    expect(await signalsOf(watched)).toHaveLength(1);
    await settle({ communityId: watched.community.communityId, tenant: watched.tenant });
  });
});
