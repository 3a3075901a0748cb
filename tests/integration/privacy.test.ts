import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import { editKey, followUp } from "../../platform/notifications/notify-queue";
import { signComponentId } from "../../shared/discord/components";
import { packJsonAttachment } from "../../shared/notifications/attachment";
import { newCommunity } from "../support/communities";
import {
  buttonPress,
  type DiscordCall,
  EPHEMERAL,
  fakeDiscordApi,
  interactionResponse,
  member,
  OPTION,
  postInteraction,
  type RegisteredCommunity,
  setUpCommunity,
  slash,
  snowflake,
  type TestMember,
} from "../support/discord";
import { executorOf } from "../support/execution";
import { seedPaperAccount } from "../support/paper-accounts";
import { runBatch } from "../support/queues";
import { createWebhook } from "../support/signal-webhooks";
import { TEST_VARS } from "../support/test-vars";

const db = database(env.DB);
const WEBHOOKS = `https://discord.com/api/v10/webhooks/${TEST_VARS.DISCORD_APPLICATION_ID}/`;

afterEach(() => {
  vi.restoreAllMocks();
});

function privacy(community: RegisteredCommunity, who: TestMember, subcommand: "export" | "delete") {
  return slash("privacy", [{ name: subcommand, type: OPTION.SUB_COMMAND }], { at: community.at, who });
}

async function userIdOf(who: TestMember): Promise<string> {
  const row = await env.DB.prepare("SELECT id FROM users WHERE discord_id = ?").bind(who.id).first<{ id: string }>();
  if (!row) throw new Error(`no user for ${who.id}`);
  return row.id;
}

/** A member known to the community: their first command made them a member. */
async function knownMember(community: RegisteredCommunity, who: TestMember): Promise<string> {
  const reply = await interactionResponse(
    await postInteraction(slash("risk", [{ name: "view", type: OPTION.SUB_COMMAND }], { at: community.at, who })),
  );
  expect(reply.type).toBe(4);
  return userIdOf(who);
}

/** The follow-up with a file sent under one interaction (through a `fakeDiscordApi()`). */
async function fileFollowUp(discord: ReturnType<typeof fakeDiscordApi>, token: string): Promise<DiscordCall> {
  const url = `${WEBHOOKS}${encodeURIComponent(token)}`;
  return vi.waitFor(
    () => {
      const call = discord.calls.find((c) => c.url === url && c.method === "POST" && c.files.length > 0);
      if (!call) throw new Error("no follow-up with a file yet");
      return call;
    },
    { timeout: 10_000, interval: 25 },
  );
}

/** Secrets seeded for the member, each of which must never appear in an export. */
interface Seeded {
  userId: string;
  /** A member who copies them: their follow's settings are the follower's data, not the provider's. */
  followerId: string;
  secrets: string[];
  otherCommunityId: string;
  otherNotice: string;
}

async function seedMemberData(community: RegisteredCommunity, userId: string): Promise<Seeded> {
  const tenant = forCommunity(db, community.communityId);
  const now = Date.now();
  const totpSecret = `TOTPSECRET${crypto.randomUUID()}`;
  const backupHash = `BACKUPHASH${crypto.randomUUID()}`;
  const sessionId = `SESSIONJTI${crypto.randomUUID()}`;
  const ciphertext = `BROKERCIPHERTEXT${crypto.randomUUID()}`;
  const followed = await upsertUser(db, { discordId: snowflake(), username: "followed" });
  const follower = await upsertUser(db, { discordId: snowflake(), username: "follower" });
  await tenant.memberships.upsert(followed.id, "provider");
  await tenant.memberships.upsert(follower.id, "trader");
  const follow = { sizingMode: null, amount: null, mode: "auto" as const };
  await tenant.follows.upsert({ followerUserId: userId, providerUserId: followed.id, ...follow });
  await tenant.follows.upsert({ followerUserId: follower.id, providerUserId: userId, ...follow });
  await tenant.memberships.upsert(userId, "provider");
  const webhook = await createWebhook(community.communityId, userId);
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO user_mfa (user_id, state, secret_sealed, enabled_at, verified_at) VALUES (?, 'active', ?, ?, ?)",
    ).bind(userId, totpSecret, now, now),
    env.DB.prepare(
      "INSERT INTO mfa_backup_codes (id, user_id, lookup, salt, hash, iterations) VALUES (?, ?, 'abcd', 'salt', ?, 1000)",
    ).bind(crypto.randomUUID(), userId, backupHash),
    env.DB.prepare(
      "INSERT INTO sessions (id, user_id, expires_at, user_agent, ip) VALUES (?, ?, ?, 'Firefox test', '203.0.113.9')",
    ).bind(sessionId, userId, now + 3_600_000),
    env.DB.prepare(
      "INSERT INTO broker_connections (id, community_id, user_id, broker, status, credentials, key_version) VALUES (?, ?, ?, 'alpaca', 'revoked', ?, 1)",
    ).bind(crypto.randomUUID(), community.communityId, userId, ciphertext),
    env.DB.prepare(
      "INSERT INTO member_notices (id, key, community_id, user_id, kind, title, body, created_at) VALUES (?, ?, ?, ?, 'fills', 'Fill', 'Bought 5 AAPL here', ?)",
    ).bind(crypto.randomUUID(), crypto.randomUUID(), community.communityId, userId, now),
    env.DB.prepare(
      "INSERT INTO billing_customers (id, provider, provider_customer_id, subject, user_id, email) VALUES (?, 'stripe', ?, 'trader', ?, 'trader@example.com')",
    ).bind(crypto.randomUUID(), `cus_${crypto.randomUUID()}`, userId),
    env.DB.prepare(
      "INSERT INTO trader_plan_grants (user_id, plan, until, reason, granted_by) VALUES (?, 'pro', ?, 'Beta tester', 'ops:test')",
    ).bind(userId, now + 30 * 86_400_000),
    // The community's own billing (its host's), which is not the member's.
    env.DB.prepare(
      "INSERT INTO billing_customers (id, provider, provider_customer_id, subject, community_id, email) VALUES (?, 'stripe', ?, 'community', ?, 'host@example.com')",
    ).bind(crypto.randomUUID(), `cus_${crypto.randomUUID()}`, community.communityId),
  ]);
  await seedPaperAccount({ communityId: community.communityId, providerId: "", followerIds: [], tenant }, userId, {
    cash: 99_000,
    positions: [{ symbol: "AAPL", quantity: 5, averageCost: 200, lastPrice: 201 }],
    day: null,
  });
  // The same member in another community: none of it may reach this community's export.
  const other = await newCommunity({ name: "Other community" });
  await other.tenant.memberships.upsert(userId, "trader");
  await other.tenant.follows.upsert({ followerUserId: userId, providerUserId: followed.id, ...follow });
  const otherNotice = `Sold 7 TSLA elsewhere ${crypto.randomUUID()}`;
  await env.DB.prepare(
    "INSERT INTO member_notices (id, key, community_id, user_id, kind, title, body, created_at) VALUES (?, ?, ?, ?, 'fills', 'Fill', ?, ?)",
  )
    .bind(crypto.randomUUID(), crypto.randomUUID(), other.communityId, userId, otherNotice, now)
    .run();
  return {
    userId,
    followerId: follower.id,
    secrets: [totpSecret, backupHash, sessionId, ciphertext, webhook.secret, webhook.key],
    otherCommunityId: other.communityId,
    otherNotice,
  };
}

describe("/privacy export", () => {
  it("Scenario: A member exports their data as a private JSON file", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const who = community.provider();
    const seeded = await seedMemberData(community, await knownMember(community, who));
    const payload = privacy(community, who, "export");
    const reply = await interactionResponse(await postInteraction(payload));
    expect(reply).toMatchObject({ type: 5, data: { flags: EPHEMERAL } });

    const edit = await discord.editOf(payload, 10_000);
    expect(String(edit.body.content)).toContain("follows in a file only you can see");
    const call = await fileFollowUp(discord, payload.token);
    expect(call.body.flags).toBe(EPHEMERAL);
    const [file] = call.files;
    expect(file?.field).toBe("files[0]");
    expect(file?.contentType).toBe("application/json");
    expect(call.body.attachments).toEqual([{ id: 0, filename: file?.filename }]);

    const text = file?.text ?? "";
    const exported = JSON.parse(text);
    expect(exported).toMatchObject({
      format: "discord-trade-executor/privacy-export",
      version: 1,
      community: { id: community.communityId, discordGuildId: community.at.guildId },
      user: { id: seeded.userId, discordId: who.id },
      membership: { isOwner: false },
      mfa: { state: "active", unusedBackupCodes: 1 },
      traderPlan: { plan: "free", complimentary: { plan: "pro", reason: "Beta tester" } },
    });
    expect(exported.follows.asFollower).toHaveLength(1);
    expect(exported.follows.asProvider).toHaveLength(1);
    expect(exported.signalWebhooks).toHaveLength(1);
    expect(exported.brokerConnections).toMatchObject([{ broker: "alpaca", status: "revoked" }]);
    expect(exported.paperAccount.positions).toMatchObject([{ symbol: "AAPL", quantity: 5 }]);
    expect(exported.sessions).toMatchObject([{ userAgent: "Firefox test", ip: "203.0.113.9" }]);
    expect(exported.notices).toMatchObject([{ body: "Bought 5 AAPL here" }]);
    expect(exported.traderBilling.customers).toEqual([
      { provider: "stripe", email: "trader@example.com", createdAt: expect.any(Number) },
    ]);
    expect(text).not.toContain("host@example.com");
    // Never a secret, a credential or a key.
    for (const secret of seeded.secrets) expect(text).not.toContain(secret);
    for (const field of ["secretSealed", "keyHash", "sealedSecret", "credentials", '"hash"']) {
      expect(text).not.toContain(field);
    }
    expect(text).not.toContain(seeded.followerId);
    // Nothing from the other community.
    expect(text).not.toContain(seeded.otherCommunityId);
    expect(text).not.toContain(seeded.otherNotice);

    const audited = await env.DB.prepare(
      "SELECT actor_id, target FROM audit_log WHERE community_id = ? AND event = 'privacy.exported'",
    )
      .bind(community.communityId)
      .all<{ actor_id: string; target: string }>();
    expect(audited.results).toEqual([{ actor_id: seeded.userId, target: seeded.userId }]);
  });

  it("Scenario: A large export arrives as numbered files, one follow-up each", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const who = member();
    const userId = await knownMember(community, who);
    // Random text does not compress: 300 notices of it are more than one queue message carries.
    const bodies = Array.from(
      { length: 300 },
      (_, i) => `${i}: ${Array.from({ length: 12 }, () => crypto.randomUUID()).join(" ")}`,
    );
    await env.DB.batch(
      bodies.map((body, i) =>
        env.DB.prepare(
          "INSERT INTO member_notices (id, key, community_id, user_id, kind, title, body, created_at) VALUES (?, ?, ?, ?, 'fills', 'Fill', ?, ?)",
        ).bind(
          crypto.randomUUID(),
          crypto.randomUUID(),
          community.communityId,
          userId,
          body,
          Date.now() - 1_000_000 + i,
        ),
      ),
    );
    const payload = privacy(community, who, "export");
    await interactionResponse(await postInteraction(payload));
    const edit = String((await discord.editOf(payload, 10_000)).body.content);
    const total = Number(/follows in (\d+) files only you can see/.exec(edit)?.[1]);
    expect(total, edit).toBeGreaterThan(1);

    const url = `${WEBHOOKS}${encodeURIComponent(payload.token)}`;
    const calls = await vi.waitFor(
      () => {
        const withFiles = discord.calls.filter((c) => c.url === url && c.method === "POST" && c.files.length > 0);
        if (withFiles.length < total) throw new Error(`${withFiles.length} of ${total} files so far`);
        return withFiles;
      },
      { timeout: 15_000, interval: 50 },
    );
    expect(calls).toHaveLength(total);
    const parts = calls
      .map((call) => {
        expect(call.body.flags).toBe(EPHEMERAL);
        expect(call.files).toHaveLength(1);
        return { name: call.files[0]?.filename ?? "", json: JSON.parse(call.files[0]?.text ?? "null") };
      })
      .sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
    expect(parts.map((part) => part.name.replace(/^.*-part-/, ""))).toEqual(
      parts.map((_, i) => `${i + 1}-of-${total}.json`),
    );
    const [first, ...rest] = parts.map((part) => part.json);
    expect(first.notices).toEqual([]);
    expect(first.parts.lists.notices.count).toBe(300);
    const notices = rest
      .filter((part) => part.section === "notices")
      .sort((a, b) => a.from - b.from)
      .flatMap((part) => part.items);
    expect(notices.map((notice: { body: string }) => notice.body)).toEqual(bodies);
  });

  it("Scenario: A second export within five minutes is refused", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const who = member();
    await knownMember(community, who);
    const first = privacy(community, who, "export");
    await interactionResponse(await postInteraction(first));
    await fileFollowUp(discord, first.token);
    const second = privacy(community, who, "export");
    await interactionResponse(await postInteraction(second));
    const edit = await discord.editOf(second, 10_000);
    expect(String(edit.body.content)).toContain("one every 5 minutes");
    expect(discord.calls.filter((c) => c.files.length > 0)).toHaveLength(1);
  });
});

describe("file follow-ups", () => {
  it("Scenario: A follow-up with a file is sent as multipart form data", async () => {
    const discord = fakeDiscordApi();
    const token = `tok-${crypto.randomUUID()}`;
    const target = { id: snowflake(), applicationId: TEST_VARS.DISCORD_APPLICATION_ID, token };
    const packed = await packJsonAttachment("report.json", { hello: "world", n: 1 });
    if (!packed.ok) throw new Error("a tiny file must pack");
    const send = vi.spyOn(env.NOTIFY_QUEUE, "send").mockResolvedValue(undefined as never);
    await followUp(
      env,
      target,
      { content: "📎 report.json", flags: EPHEMERAL },
      {
        purpose: "report",
        attachment: packed.attachment,
      },
    );
    const queued = send.mock.calls[0]?.[0];
    send.mockRestore();
    const { result, ids } = await runBatch("notifications", [queued]);
    expect(result.explicitAcks).toEqual(ids);
    const [call] = discord.calls;
    expect(call?.url).toBe(`${WEBHOOKS}${token}`);
    expect(call?.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(call?.body).toEqual({
      content: "📎 report.json",
      flags: EPHEMERAL,
      attachments: [{ id: 0, filename: "report.json" }],
    });
    expect(call?.files).toHaveLength(1);
    expect(call?.files[0]).toMatchObject({
      field: "files[0]",
      filename: "report.json",
      contentType: "application/json",
    });
    expect(JSON.parse(call?.files[0]?.text ?? "")).toEqual({ hello: "world", n: 1 });
    expect(editKey(target)).toContain(target.id);
  });
});

/** The buttons' custom ids under a message, by label. */
function buttonsOf(message: { components?: unknown }): Record<string, string> {
  const rows = (message.components ?? []) as { components?: { label: string; custom_id: string }[] }[];
  return Object.fromEntries(rows.flatMap((row) => row.components ?? []).map((b) => [b.label, b.custom_id]));
}

/** Runs /privacy delete and answers the deferral's edit (text and buttons), through a `fakeDiscordApi()`. */
async function askToDelete(
  discord: ReturnType<typeof fakeDiscordApi>,
  community: RegisteredCommunity,
  who: TestMember,
) {
  const payload = privacy(community, who, "delete");
  const reply = await interactionResponse(await postInteraction(payload));
  expect(reply).toMatchObject({ type: 5, data: { flags: EPHEMERAL } });
  const edit = await discord.editOf(payload, 10_000);
  return { content: String(edit.body.content), buttons: buttonsOf(edit.body) };
}

/** Presses a button; answers the immediate reply and, for a deferred update, the edit that follows. */
async function press(
  discord: ReturnType<typeof fakeDiscordApi>,
  community: RegisteredCommunity,
  who: TestMember,
  customId: string,
) {
  const payload = buttonPress(customId, { at: community.at, who });
  const reply = await interactionResponse(await postInteraction(payload));
  if (reply.type !== 6) return { reply, edit: null };
  const edit = await discord.editOf(payload, 10_000);
  return { reply, edit: String(edit.body.content) };
}

async function membershipOf(communityId: string, userId: string) {
  return env.DB.prepare("SELECT role FROM memberships WHERE community_id = ? AND user_id = ?")
    .bind(communityId, userId)
    .first<{ role: string }>();
}

async function countOf(query: string, ...bindings: unknown[]): Promise<number> {
  const row = await env.DB.prepare(query)
    .bind(...bindings)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function paperAccountStored(communityId: string, userId: string): Promise<boolean> {
  return runInDurableObject(executorOf(communityId), async (_instance, state) => {
    return state.storage.sql.exec("select 1 from paper_accounts where user_id = ?", userId).toArray().length > 0;
  });
}

describe("/privacy delete", () => {
  it("Scenario: Deleting asks first, and only that member can answer", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const who = member();
    const userId = await knownMember(community, who);
    const asked = await askToDelete(discord, community, who);
    expect(asked.content).toContain("Delete your data in this community?");
    expect(Object.keys(asked.buttons)).toEqual(["Delete my data", "Cancel"]);

    const stranger = member();
    await knownMember(community, stranger);
    const refused = await press(discord, community, stranger, asked.buttons["Delete my data"] ?? "");
    expect(refused.reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(refused.reply.data?.content).toContain("Only the member who asked");
    const kept = await press(discord, community, who, asked.buttons.Cancel ?? "");
    expect(kept.reply).toMatchObject({ type: 7, data: { content: "Canceled: nothing was deleted.", components: [] } });
    expect(await membershipOf(community.communityId, userId)).toEqual({ role: "trader" });
  });

  it("Scenario: Deletion is refused while positions, orders, a live broker or ownership remain", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const who = member();
    const userId = await knownMember(community, who);
    const tenant = forCommunity(db, community.communityId);
    await seedPaperAccount({ communityId: community.communityId, providerId: "", followerIds: [], tenant }, userId, {
      cash: 99_000,
      positions: [{ symbol: "AAPL", quantity: 5, averageCost: 200, lastPrice: 201 }],
      day: null,
    });
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO orders (id, community_id, user_id, account_ref, broker, client_order_id, symbol, asset_class, intent,
          side, order_type, quantity, status) VALUES (?, ?, ?, 'paper', 'paper', ?, 'MSFT', 'equity', '{}', 'buy', 'limit', 1, 'submitted')`,
      ).bind(crypto.randomUUID(), community.communityId, userId, crypto.randomUUID()),
      env.DB.prepare(
        "INSERT INTO broker_connections (id, community_id, user_id, broker, status) VALUES (?, ?, ?, 'alpaca', 'active')",
      ).bind(crypto.randomUUID(), community.communityId, userId),
    ]);
    const asked = await askToDelete(discord, community, who);
    expect(asked.content).toContain("Nothing was deleted.");
    expect(asked.content).toContain("open positions here (AAPL)");
    expect(asked.content).toContain("`/close symbol:all`");
    expect(asked.content).toContain("1 order still working");
    expect(asked.content).toContain("live broker connection here (alpaca)");
    expect(asked.buttons).toEqual({});

    const owner = await askToDelete(discord, community, community.owner);
    expect(owner.content).toContain("You own this community");
    expect(owner.buttons).toEqual({});
    expect(await membershipOf(community.communityId, userId)).toEqual({ role: "trader" });
  });

  it("Scenario: A confirmed deletion removes the member's data here and keeps the records", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const who = community.provider();
    const userId = await knownMember(community, who);
    const seeded = await seedMemberData(community, userId);
    // The seeded paper position is closed: nothing is open any more.
    const tenant = forCommunity(db, community.communityId);
    await seedPaperAccount({ communityId: community.communityId, providerId: "", followerIds: [], tenant }, userId, {
      cash: 100_500,
      realizedPnl: 500,
      day: null,
    });
    const orderId = crypto.randomUUID();
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO orders (id, community_id, user_id, account_ref, broker, client_order_id, symbol, asset_class, intent,
          side, order_type, quantity, status, filled_quantity) VALUES (?, ?, ?, 'paper', 'paper', ?, 'AAPL', 'equity', '{}', 'buy', 'market', 5, 'filled', 5)`,
      ).bind(orderId, community.communityId, userId, crypto.randomUUID()),
      env.DB.prepare(
        "INSERT INTO fills (id, community_id, order_id, user_id, execution_id, quantity, price, filled_at) VALUES (?, ?, ?, ?, 'x1', 5, 200, ?)",
      ).bind(crypto.randomUUID(), community.communityId, orderId, userId, Date.now()),
      env.DB.prepare("INSERT INTO user_guilds (user_id, guild_id, refreshed_at) VALUES (?, ?, ?)").bind(
        userId,
        community.at.guildId,
        Date.now(),
      ),
    ]);

    const asked = await askToDelete(discord, community, who);
    const { reply, edit } = await press(discord, community, who, asked.buttons["Delete my data"] ?? "");
    expect(reply.type).toBe(6);
    expect(edit).toContain("Your data in this community is deleted. 1 member no longer copies your signals.");
    expect(edit).toContain("**Kept:** your orders, fills and positions");

    const here = community.communityId;
    expect(await membershipOf(here, userId)).toBeNull();
    expect(
      await countOf(
        "SELECT count(*) AS n FROM follows WHERE community_id = ? AND (follower_user_id = ? OR provider_user_id = ?)",
        here,
        userId,
        userId,
      ),
    ).toBe(0);
    expect(
      await countOf("SELECT count(*) AS n FROM risk_profiles WHERE community_id = ? AND user_id = ?", here, userId),
    ).toBe(0);
    expect(
      await countOf(
        "SELECT count(*) AS n FROM broker_connections WHERE community_id = ? AND user_id = ?",
        here,
        userId,
      ),
    ).toBe(0);
    expect(
      await countOf("SELECT count(*) AS n FROM member_notices WHERE community_id = ? AND user_id = ?", here, userId),
    ).toBe(0);
    expect(
      await countOf(
        "SELECT count(*) AS n FROM user_guilds WHERE user_id = ? AND guild_id = ?",
        userId,
        community.at.guildId,
      ),
    ).toBe(0);
    expect(
      await countOf(
        "SELECT count(*) AS n FROM signal_webhooks WHERE community_id = ? AND provider_user_id = ? AND revoked_at IS NULL",
        here,
        userId,
      ),
    ).toBe(0);
    expect(await paperAccountStored(here, userId)).toBe(false);
    // Kept: the financial records, the audit log (which records the deletion).
    expect(await countOf("SELECT count(*) AS n FROM orders WHERE community_id = ? AND user_id = ?", here, userId)).toBe(
      1,
    );
    expect(await countOf("SELECT count(*) AS n FROM fills WHERE community_id = ? AND user_id = ?", here, userId)).toBe(
      1,
    );
    expect(
      await countOf(
        "SELECT count(*) AS n FROM audit_log WHERE community_id = ? AND event = 'privacy.deleted' AND actor_id = ? AND target = ?",
        here,
        userId,
        userId,
      ),
    ).toBe(1);
    const verified = await forCommunity(db, here).audit.verify();
    expect(verified.ok).toBe(true);
    // The other community is untouched.
    expect(await membershipOf(seeded.otherCommunityId, userId)).toEqual({ role: "trader" });
    expect(
      await countOf(
        "SELECT count(*) AS n FROM follows WHERE community_id = ? AND follower_user_id = ?",
        seeded.otherCommunityId,
        userId,
      ),
    ).toBe(1);
    expect(
      await countOf(
        "SELECT count(*) AS n FROM member_notices WHERE community_id = ? AND user_id = ?",
        seeded.otherCommunityId,
        userId,
      ),
    ).toBe(1);
  });

  it("Scenario: A confirmation pressed again, replayed or expired does nothing new", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const who = member();
    const userId = await knownMember(community, who);
    const asked = await askToDelete(discord, community, who);
    const confirm = asked.buttons["Delete my data"] ?? "";
    const first = buttonPress(confirm, { at: community.at, who });
    expect((await interactionResponse(await postInteraction(first))).type).toBe(6);
    expect(String((await discord.editOf(first, 10_000)).body.content)).toContain("is deleted");

    // The same interaction delivered again, then the same button pressed again.
    const replayed = await interactionResponse(await postInteraction(first));
    expect(replayed.data?.content).toContain("already received");
    const again = await press(discord, community, who, confirm);
    expect(again.edit).toBe("Your data in this community was already deleted: nothing more was done.");
    expect(await membershipOf(community.communityId, userId)).toBeNull();

    // A member again (any command), with a confirmation issued before the deletion: nothing new happens.
    await knownMember(community, who);
    const late = await press(discord, community, who, confirm);
    expect(late.edit).toBe("Your data in this community was already deleted: nothing more was done.");
    expect(await membershipOf(community.communityId, userId)).toEqual({ role: "trader" });
    expect(
      await countOf(
        "SELECT count(*) AS n FROM audit_log WHERE community_id = ? AND event = 'privacy.deleted'",
        community.communityId,
      ),
    ).toBe(1);

    const expired = await signComponentId(
      TEST_VARS.SESSION_SECRET,
      { kind: "privacy", action: "delete", id: userId },
      { nowMs: Date.now() - 10 * 60_000 },
    );
    const stale = await press(discord, community, who, expired);
    expect(stale.reply.data?.content).toContain("This button has expired, so nothing was done.");
    expect(await membershipOf(community.communityId, userId)).toEqual({ role: "trader" });
  });
});
