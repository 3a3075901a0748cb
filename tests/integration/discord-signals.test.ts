import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CommunityExecutor } from "../../durable-objects/community-executor";
import { NotImplementedError } from "../../shared/errors";
import { snowflakeTime } from "../../shared/execution/submit";
import { parseSignal } from "../../shared/signals";
import {
  autocomplete,
  EPHEMERAL,
  fakeDiscordApi,
  interactionResponse,
  member,
  messageCommand,
  OPTION,
  postInteraction,
  privateAnswer,
  setUpCommunity,
  slash,
  snowflake,
} from "../support/discord";

afterEach(() => {
  vi.restoreAllMocks();
});

interface SignalRow {
  id: string;
  provider_user_id: string;
  source: string;
  source_id: string;
  source_timestamp: number;
  channel_id: string | null;
  raw_text: string;
  normalized: string;
  status: string;
  status_reason: string | null;
}

const signalRows = async (communityId: string) =>
  (
    await env.DB.prepare("SELECT * FROM signals WHERE community_id = ? ORDER BY created_at")
      .bind(communityId)
      .all<SignalRow>()
  ).results;

/** The executor as the tests need it: a summary, or the NotImplementedError the stub threw before the engine. */
function executorAnswers(answer: () => unknown) {
  return vi.spyOn(CommunityExecutor.prototype, "submitSignal").mockImplementation(async () => answer() as never);
}

const accepted = (message: string) => ({
  status: "accepted",
  signalId: "s",
  message,
  followers: 2,
  ordersQueued: 2,
  ordersReduced: 0,
  skipped: {},
});

const signalText = (text: string) => [{ name: "text", type: OPTION.STRING, value: text }];

describe("/signal", () => {
  it("Scenario: A provider's /signal is acknowledged at once, stored and handed to the executor", async () => {
    const discord = fakeDiscordApi();
    const submit = executorAnswers(() => accepted("accepted: 2 followers → 2 orders queued"));
    const community = await setUpCommunity();
    const provider = community.provider();
    const payload = slash("signal", signalText("BUY AAPL 10 @ 190.50 SL 185 TP 195"), {
      at: community.at,
      who: provider,
    });

    const reply = await interactionResponse(await postInteraction(payload));
    expect(reply).toEqual({ type: 5, data: { flags: EPHEMERAL } });

    const edit = await discord.editOf(payload);
    expect(edit.body.content).toBe(
      "✅ Posted: BUY AAPL. 2 orders placed for your 2 followers.\nOnly you see these counts.",
    );
    const [row] = await signalRows(community.communityId);
    const providerUser = await env.DB.prepare("SELECT id FROM users WHERE discord_id = ?")
      .bind(provider.id)
      .first<{ id: string }>();
    expect(row).toMatchObject({
      provider_user_id: providerUser?.id,
      source: "slash",
      source_id: payload.id,
      source_timestamp: snowflakeTime(payload.id),
      channel_id: community.at.channelId,
      raw_text: "BUY AAPL 10 @ 190.50 SL 185 TP 195",
      status: "received",
    });
    const expected = parseSignal("BUY AAPL 10 @ 190.50 SL 185 TP 195");
    expect(expected.ok && JSON.parse(row?.normalized ?? "{}")).toEqual(expected.ok && expected.signal);
    expect(submit).toHaveBeenCalledWith({
      signalId: row?.id,
      communityId: community.communityId,
      providerUserId: providerUser?.id,
      signal: JSON.parse(row?.normalized ?? "{}"),
      source: "slash",
      sourceId: payload.id,
      sourceTimestamp: snowflakeTime(payload.id),
      channelId: community.at.channelId,
      interaction: { applicationId: payload.application_id, token: payload.token },
    });
  });

  it("Scenario: /signal is acknowledged before any database read", async () => {
    const community = await setUpCommunity();
    const payload = slash("signal", signalText("BUY AAPL 10 @ 190"), { at: community.at, who: community.provider() });
    vi.spyOn(env.DB, "prepare").mockImplementation(() => {
      throw new Error("D1_ERROR: database unavailable");
    });
    const queued = vi.spyOn(env.NOTIFY_QUEUE, "send");
    const res = await postInteraction(payload);
    const requestId = res.headers.get("x-request-id");
    expect(await interactionResponse(res)).toEqual({ type: 5, data: { flags: EPHEMERAL } });
    const edit = await vi.waitFor(() => {
      const [body] = queued.mock.calls.find(([b]) => (b as { token?: string }).token === payload.token) ?? [];
      if (!body) throw new Error("no edit queued yet");
      return body as { kind: string; message: { content: string } };
    });
    expect(edit.kind).toBe("interaction.edit");
    expect(edit.message.content).toBe(
      `This command could not be completed. Quote request id \`${requestId}\` if you report it.`,
    );
  });

  it("Scenario: A signal runs through the community's real executor", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const payload = slash("signal", signalText("BUY AAPL 10 @ 190.50 SL 185 TP 195"), {
      at: community.at,
      who: community.provider(),
    });
    expect(await interactionResponse(await postInteraction(payload))).toEqual({ type: 5, data: { flags: EPHEMERAL } });
    const edit = await discord.editOf(payload);
    expect(edit.body.content).toBe(
      "⚠️ Posted: BUY AAPL. Nobody follows you yet, so no orders were placed.\nOnly you see these counts.",
    );
    const [row] = await signalRows(community.communityId);
    expect(row?.status).toBe("accepted");
  });

  it("Scenario: Structured options give the same normalized signal as text", async () => {
    const discord = fakeDiscordApi();
    executorAnswers(() => accepted("accepted: 0 followers → 0 orders queued"));
    const community = await setUpCommunity();
    const provider = community.provider();
    const text = slash("signal", signalText("$TSLA long 250-252 stop 245 targets 260, 270"), {
      at: community.at,
      who: provider,
    });
    const structured = slash(
      "signal",
      [
        { name: "action", type: OPTION.STRING, value: "buy" },
        { name: "symbol", type: OPTION.STRING, value: "TSLA" },
        { name: "entry", type: OPTION.STRING, value: "250-252" },
        { name: "stop", type: OPTION.NUMBER, value: 245 },
        { name: "targets", type: OPTION.STRING, value: "260, 270" },
      ],
      { at: community.at, who: provider },
    );
    for (const payload of [text, structured]) {
      expect(await interactionResponse(await postInteraction(payload))).toEqual({
        type: 5,
        data: { flags: EPHEMERAL },
      });
      await discord.editOf(payload);
    }
    const rows = await signalRows(community.communityId);
    expect(rows).toHaveLength(2);
    expect(JSON.parse(rows[1]?.normalized ?? "")).toEqual(JSON.parse(rows[0]?.normalized ?? "-"));
    expect(JSON.parse(rows[0]?.normalized ?? "{}")).toMatchObject({
      action: "buy",
      symbol: "TSLA",
      entry: { low: 250, high: 252 },
      stopLoss: 245,
      takeProfits: [
        { price: 260, percent: null },
        { price: 270, percent: null },
      ],
    });
  });

  it("Scenario: A redelivered /signal stores nothing new", async () => {
    const discord = fakeDiscordApi();
    const submit = executorAnswers(() => accepted("accepted: 1 follower → 1 order queued"));
    const community = await setUpCommunity();
    const payload = slash("signal", signalText("BUY 10 AAPL MKT"), { at: community.at, who: community.provider() });
    await postInteraction(payload);
    await discord.editOf(payload);
    // Caught by the interaction id before the signal intake runs. /signal is acknowledged first, so the replay's
    // refusal is an edit under the same key as the first answer's: Discord keeps the first answer.
    expect(await privateAnswer(payload)).toMatchObject({
      type: 5,
      data: { flags: EPHEMERAL, content: "This interaction was already received, so nothing was done again." },
    });
    expect(await signalRows(community.communityId)).toHaveLength(1);
    expect(submit).toHaveBeenCalledTimes(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(discord.calls.filter((c) => c.method === "PATCH" && c.url.includes(payload.token))).toHaveLength(1);
  });

  it("Scenario: A signal that does not parse gets its errors and nothing is stored", async () => {
    const community = await setUpCommunity();
    const reply = await privateAnswer(
      slash("signal", signalText("BUY AAPL 10 @ 190 SL 195"), { at: community.at, who: community.provider() }),
    );
    expect(reply).toMatchObject({ type: 5, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toBe(
      [
        "⚠️ Not posted: this did not read as a signal, so nothing was stored or sent.",
        "• A long stop must be below the entry (190).",
        "The words at fault are highlighted below; **Edit & resend** opens your text to fix it.",
      ].join("\n"),
    );
    const chat = await privateAnswer(
      slash("signal", signalText("gm everyone, great day"), { at: community.at, who: community.provider() }),
    );
    expect(chat.data?.content).toBe(
      [
        "⚠️ Not posted: this did not read as a signal, so nothing was stored or sent.",
        "• This does not read as a trade signal: no side (buy, sell, short, cover, close) with a symbol.",
        "**Edit & resend** opens your text (below) to fix it.",
      ].join("\n"),
    );
    expect(await signalRows(community.communityId)).toHaveLength(0);
  });

  it("Scenario: A member who is not a provider cannot post /signal", async () => {
    const community = await setUpCommunity();
    const who = member();
    const reply = await privateAnswer(slash("signal", signalText("BUY AAPL 10 @ 190"), { at: community.at, who }));
    expect(reply).toMatchObject({ type: 5, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toMatch(/^Only signal providers can do this/);
    expect(await signalRows(community.communityId)).toHaveLength(0);
    const users = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE discord_id = ?")
      .bind(who.id)
      .first<{ n: number }>();
    expect(users?.n).toBe(0);
  });

  it("Scenario: An executor that cannot take the signal is reported, not faked", async () => {
    const discord = fakeDiscordApi();
    executorAnswers(() => {
      throw new NotImplementedError("Signal execution (CommunityExecutor.submitSignal)");
    });
    const community = await setUpCommunity();
    const payload = slash("signal", signalText("SHORT ETHUSDT 3400 sl 3550 tp 3200"), {
      at: community.at,
      who: community.provider(),
    });
    const res = await postInteraction(payload);
    const requestId = res.headers.get("x-request-id");
    expect(await interactionResponse(res)).toEqual({ type: 5, data: { flags: EPHEMERAL } });
    const edit = await discord.editOf(payload);
    expect(edit.body.content).toMatch(
      /^⚠️ Not posted: SHORT ETH\/USDT\. It was stored but could not be executed: Signal execution \(CommunityExecutor\.submitSignal\) is not implemented yet\. Quote request id `/,
    );
    expect(edit.body.content).toContain(requestId);
    const [row] = await signalRows(community.communityId);
    expect(row).toMatchObject({ status: "failed", status_reason: expect.stringContaining("not implemented") });
  });
});

/** The public follow-ups (POST to the interaction webhook) Discord got for one interaction. */
const followUpsOf = (discord: ReturnType<typeof fakeDiscordApi>, payload: { token: string }) =>
  discord.calls.filter(
    (c) =>
      c.method === "POST" && c.url.includes("/webhooks/") && c.url.endsWith(`/${encodeURIComponent(payload.token)}`),
  );

/** A community whose provider posts `text` with /signal, the executor answering `answer`. */
async function providerPosts(text: string, answer: Parameters<typeof executorAnswers>[0]) {
  const discord = fakeDiscordApi();
  executorAnswers(answer);
  const community = await setUpCommunity();
  const provider = community.provider();
  const payload = slash("signal", signalText(text), { at: community.at, who: provider });
  const response = await interactionResponse(await postInteraction(payload));
  return { discord, community, provider, payload, response };
}

describe("public signal posts, private outcomes", () => {
  it("Scenario: An accepted signal is posted in the channel as an embed", async () => {
    const { discord, provider, payload, response } = await providerPosts("BUY AAPL 10 @ 190.50 SL 185 TP 195", () =>
      accepted("accepted: 2 followers → 2 orders queued"),
    );
    expect(response).toEqual({ type: 5, data: { flags: EPHEMERAL } });
    const edit = await discord.editOf(payload);
    expect(edit.body.content).toBe(
      "✅ Posted: BUY AAPL. 2 orders placed for your 2 followers.\nOnly you see these counts.",
    );
    const post = await vi.waitFor(
      () => {
        const [found] = followUpsOf(discord, payload);
        if (!found) throw new Error("no public follow-up yet");
        return found;
      },
      { timeout: 10_000, interval: 50 },
    );
    // After the provider's private reply, never before it (the first follow-up would become that reply).
    expect(discord.calls.indexOf(post)).toBeGreaterThan(discord.calls.indexOf(edit));
    expect(post.body.flags).toBeUndefined();
    expect(post.body.content).toBeUndefined();
    expect(post.body.allowed_mentions).toEqual({ parse: [] });
    expect(post.body.embeds).toEqual([
      {
        title: "📣 BUY AAPL",
        color: 0x2ecc71,
        fields: [
          { name: "Entry", value: "$190.50 (limit)", inline: true },
          { name: "Provider's size", value: "10", inline: true },
          { name: "Stop-loss", value: "$185.00", inline: true },
          { name: "Targets", value: "1. $195.00" },
          { name: "Provider", value: `<@${provider.id}>`, inline: true },
        ],
        footer: { text: "Copied to followers' accounts within their own limits." },
      },
    ]);
  });

  it("Scenario: Orders waiting for their member's confirmation are said as such", async () => {
    const { discord, payload } = await providerPosts("BUY AAPL 10 @ 190.50", () => ({
      ...accepted("accepted"),
      ordersAwaitingConfirmation: 1,
      ordersReduced: 1,
    }));
    expect((await discord.editOf(payload)).body.content).toBe(
      "✅ Posted: BUY AAPL. 2 orders placed for your 2 followers (1 reduced to fit their limits; 1 awaiting confirmation).\nOnly you see these counts.",
    );
  });

  it("Scenario: A signal that placed no orders warns its provider only", async () => {
    const { discord, payload } = await providerPosts("BUY AAPL 10 @ 190.50", () => ({
      ...accepted("accepted"),
      ordersQueued: 0,
      skipped: { max_open_positions: 1, outside_regular_hours: 1 },
    }));
    expect((await discord.editOf(payload)).body.content).toBe(
      [
        "⚠️ Posted: BUY AAPL. No orders were placed for your 2 followers.",
        "Not copied for 2 followers: max open positions (1), market closed (1). Each was told why.",
        "Only you see these counts.",
      ].join("\n"),
    );
    await vi.waitFor(() => expect(followUpsOf(discord, payload)).toHaveLength(1), { timeout: 10_000 });
    expect(JSON.stringify(followUpsOf(discord, payload)[0]?.body)).not.toMatch(
      /No orders|Not copied|max open positions/,
    );
  });

  it("Scenario: A refused signal is told to its provider only", async () => {
    const { discord, payload } = await providerPosts("SHORT TSLA @ 250", () => ({
      ...accepted("Trading is halted in this community (kill switch); the signal is not executed."),
      status: "refused",
      code: "COMMUNITY_HALTED",
      followers: 0,
      ordersQueued: 0,
    }));
    expect((await discord.editOf(payload)).body.content).toBe(
      "⚠️ Not posted: SHORT TSLA. Trading is halted in this community (kill switch); the signal is not executed.",
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(followUpsOf(discord, payload)).toHaveLength(0);
  });

  it("Scenario: The daily signal limit is told to the owner privately with an upgrade button", async () => {
    const reason =
      "This community's Free plan allows 50 signals a day (UTC), and today's are used up, so nothing was executed.";
    const { discord, community, payload } = await providerPosts("BUY 10 AAPL MKT", () => ({
      ...accepted(reason),
      status: "refused",
      code: "SIGNAL_LIMIT_REACHED",
      followers: 0,
      ordersQueued: 0,
    }));
    expect((await discord.editOf(payload)).body.content).toBe(`⚠️ Not posted: BUY AAPL. ${reason}`);
    const told = await vi.waitFor(
      () => {
        const dm = discord.dms.find((d) => d.recipient === community.owner.id);
        if (!dm) throw new Error("the owner has no DM yet");
        return discord.calls.find((c) => c.body.content === dm.content);
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(told?.body.content).toMatch(/^📈 .* reached its plan's daily signal limit: This community's Free plan/);
    const rows = (told?.body.components ?? []) as { components: { style: number; label: string; url: string }[] }[];
    const [button] = rows[0]?.components ?? [];
    expect(button).toMatchObject({ style: 5, label: "Upgrade to Professional" });
    expect(button?.url).toMatch(/^http:\/\/localhost:8787\/billing\/checkout\?t=/);
    expect(followUpsOf(discord, payload)).toHaveLength(0);
    expect(JSON.stringify(discord.calls.filter((c) => c.url.includes(payload.token)))).not.toContain("checkout");
  });
});

describe("Execute as signal", () => {
  it("Scenario: Execute as signal parses the target message and keys it by the message", async () => {
    const discord = fakeDiscordApi();
    const submit = executorAnswers(() => accepted("accepted: 3 followers → 3 orders queued"));
    const community = await setUpCommunity();
    const provider = community.provider();
    const messageId = snowflake(Date.now() - 20_000);
    const content = "LONG BTC/USDT entry 64000-64500\nSL 62000\nTP1 66000\nTP2 68000\nleverage 5x";
    const payload = messageCommand({ id: messageId, content, author: provider }, { at: community.at, who: provider });
    expect(await interactionResponse(await postInteraction(payload))).toEqual({ type: 5, data: { flags: EPHEMERAL } });
    expect((await discord.editOf(payload)).body.content).toContain(
      "✅ Posted: BUY BTC/USDT. 2 orders placed for your 2 followers.",
    );
    const [row] = await signalRows(community.communityId);
    expect(row).toMatchObject({
      source: "message",
      source_id: messageId,
      source_timestamp: snowflakeTime(messageId),
      channel_id: community.signalChannelId,
      raw_text: content,
    });
    expect(submit.mock.calls[0]?.[0]).toMatchObject({
      source: "message",
      sourceId: messageId,
      sourceTimestamp: snowflakeTime(messageId),
    });

    const again = messageCommand({ id: messageId, content, author: provider }, { at: community.at, who: provider });
    await postInteraction(again);
    expect((await discord.editOf(again)).body.content).toContain("already received");
    expect(await signalRows(community.communityId)).toHaveLength(1);
    expect(submit).toHaveBeenCalledTimes(1);
  });

  it("Scenario: Execute as signal outside the signal channels is refused", async () => {
    const community = await setUpCommunity();
    const provider = community.provider();
    const reply = await interactionResponse(
      await postInteraction(
        messageCommand({ content: "BUY AAPL 10 @ 190", channelId: snowflake() }, { at: community.at, who: provider }),
      ),
    );
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toBe(
      `Signals are only taken from this server's signal channels (<#${community.signalChannelId}>); nothing was done.`,
    );
    expect(await signalRows(community.communityId)).toHaveLength(0);
  });

  it("Scenario: Execute as signal is for providers only", async () => {
    const community = await setUpCommunity();
    const reply = await interactionResponse(
      await postInteraction(messageCommand({ content: "BUY AAPL 10 @ 190" }, { at: community.at, who: member() })),
    );
    expect(reply.data?.content).toMatch(/^Only signal providers can do this/);
    expect(await signalRows(community.communityId)).toHaveLength(0);
  });
});

describe("autocomplete", () => {
  it("Scenario: Autocomplete suggests the community's traded symbols and its providers", async () => {
    const discord = fakeDiscordApi();
    executorAnswers(() => accepted("accepted"));
    const community = await setUpCommunity();
    const provider = community.provider();
    for (const text of ["BUY AAPL 10 @ 190", "BUY AMD 5 @ 150", "BUY MSFT 1 @ 400"]) {
      const payload = slash("signal", signalText(text), { at: community.at, who: provider });
      await postInteraction(payload);
      await discord.editOf(payload);
    }
    const symbols = await interactionResponse(
      await postInteraction(
        autocomplete("trade", [{ name: "symbol", type: OPTION.STRING, value: "a", focused: true }], {
          at: community.at,
          who: member(),
        }),
      ),
    );
    expect(symbols.type).toBe(8);
    expect(symbols.data?.choices?.map((c) => c.value).sort()).toEqual(["AAPL", "AMD"]);

    const providers = await interactionResponse(
      await postInteraction(
        autocomplete("unfollow", [{ name: "provider", type: OPTION.STRING, value: "", focused: true }], {
          at: community.at,
          who: member(),
        }),
      ),
    );
    expect(providers.type).toBe(8);
    expect(providers.data?.choices).toContainEqual({ name: community.owner.username, value: community.owner.id });
  });
});
