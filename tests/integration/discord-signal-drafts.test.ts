import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  EPHEMERAL,
  fakeDiscordApi,
  type InteractionReply,
  interactionResponse,
  member,
  messageCommand,
  modalSubmit,
  OPTION,
  postInteraction,
  pressButton,
  privateAnswer,
  setUpCommunity,
  slash,
  snowflake,
} from "../support/discord";

afterEach(() => {
  vi.restoreAllMocks();
});

const signalRows = async (communityId: string) =>
  (
    await env.DB.prepare("SELECT source, source_id, raw_text, channel_id FROM signals WHERE community_id = ?")
      .bind(communityId)
      .all<{ source: string; source_id: string; raw_text: string; channel_id: string }>()
  ).results;

const signalText = (text: string) => [{ name: "text", type: OPTION.STRING, value: text }];

interface ReplyWithEmbeds extends InteractionReply {
  data?: InteractionReply["data"] & { embeds?: { description?: string }[] };
}

const buttonsOf = (reply: InteractionReply) => reply.data?.components?.flatMap((row) => row.components ?? []) ?? [];

interface ModalReply {
  type: number;
  data: {
    custom_id: string;
    title: string;
    components: { type: number; component: { custom_id: string; value?: string; max_length?: number } }[];
  };
}

describe("signals that did not read", () => {
  it("Scenario: An unreadable signal is explained in words with only the offending words highlighted", async () => {
    const community = await setUpCommunity();
    const provider = community.provider();
    const reply = (await privateAnswer(
      slash("signal", signalText("BUY MSFT 5"), { at: community.at, who: provider }),
    )) as ReplyWithEmbeds;
    expect(reply).toMatchObject({ type: 5, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toBe(
      [
        "⚠️ Not posted: this did not read as a signal, so nothing was stored or sent.",
        '• Is 5 the quantity or the price? For a quantity write "BUY MSFT 5 shares"; for a limit price write "BUY MSFT @ 5".',
        "The words at fault are highlighted below; **Edit & resend** opens your text to fix it.",
      ].join("\n"),
    );
    expect(reply.data?.content).not.toContain("AMBIGUOUS_NUMBER");
    expect(reply.data?.embeds).toEqual([{ description: "BUY MSFT __**5**__" }]);
    expect(buttonsOf(reply).map((b) => [b.label, b.custom_id?.split(":").slice(0, 2).join(":")])).toEqual([
      ["Edit & resend", "draft:edit"],
    ]);
    expect(await signalRows(community.communityId)).toEqual([]);
  });

  it("Scenario: Edit & resend opens the text in a modal and the fixed signal is posted", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const provider = community.provider();
    const text = "BUY MSFT 5 *now*";
    const reply = (await privateAnswer(
      slash("signal", signalText(text), { at: community.at, who: provider }),
    )) as ReplyWithEmbeds;
    const opened = (await pressButton(community, provider, reply, "Edit & resend")) as unknown as ModalReply;
    expect(opened).toEqual({
      type: 9,
      data: {
        custom_id: "signal:draft",
        title: "Post a signal",
        components: [
          {
            type: 18,
            label: "Your signal",
            component: {
              type: 4,
              custom_id: "text",
              style: 2,
              required: true,
              value: text,
              placeholder: "BUY AAPL 10 @ 190.50 SL 185 TP 195",
              max_length: 2000,
            },
          },
        ],
      },
    });
    // A member who is not a provider cannot open a draft.
    const stranger = await pressButton(community, member(), reply, "Edit & resend");
    expect(stranger.data?.content).toMatch(/^Only signal providers can do this/);

    const submit = modalSubmit("signal:draft", { text: "BUY MSFT 5 shares" }, { at: community.at, who: provider });
    expect(await interactionResponse(await postInteraction(submit))).toEqual({ type: 5, data: { flags: EPHEMERAL } });
    expect((await discord.editOf(submit)).body.content).toMatch(/^⚠️ Posted: BUY MSFT\. Nobody follows you yet/);
    expect(await signalRows(community.communityId)).toEqual([
      { source: "slash", source_id: submit.id, raw_text: "BUY MSFT 5 shares", channel_id: community.signalChannelId },
    ]);
  });

  it("Scenario: /trade errors speak of the trade", async () => {
    const community = await setUpCommunity();
    const reply = await interactionResponse(
      await postInteraction(
        slash(
          "trade",
          [
            { name: "action", type: OPTION.STRING, value: "buy" },
            { name: "symbol", type: OPTION.STRING, value: "AAPL" },
            { name: "quantity", type: OPTION.NUMBER, value: 10 },
            { name: "price", type: OPTION.NUMBER, value: 190 },
            { name: "stop", type: OPTION.NUMBER, value: 195 },
          ],
          { at: community.at, who: member() },
        ),
      ),
    );
    expect(reply.data?.content).toBe(
      [
        "⚠️ Not placed: this trade has a problem, so nothing was placed.",
        "• `stop`: A long stop must be below the entry (190).",
      ].join("\n"),
    );
    expect(reply.data?.content).not.toMatch(/signal/i);
    expect(reply.data?.components).toBeUndefined();
  });
});

describe("the signal-channel rule and old messages", () => {
  it("Scenario: /signal outside the signal channels is refused like Execute as signal", async () => {
    const community = await setUpCommunity();
    const reply = await privateAnswer(
      slash("signal", signalText("BUY AAPL 10 @ 190"), {
        at: { ...community.at, channelId: snowflake() },
        who: community.provider(),
      }),
    );
    expect(reply).toMatchObject({ type: 5, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toBe(
      `Signals are only taken from this server's signal channels (<#${community.signalChannelId}>); nothing was done.`,
    );
    expect(await signalRows(community.communityId)).toEqual([]);
  });

  it("Scenario: Execute as signal on an old message asks privately to post it now", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const provider = community.provider();
    const content = "BUY AAPL 10 @ 190.50 SL 185 — #1 setup";
    const old = messageCommand(
      { id: snowflake(Date.now() - 125_000), content, author: provider },
      { at: community.at, who: provider },
    );
    const reply = (await interactionResponse(await postInteraction(old))) as ReplyWithEmbeds;
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toBe(
      [
        "This message is 2 min old: post it now as a new signal?",
        "Signals are executed within 60 s of posting, so it was not executed as it is; **Post as new signal** opens its text, ready to send.",
      ].join("\n"),
    );
    expect(reply.data?.embeds).toEqual([{ description: "BUY AAPL 10 @ 190.50 SL 185 — \\#1 setup" }]);
    expect(await signalRows(community.communityId)).toEqual([]);

    const opened = (await pressButton(community, provider, reply, "Post as new signal")) as unknown as ModalReply;
    expect(opened.type).toBe(9);
    expect(opened.data.components[0]?.component).toMatchObject({ custom_id: "text", value: content, max_length: 2000 });

    const submit = modalSubmit("signal:draft", { text: content }, { at: community.at, who: provider });
    expect(await interactionResponse(await postInteraction(submit))).toEqual({ type: 5, data: { flags: EPHEMERAL } });
    expect((await discord.editOf(submit)).body.content).toMatch(/^⚠️ Posted: BUY AAPL\. Nobody follows you yet/);
    expect(await signalRows(community.communityId)).toEqual([
      { source: "slash", source_id: submit.id, raw_text: content, channel_id: community.signalChannelId },
    ]);
  });

  it("Scenario: A draft longer than the modal allows is pre-filled within its max_length", async () => {
    const community = await setUpCommunity();
    const provider = community.provider();
    const content = `BUY AAPL 10 @ 190 ${"note ".repeat(700)}`.trim();
    const reply = (await interactionResponse(
      await postInteraction(
        messageCommand({ id: snowflake(Date.now() - 3 * 3600_000), content }, { at: community.at, who: provider }),
      ),
    )) as ReplyWithEmbeds;
    expect(reply.data?.content?.split("\n")[0]).toBe("This message is 3 h old: post it now as a new signal?");
    const opened = (await pressButton(community, provider, reply, "Post as new signal")) as unknown as ModalReply;
    const input = opened.data.components[0]?.component;
    expect(input?.max_length).toBe(2000);
    expect(input?.value).toBe(content.slice(0, 2000));
  });
});
