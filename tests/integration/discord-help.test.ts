import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { registrationPayload } from "../../workers/discord/registration";
import {
  admin,
  EPHEMERAL,
  guild,
  interactionResponse,
  member,
  OPTION,
  postInteraction,
  setUpCommunity,
  slash,
} from "../support/discord";

const MEMBER_SECTION = [
  "**For every member**",
  "• `/trade` — Place a manual order for your own account (you confirm it first)",
  "• `/follow` — Copy a provider's signals into your account",
  "• `/unfollow` — Stop copying a provider",
  "• `/risk` — View or set your risk limits",
  "• `/portfolio` — Your positions and P&L",
  "• `/orders` — Your recent orders",
  "• `/cancel` — Cancel one of your open orders",
  "• `/close` — Close your position in a symbol, or all of them, at market (their open orders canceled)",
  "• `/paper` — Switch between paper and live trading",
  "• `/subscription` — Billing status, checkout and portal links",
  "• `/dashboard` — A single-use sign-in link to your web dashboard",
  "• `/privacy` — Your own data in this community",
  "• `/help` — What this bot can do",
];
const PROVIDER_SECTION = [
  "**For signal providers**",
  "• `/signal` — Post a trade signal to your followers (free text, or the structured options)",
  "• `/webhook` — Your signal webhook for TradingView and other alerts: create, rotate or revoke",
  "• **Execute as signal** (right-click a message › Apps) — post that message as a signal",
];
const ADMIN_SECTION = [
  "**For server admins**",
  "• `/killswitch` — Halt or resume all trading in this community",
  "• `/setup` — Register this server: provider roles, signal channels, access role, named providers, removals",
  "• `/member` — Suspend or unsuspend a member's copy trading here (their positions are untouched)",
];
const COMING_SOON = ["**Coming soon**", "• `/broker` — connect your own brokerage account to trade live"];

const helpOf = async (at: { guildId: string; channelId: string }, who: ReturnType<typeof member>) => {
  const reply = await interactionResponse(await postInteraction(slash("help", [], { at, who })));
  expect(reply.data?.flags).toBe(EPHEMERAL);
  expect(reply.data?.components).toBeUndefined();
  return reply.data?.content ?? "";
};

describe("/help", () => {
  it("Scenario: /help is generated from the registry and the member's role", async () => {
    const community = await setUpCommunity();
    expect(await helpOf(community.at, member())).toBe(
      [
        "**Discord Trade Executor**",
        ...MEMBER_SECTION,
        ...COMING_SOON,
        "Start by following a provider with `/follow`: their signals are copied into your paper account.",
      ].join("\n"),
    );
    expect(await helpOf(community.at, community.provider())).toBe(
      [
        "**Discord Trade Executor**",
        ...MEMBER_SECTION,
        ...PROVIDER_SECTION,
        ...COMING_SOON,
        "Post a signal with `/signal`, or run **Execute as signal** on one of your messages.",
      ].join("\n"),
    );
    const adminHelp = await helpOf(community.at, community.owner);
    expect(adminHelp).toBe(
      [
        "**Discord Trade Executor**",
        ...MEMBER_SECTION,
        ...PROVIDER_SECTION,
        ...ADMIN_SECTION,
        ...COMING_SOON,
        "Post a signal with `/signal`, or run **Execute as signal** on one of your messages.",
      ].join("\n"),
    );
    // Every registered command appears exactly once, and no role is named twice.
    for (const command of registrationPayload()) {
      const label = command.type === 1 ? `\`/${command.name}\`` : `**${command.name}**`;
      expect(adminHelp.split(`• ${label} `).length - 1, label).toBe(1);
    }
    expect(adminHelp).not.toContain("(admins)");
  });

  it("Scenario: /help before setup says who starts", async () => {
    const at = guild();
    expect(await helpOf(at, admin())).toBe(
      [
        "**Discord Trade Executor**",
        ...MEMBER_SECTION,
        ...PROVIDER_SECTION,
        ...ADMIN_SECTION,
        ...COMING_SOON,
        "This server is not set up yet: start with `/setup`.",
      ].join("\n"),
    );
    expect((await helpOf(at, member())).split("\n").at(-1)).toBe(
      "This server is not set up yet: a server admin starts with `/setup`.",
    );
  });
});

describe("features that are not built yet", () => {
  it("Scenario: Coming-soon commands say what they will do and link nowhere", async () => {
    const community = await setUpCommunity();
    const cases = [
      [
        slash("broker", [{ name: "status", type: OPTION.SUB_COMMAND }], { at: community.at, who: member() }),
        "🛠️ `/broker` is coming soon: connect your own brokerage account to trade live. Meanwhile everyone trades on paper, with the same signals, risk limits and fills at market prices.",
      ],
    ] as const;
    for (const [payload, content] of cases) {
      const reply = await interactionResponse(await postInteraction(payload));
      expect(reply).toEqual({ type: 4, data: { content, flags: EPHEMERAL, allowed_mentions: { parse: [] } } });
    }
  });

  it("Scenario: /paper mode:live says live trading is coming soon and offers no plan", async () => {
    const community = await setUpCommunity();
    const who = member();
    const reply = await interactionResponse(
      await postInteraction(
        slash("paper", [{ name: "mode", type: OPTION.STRING, value: "live" }], { at: community.at, who }),
      ),
    );
    expect(reply).toEqual({
      type: 4,
      data: {
        content:
          "You stay on paper: live trading comes with broker connections, which are coming soon. Paper trading copies the same signals with the same risk limits.",
        flags: EPHEMERAL,
        allowed_mentions: { parse: [] },
      },
    });
    const profile = await env.DB.prepare(
      "SELECT trading_mode FROM risk_profiles WHERE community_id = ? AND user_id = (SELECT id FROM users WHERE discord_id = ?)",
    )
      .bind(community.communityId, who.id)
      .first();
    expect(profile).toBeNull();
  });
});
