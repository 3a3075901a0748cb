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
    expect(reply).toEqual({ type: 5 });

    const edit = await discord.editOf(payload);
    expect(edit.body.content).toBe(
      `📣 Signal from <@${provider.id}>: BUY $AAPL QTY 10 @ 190.5 SL 185 TP 195\n✅ accepted: 2 followers → 2 orders queued`,
    );
    expect(edit.body.flags).toBeUndefined();
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

  it("Scenario: A signal runs through the community's real executor", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const payload = slash("signal", signalText("BUY AAPL 10 @ 190.50 SL 185 TP 195"), {
      at: community.at,
      who: community.provider(),
    });
    expect(await interactionResponse(await postInteraction(payload))).toEqual({ type: 5 });
    const edit = await discord.editOf(payload);
    expect(edit.body.content).toMatch(/\n✅ accepted: 0 followers → 0 orders queued$/);
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
      expect(await interactionResponse(await postInteraction(payload))).toEqual({ type: 5 });
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
    const enqueued = vi.spyOn(env.NOTIFY_QUEUE, "send");
    // Caught by the interaction id before the signal intake runs: answered at once, nothing deferred.
    expect(await interactionResponse(await postInteraction(payload))).toMatchObject({
      type: 4,
      data: { flags: EPHEMERAL, content: "This interaction was already received, so nothing was done again." },
    });
    expect(await signalRows(community.communityId)).toHaveLength(1);
    expect(submit).toHaveBeenCalledTimes(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(enqueued).not.toHaveBeenCalled();
    expect(discord.calls.filter((c) => c.method === "PATCH" && c.url.includes(payload.token))).toHaveLength(1);
  });

  it("Scenario: A signal that does not parse gets its errors and nothing is stored", async () => {
    const community = await setUpCommunity();
    const reply = await interactionResponse(
      await postInteraction(
        slash("signal", signalText("BUY AAPL 10 @ 190 SL 195"), { at: community.at, who: community.provider() }),
      ),
    );
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toBe(
      [
        "⚠️ Not posted: this did not read as a signal, so nothing was stored or sent.",
        "• A long stop must be below the entry (190).",
        "The words at fault are highlighted below; **Edit & resend** opens your text to fix it.",
      ].join("\n"),
    );
    const chat = await interactionResponse(
      await postInteraction(
        slash("signal", signalText("gm everyone, great day"), { at: community.at, who: community.provider() }),
      ),
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
    const reply = await interactionResponse(
      await postInteraction(slash("signal", signalText("BUY AAPL 10 @ 190"), { at: community.at, who })),
    );
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
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
    expect(await interactionResponse(res)).toEqual({ type: 5 });
    const edit = await discord.editOf(payload);
    expect(edit.body.content).toMatch(
      /⚠️ Stored \(signal `[0-9a-f-]{36}`\) but not executed: Signal execution \(CommunityExecutor\.submitSignal\) is not implemented yet\. Quote request id `/,
    );
    expect(edit.body.content).toContain(requestId);
    const [row] = await signalRows(community.communityId);
    expect(row).toMatchObject({ status: "failed", status_reason: expect.stringContaining("not implemented") });
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
    expect(await interactionResponse(await postInteraction(payload))).toEqual({ type: 5 });
    expect((await discord.editOf(payload)).body.content).toContain("✅ accepted: 3 followers → 3 orders queued");
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
