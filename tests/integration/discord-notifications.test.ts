import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../platform/db/client";
import { upsertUser } from "../../platform/db/users";
import { directMessage, directMessageKey, editOriginal, followUp } from "../../platform/notifications/notify-queue";
import type { Notification } from "../../shared/notifications/message";
import { backoffSeconds } from "../../workers/queues/notifications";
import { snowflake } from "../support/discord";
import { runBatch } from "../support/queues";
import { TEST_VARS } from "../support/test-vars";

const API = "https://discord.com/api/v10";
const APP = TEST_VARS.DISCORD_APPLICATION_ID;

afterEach(() => {
  vi.restoreAllMocks();
});

/** Discord's answers, in order; later calls get the last one. */
function fakeDiscord(...answers: (() => Response)[]) {
  let call = 0;
  return vi.spyOn(globalThis, "fetch").mockImplementation(async () => {
    const answer = answers[Math.min(call, answers.length - 1)];
    call++;
    if (!answer) throw new Error("no fake answer");
    return answer();
  });
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

/** A message object as Discord returns it from webhook and channel endpoints. */
const discordMessage = (content: string) =>
  json(200, {
    id: snowflake(),
    type: 0,
    content,
    channel_id: snowflake(),
    author: { id: APP, username: "Trade Executor", bot: true },
    attachments: [],
    embeds: [],
    mentions: [],
    mention_roles: [],
    pinned: false,
    mention_everyone: false,
    tts: false,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    flags: 0,
    components: [],
  });

function edit(overrides: Partial<Extract<Notification, { kind: "interaction.edit" }>> = {}): Notification {
  return {
    kind: "interaction.edit",
    key: `test:${crypto.randomUUID()}`,
    communityId: null,
    applicationId: APP,
    token: `tok-${crypto.randomUUID()}`,
    message: { content: "✅ accepted: 3 followers → 3 orders queued", flags: 64, allowed_mentions: { parse: [] } },
    ...overrides,
  } as Notification;
}

function requestOf(spy: ReturnType<typeof fakeDiscord>, index: number) {
  const [input, init] = spy.mock.calls[index] ?? [];
  return {
    url: String(input),
    method: init?.method,
    headers: Object.fromEntries(new Headers(init?.headers).entries()),
    body: JSON.parse(String(init?.body)) as Record<string, unknown>,
  };
}

describe("notifications consumer", () => {
  it("Scenario: A deferred reply is edited through the interaction webhook", async () => {
    const spy = fakeDiscord(discordMessage("✅ accepted"));
    const message = edit();
    const { result, ids } = await runBatch("notifications", [message]);
    expect(result.explicitAcks).toEqual(ids);
    expect(spy).toHaveBeenCalledTimes(1);
    const sent = requestOf(spy, 0);
    expect(sent.url).toBe(`${API}/webhooks/${APP}/${(message as { token: string }).token}/messages/@original`);
    expect(sent.method).toBe("PATCH");
    expect(sent.headers["content-type"]).toBe("application/json");
    expect(sent.headers["user-agent"]).toMatch(/^DiscordBot \(.+, [\d.]+\)$/);
    expect(sent.headers.authorization).toBeUndefined();
    // EPHEMERAL cannot be set by an edit: it is left out.
    expect(sent.body).toEqual({
      content: "✅ accepted: 3 followers → 3 orders queued",
      allowed_mentions: { parse: [] },
    });
  });

  it("Scenario: A follow-up is posted to the interaction webhook", async () => {
    const spy = fakeDiscord(discordMessage("filled"));
    const token = `tok-${crypto.randomUUID()}`;
    const message = {
      kind: "interaction.followup",
      key: `test:${crypto.randomUUID()}`,
      communityId: null,
      applicationId: APP,
      token,
      message: { content: "Your order filled at 190.40", flags: 64 },
    } satisfies Notification;
    const { result, ids } = await runBatch("notifications", [message]);
    expect(result.explicitAcks).toEqual(ids);
    const sent = requestOf(spy, 0);
    expect(sent.url).toBe(`${API}/webhooks/${APP}/${token}`);
    expect(sent.method).toBe("POST");
    expect(sent.body).toEqual({ content: "Your order filled at 190.40", flags: 64 });
  });

  it("Scenario: A direct message opens a DM channel and posts with the bot token", async () => {
    const dmChannel = snowflake();
    const spy = fakeDiscord(
      json(200, { id: dmChannel, type: 1, last_message_id: null, flags: 0, recipients: [{ id: "1", username: "x" }] }),
      discordMessage("Your order filled"),
    );
    const recipient = snowflake();
    const message = {
      kind: "dm",
      key: `dm:fill:${crypto.randomUUID()}`,
      communityId: "c-1",
      discordUserId: recipient,
      message: { content: "Your order filled", flags: 64 },
    } satisfies Notification;
    const { result, ids } = await runBatch("notifications", [message]);
    expect(result.explicitAcks).toEqual(ids);
    expect(spy).toHaveBeenCalledTimes(2);
    const open = requestOf(spy, 0);
    expect(open).toMatchObject({
      url: `${API}/users/@me/channels`,
      method: "POST",
      body: { recipient_id: recipient },
    });
    expect(open.headers.authorization).toBe(`Bot ${TEST_VARS.DISCORD_BOT_TOKEN}`);
    const post = requestOf(spy, 1);
    expect(post.url).toBe(`${API}/channels/${dmChannel}/messages`);
    expect(post.method).toBe("POST");
    expect(post.headers.authorization).toBe(`Bot ${TEST_VARS.DISCORD_BOT_TOKEN}`);
    expect(post.body).toEqual({
      content: "Your order filled",
      nonce: expect.stringMatching(/^[0-9a-f]{25}$/),
      enforce_nonce: true,
    });
  });

  it("Scenario: The bot reacts to a channel message, and takes its reaction back", async () => {
    const spy = fakeDiscord(() => new Response(null, { status: 204 }));
    const [channelId, messageId] = [snowflake(), snowflake()];
    const add = { channelId, messageId, emoji: "✅", remove: false };
    const reactions = [
      { kind: "reaction", key: `test:${crypto.randomUUID()}`, communityId: "c-1", ...add },
      { kind: "reaction", key: `test:${crypto.randomUUID()}`, communityId: "c-1", ...add, emoji: "⚠️", remove: true },
    ] satisfies Notification[];
    const { result, ids } = await runBatch("notifications", reactions);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    const calls = spy.mock.calls.map(([input, init]) => ({
      url: String(input),
      method: init?.method,
      body: init?.body,
      authorization: new Headers(init?.headers).get("authorization"),
    }));
    expect(calls).toEqual(
      expect.arrayContaining([
        {
          url: `${API}/channels/${channelId}/messages/${messageId}/reactions/${encodeURIComponent("✅")}/@me`,
          method: "PUT",
          body: undefined,
          authorization: `Bot ${TEST_VARS.DISCORD_BOT_TOKEN}`,
        },
        {
          url: `${API}/channels/${channelId}/messages/${messageId}/reactions/${encodeURIComponent("⚠️")}/@me`,
          method: "DELETE",
          body: undefined,
          authorization: `Bot ${TEST_VARS.DISCORD_BOT_TOKEN}`,
        },
      ]),
    );
  });

  it("Scenario: A reply points at the channel message and pings nobody it mentions", async () => {
    const spy = fakeDiscord(discordMessage("⚠️ Not executed"));
    const [channelId, messageId] = [snowflake(), snowflake()];
    const message = {
      kind: "channel.reply",
      key: `test:${crypto.randomUUID()}`,
      communityId: "c-1",
      channelId,
      replyTo: messageId,
      message: { content: "⚠️ Not executed: <@&1> the signal is 300 s old" },
    } satisfies Notification;
    const { result, ids } = await runBatch("notifications", [message]);
    expect(result.explicitAcks).toEqual(ids);
    const sent = requestOf(spy, 0);
    expect(sent).toMatchObject({ url: `${API}/channels/${channelId}/messages`, method: "POST" });
    expect(sent.headers.authorization).toBe(`Bot ${TEST_VARS.DISCORD_BOT_TOKEN}`);
    expect(sent.body).toEqual({
      content: "⚠️ Not executed: <@&1> the signal is 300 s old",
      allowed_mentions: { parse: [], replied_user: true },
      message_reference: { message_id: messageId, fail_if_not_exists: false },
      nonce: expect.stringMatching(/^[0-9a-f]{25}$/),
      enforce_nonce: true,
    });
  });

  it("Scenario: A rate-limited notification waits for Discord's retry_after", async () => {
    const spy = fakeDiscord(
      json(
        429,
        { message: "You are being rate limited.", retry_after: 2.5, global: false },
        { "retry-after": "3", "x-ratelimit-scope": "user", "x-ratelimit-bucket": "abcd" },
      ),
    );
    const { result, ids, delays } = await runBatch("notifications", [edit()]);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(ids);
    expect(delays).toEqual([3]);
  });

  it("Scenario: A global rate limit holds back the rest of the batch", async () => {
    const spy = fakeDiscord(
      json(
        429,
        { message: "You are being rate limited.", retry_after: 7.2, global: true },
        { "x-ratelimit-global": "true", "x-ratelimit-scope": "global" },
      ),
    );
    const { result, ids, delays } = await runBatch("notifications", [edit(), edit(), edit()]);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(ids);
    expect(delays).toEqual([8, 8, 8]);
  });

  it("Scenario: A Discord server error is retried with backoff", async () => {
    const spy = fakeDiscord(json(502, { message: "Bad Gateway", code: 0 }));
    const { result, ids, delays } = await runBatch("notifications", [edit()], { attempts: 3 });
    expect(spy).toHaveBeenCalledTimes(1);
    const delay = delays[0] ?? 0;
    expect(result.retryMessages[0]?.msgId).toBe(ids[0]);
    expect(delay).toBeGreaterThanOrEqual(4);
    expect(delay).toBeLessThanOrEqual(5);
    expect(backoffSeconds(1, 0)).toBe(1);
    expect(backoffSeconds(4, 0)).toBe(8);
    expect(backoffSeconds(30, 0)).toBe(120);
  });

  it("Scenario: A notification is sent once per idempotency key", async () => {
    const spy = fakeDiscord(discordMessage("once"));
    const message = edit();
    const first = await runBatch("notifications", [message, message]);
    expect(first.result.explicitAcks.sort()).toEqual([...first.ids].sort());
    const again = await runBatch("notifications", [message]);
    expect(again.result.explicitAcks).toEqual(again.ids);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it("Scenario: A refusal that a retry cannot fix is dropped", async () => {
    const spy = fakeDiscord(json(404, { message: "Unknown Webhook", code: 10015 }));
    const { result, ids } = await runBatch("notifications", [edit()]);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
  });

  it("Scenario: A notification still failing after the last try is dead-lettered", async () => {
    fakeDiscord(json(503, { message: "Service Unavailable" }));
    const key = `test:dlq:${crypto.randomUUID()}`;
    await env.NOTIFY_QUEUE.send(edit({ key }), { contentType: "json" });
    await vi.waitFor(
      async () => {
        const row = await env.DB.prepare("SELECT queue, body, attempts, last_error FROM dead_letters WHERE body LIKE ?")
          .bind(`%${key}%`)
          .first<{ queue: string; attempts: number; last_error: string | null }>();
        expect(row?.queue).toBe("notifications");
        // The real attempt count and Discord's answer, not the dead-letter queue's reset count of 1.
        expect(row?.attempts).toBeGreaterThan(1);
        expect(row?.last_error).toMatch(/503/);
      },
      { timeout: 15_000, interval: 200 },
    );
  }, 20_000);

  it("producers validate messages and derive keys from the interaction", async () => {
    const send = vi.spyOn(env.NOTIFY_QUEUE, "send").mockResolvedValue(undefined as never);
    const target = { id: snowflake(), applicationId: APP, token: "tok" };
    await editOriginal(env, target, { content: "done" });
    await followUp(env, target, { content: "more" }, { purpose: "fill" });
    expect(send.mock.calls.map(([body]) => (body as Notification).key)).toEqual([
      `interaction:${target.id}:edit:result`,
      `interaction:${target.id}:followup:fill`,
    ]);
  });

  it("Scenario: Every direct message goes through one sender with one key scheme", async () => {
    const send = vi.spyOn(env.NOTIFY_QUEUE, "send").mockResolvedValue(undefined as never);
    const db = database(env.DB);
    const member = await upsertUser(db, { discordId: snowflake() });
    const long = "x".repeat(2500);
    expect(
      await directMessage(env, { userId: member.id, communityId: null, event: "billing:inv_1", message: "hi" }),
    ).toBe(true);
    await directMessage(env, { userId: member.id, communityId: "c-1", event: "order:o-1:fill:2", message: long });
    const sent = send.mock.calls.map(([body]) => body as Extract<Notification, { kind: "dm" }>);
    expect(sent.map((dm) => dm.key)).toEqual([
      `dm:-:${member.id}:billing:inv_1`,
      `dm:c-1:${member.id}:order:o-1:fill:2`,
    ]);
    expect(sent[0]).toMatchObject({
      kind: "dm",
      discordUserId: member.discordId,
      message: { content: "hi", allowed_mentions: { parse: [] } },
    });
    expect(sent[1]?.message.content).toHaveLength(2000);
    expect(directMessageKey({ communityId: "c", userId: "u", event: "e".repeat(300) })).toHaveLength(200);

    // Nobody on record: nothing is queued. A Discord id that is not one is refused, not sent.
    expect(await directMessage(env, { userId: crypto.randomUUID(), communityId: null, event: "x", message: "x" })).toBe(
      false,
    );
    const odd = await upsertUser(db, { discordId: "not-a-snowflake" });
    await expect(directMessage(env, { userId: odd.id, communityId: null, event: "k", message: "x" })).rejects.toThrow();
    expect(send).toHaveBeenCalledTimes(2);
  });
});
