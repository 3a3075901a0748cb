import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { acceptedMessage } from "../../shared/execution/summary";
import {
  EPHEMERAL,
  fakeDiscordApi,
  interactionResponse,
  member,
  OPTION,
  postInteraction,
  type RegisteredCommunity,
  setUpCommunity,
  slash,
} from "../support/discord";
import { communityWithFollowers, AAPL_MARKET_BUY as MARKET_BUY, settle, submit } from "../support/execution";

afterEach(() => {
  vi.restoreAllMocks();
});

const halt = (community: RegisteredCommunity, reason?: string) =>
  slash(
    "killswitch",
    [
      { name: "action", type: OPTION.STRING, value: "halt" },
      ...(reason ? [{ name: "reason", type: OPTION.STRING, value: reason }] : []),
    ],
    { at: community.at, who: community.owner },
  );

const haltRow = (communityId: string) =>
  env.DB.prepare("SELECT halted, halted_reason FROM communities WHERE id = ?").bind(communityId).first();

const haltAudits = async (communityId: string) =>
  (
    await env.DB.prepare(
      "SELECT data FROM audit_log WHERE community_id = ? AND event = 'community.halted' ORDER BY seq",
    )
      .bind(communityId)
      .all<{ data: string }>()
  ).results.map((row) => JSON.parse(row.data));

const trade = (community: RegisteredCommunity, who: ReturnType<typeof member>, action: string) =>
  slash(
    "trade",
    [
      { name: "action", type: OPTION.STRING, value: action },
      { name: "symbol", type: OPTION.STRING, value: "AAPL" },
      { name: "quantity", type: OPTION.NUMBER, value: 1 },
    ],
    { at: community.at, who },
  );

describe("also seen", () => {
  it("Scenario: A second halt keeps its new reason", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const first = halt(community, "broker outage");
    await postInteraction(first);
    await discord.editOf(first);
    const second = halt(community, "data feed down");
    await postInteraction(second);
    expect((await discord.editOf(second)).body.content).toBe(
      `🛑 Trading stays halted; <@${community.owner.id}> gave a new reason: data feed down\nCopying is paused for everyone: no signal or \`/trade\` places a new order. Stops, take-profits and exits already in place keep working.`,
    );
    expect(await haltRow(community.communityId)).toEqual({ halted: 1, halted_reason: "data feed down" });
    // A halt without a reason keeps the last one.
    const third = halt(community);
    await postInteraction(third);
    expect((await discord.editOf(third)).body.content).toBe("🛑 Trading was already halted.");
    expect(await haltRow(community.communityId)).toEqual({ halted: 1, halted_reason: "data feed down" });
    expect(await haltAudits(community.communityId)).toEqual([
      { reason: "broker outage" },
      { reason: "data feed down", previousReason: "broker outage" },
    ]);
  });

  it("Scenario: /trade is refused before Confirm while trading is halted", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const stop = halt(community, "broker outage");
    await postInteraction(stop);
    await discord.editOf(stop);
    const who = member();
    const buy = await interactionResponse(await postInteraction(trade(community, who, "buy")));
    expect(buy).toEqual({
      type: 4,
      data: {
        content:
          "🛑 Not placed: trading is halted in this server (broker outage). Buying and shorting wait for an admin's `/killswitch action:resume`; you can still sell or cover what you hold.",
        flags: EPHEMERAL,
        allowed_mentions: { parse: [] },
      },
    });
    const pending = await env.DB.prepare("SELECT count(*) AS n FROM signals WHERE community_id = ?")
      .bind(community.communityId)
      .first<{ n: number }>();
    expect(pending?.n).toBe(0);
    // Reducing a position is never held back by a halt: the sell goes on to the risk engine (here: nothing to sell).
    const sellTrade = trade(community, who, "sell");
    const sell = await interactionResponse(await postInteraction(sellTrade));
    expect(sell).toEqual({ type: 5, data: { flags: EPHEMERAL } });
    expect((await discord.editOf(sellTrade)).body.content).toBe(
      "⚠️ Not placed: SELL $AAPL QTY 1 MKT: You hold no long position in AAPL on your paper account.",
    );
  });

  it("Scenario: A confirm-mode order is reported to the provider as awaiting confirmation", async () => {
    fakeDiscordApi();
    const community = await communityWithFollowers(1, { mode: "confirm" });
    const { summary } = await submit(community, MARKET_BUY);
    expect(summary.message).toBe("accepted: 1 follower → 1 order awaiting confirmation");
    await settle(community);
    expect(
      acceptedMessage({
        followers: 3,
        ordersQueued: 3,
        ordersAwaitingConfirmation: 1,
        ordersReduced: 0,
        skipped: {},
      }),
    ).toBe("accepted: 3 followers → 2 orders queued, 1 order awaiting confirmation");
  });
});
