import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  EPHEMERAL,
  fakeDiscordApi,
  interactionResponse,
  member,
  modalSubmit,
  OPTION,
  postInteraction,
  pressButton,
  type RegisteredCommunity,
  resolvedUser,
  setUpCommunity,
  slash,
  type TestMember,
} from "../support/discord";
import { enrolMfa, mfaCall, nextStepCode } from "../support/mfa";
import { sessionFor } from "../support/realtime";
import { setCommunityRiskDefaults } from "../support/risk-defaults";
import { TEST_VARS } from "../support/test-vars";

afterEach(() => {
  vi.restoreAllMocks();
});

/** A member's trading mode here (no risk profile yet: paper, where every member starts). */
const tradingModeOf = async (communityId: string, userId: string) =>
  (
    await env.DB.prepare("SELECT trading_mode FROM risk_profiles WHERE community_id = ? AND user_id = ?")
      .bind(communityId, userId)
      .first<{ trading_mode: string }>()
  )?.trading_mode ?? "paper";

const userIdOf = async (discordId: string) =>
  (await env.DB.prepare("SELECT id FROM users WHERE discord_id = ?").bind(discordId).first<{ id: string }>())?.id;

const followsOf = async (communityId: string, followerDiscordId: string) =>
  (
    await env.DB.prepare(
      `SELECT u.discord_id AS provider, f.sizing_mode, f.amount, f.mode, f.enabled FROM follows f
       JOIN users u ON u.id = f.provider_user_id
       JOIN users me ON me.id = f.follower_user_id
       WHERE f.community_id = ? AND me.discord_id = ?`,
    )
      .bind(communityId, followerDiscordId)
      .all()
  ).results;

function follow(
  community: RegisteredCommunity,
  who: TestMember,
  provider: TestMember,
  extra: { name: string; type: number; value: string | number }[] = [],
) {
  return postInteraction(
    slash("follow", [{ name: "provider", type: OPTION.USER, value: provider.id }, ...extra], {
      at: community.at,
      who,
      resolved: resolvedUser(provider),
    }),
  );
}

describe("/follow and /unfollow", () => {
  it("Scenario: /follow writes a follow of a provider with its sizing", async () => {
    const community = await setUpCommunity();
    const who = member();
    const provider = community.provider();
    const reply = await interactionResponse(
      await follow(community, who, provider, [
        { name: "sizing", type: OPTION.STRING, value: "risk_percent" },
        { name: "amount", type: OPTION.NUMBER, value: 1.5 },
        { name: "mode", type: OPTION.STRING, value: "confirm" },
      ]),
    );
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toBe(
      [
        `✅ You now follow <@${provider.id}>; you confirm each order first (within 30 s).`,
        "• Copies go into 🧪 PAPER: your paper account, no real money (switch with `/paper mode:live`).",
        "• Each trade: 1.5% of your equity at risk to the stop per trade, cut to fit your limits (`/risk view`).",
        "• Exits: when the provider closes, your copy closes too, without asking (choose `exits:confirm` to be asked).",
      ].join("\n"),
    );
    expect(await followsOf(community.communityId, who.id)).toEqual([
      { provider: provider.id, sizing_mode: "risk_percent", amount: 1.5, mode: "confirm", enabled: 1 },
    ]);
  });

  it("Scenario: /follow without a mode follows the trading mode's default", async () => {
    const community = await setUpCommunity();
    const who = member();
    const provider = community.provider();
    const reply = await interactionResponse(await follow(community, who, provider));
    expect(reply.data?.content?.split("\n")[0]).toBe(
      `✅ You now follow <@${provider.id}>; orders are placed automatically on paper; when you trade live you confirm each one first (within 30 s), unless you choose \`mode:auto\`.`,
    );
    // No choice is stored: the executor resolves it at each signal (auto on paper, confirm live).
    expect(await followsOf(community.communityId, who.id)).toEqual([
      { provider: provider.id, sizing_mode: null, amount: null, mode: null, enabled: 1 },
    ]);
    const auto = await interactionResponse(
      await follow(community, who, provider, [{ name: "mode", type: OPTION.STRING, value: "auto" }]),
    );
    expect(auto.data?.content?.split("\n")[0]).toBe(
      `✅ You now follow <@${provider.id}>; orders are placed automatically, on paper and live. (This replaces your earlier settings for them.)`,
    );
    expect((await followsOf(community.communityId, who.id))[0]).toMatchObject({ mode: "auto" });
  });

  it("Scenario: /follow says which account it copies into and how big a trade will be", async () => {
    const community = await setUpCommunity();
    const who = member();
    const provider = community.provider();
    const reply = await interactionResponse(
      await follow(community, who, provider, [
        { name: "sizing", type: OPTION.STRING, value: "fixed_notional" },
        { name: "amount", type: OPTION.NUMBER, value: 500 },
      ]),
    );
    expect(reply.data?.content?.split("\n").slice(1)).toEqual([
      "• Copies go into 🧪 PAPER: your paper account, no real money (switch with `/paper mode:live`).",
      "• Each trade: $500.00 per trade, cut to fit your limits (`/risk view`).",
      "• Exits: when the provider closes, your copy closes too, without asking (choose `exits:confirm` to be asked).",
    ]);
  });

  it("Scenario: /follow exits:confirm asks before an exit too", async () => {
    const community = await setUpCommunity();
    const who = member();
    const provider = community.provider();
    const reply = await interactionResponse(
      await follow(community, who, provider, [
        { name: "mode", type: OPTION.STRING, value: "confirm" },
        { name: "exits", type: OPTION.STRING, value: "confirm" },
      ]),
    );
    expect(reply.data?.content?.split("\n").at(-1)).toBe(
      "• Exits: you confirm them too; one you do not take leaves you holding the position, with a button to close it.",
    );
    const [stored] = (
      await env.DB.prepare("SELECT exits FROM follows WHERE community_id = ?").bind(community.communityId).all()
    ).results;
    expect(stored).toEqual({ exits: "confirm" });
    const bad = await interactionResponse(
      await follow(community, who, provider, [{ name: "exits", type: OPTION.STRING, value: "sometimes" }]),
    );
    expect(bad.data?.content).toContain("exits");
  });

  it("Scenario: Following a member who is not a provider is refused", async () => {
    const community = await setUpCommunity();
    const who = member();
    const nobody = member();
    const reply = await interactionResponse(await follow(community, who, nobody));
    expect(reply.data?.content).toBe(
      `<@${nobody.id}> is not a signal provider in this server, so there is nothing to follow.`,
    );
    expect(await followsOf(community.communityId, who.id)).toEqual([]);
    expect(await userIdOf(nobody.id)).toBeUndefined();
  });

  it("Scenario: /follow checks that the amount fits the sizing mode", async () => {
    const community = await setUpCommunity();
    const who = member();
    const provider = community.provider();
    const cases = [
      [
        [{ name: "sizing", type: OPTION.STRING, value: "percent_of_equity" }],
        "`sizing:percent_of_equity` needs an `amount` (% of equity per order).",
      ],
      [[{ name: "amount", type: OPTION.NUMBER, value: 3 }], "`amount` needs a `sizing` mode to say what it means."],
      [
        [
          { name: "sizing", type: OPTION.STRING, value: "risk_percent" },
          { name: "amount", type: OPTION.NUMBER, value: 25 },
        ],
        "`amount` for risk_percent must be above 0 and at most 10 (% of equity at risk per trade).",
      ],
    ] as const;
    for (const [options, message] of cases) {
      const reply = await interactionResponse(await follow(community, who, provider, [...options]));
      expect(reply.data?.content).toBe(`Not followed: ${message}`);
    }
    expect(await followsOf(community.communityId, who.id)).toEqual([]);
  });

  it("Scenario: /unfollow removes the follow", async () => {
    const community = await setUpCommunity();
    const who = member();
    const provider = community.provider();
    await follow(community, who, provider);
    const reply = await interactionResponse(
      await postInteraction(
        slash("unfollow", [{ name: "provider", type: OPTION.STRING, value: `<@${provider.id}>` }], {
          at: community.at,
          who,
        }),
      ),
    );
    expect(reply.data?.content).toBe(`You no longer follow <@${provider.id}>.`);
    expect(await followsOf(community.communityId, who.id)).toEqual([]);
    const again = await interactionResponse(
      await postInteraction(
        slash("unfollow", [{ name: "provider", type: OPTION.STRING, value: provider.id }], { at: community.at, who }),
      ),
    );
    expect(again.data?.content).toBe(`You were not following <@${provider.id}>; nothing changed.`);
  });
});

describe("/paper", () => {
  const paper = (community: RegisteredCommunity, who: TestMember, mode: string) =>
    postInteraction(slash("paper", [{ name: "mode", type: OPTION.STRING, value: mode }], { at: community.at, who }));

  it("Scenario: Live trading needs a plan that includes it and a broker connection", async () => {
    const community = await setUpCommunity();
    const who = member();
    await paper(community, who, "paper");
    await env.DB.prepare(
      "INSERT INTO broker_connections (id, community_id, user_id, broker, status, is_paper) VALUES (?, ?, ?, 'alpaca', 'active', 0)",
    )
      .bind(crypto.randomUUID(), community.communityId, await userIdOf(who.id))
      .run();
    const reply = await interactionResponse(await paper(community, who, "live"));
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toMatch(
      /^You stay on paper: Your Free plan is paper trading only; live trading needs a paid trader plan\./,
    );
    const profile = await env.DB.prepare(
      "SELECT trading_mode FROM risk_profiles WHERE community_id = ? AND user_id = ?",
    )
      .bind(community.communityId, await userIdOf(who.id))
      .first();
    expect(profile).toBeNull();
  });

  it("Scenario: A member with a live plan and a broker connection switches to live", async () => {
    const community = await setUpCommunity();
    const who = member();
    await paper(community, who, "paper");
    const userId = await userIdOf(who.id);
    await env.DB.batch([
      env.DB.prepare("INSERT INTO trader_plans (user_id, plan) VALUES (?, 'basic')").bind(userId),
      env.DB.prepare(
        "INSERT INTO broker_connections (id, community_id, user_id, broker, status, is_paper) VALUES (?, ?, ?, 'alpaca', 'active', 0)",
      ).bind(crypto.randomUUID(), community.communityId, userId),
    ]);
    // Live money is a step-up: the member enrols (and so verifies) two-factor authentication first.
    await enrolMfa((await sessionFor(userId ?? "")).cookie);
    const reply = await interactionResponse(await paper(community, who, "live"));
    expect(reply.data?.content).toMatch(/^💵 You are now trading live/);
    expect(reply.data?.content).toContain("Auto-trading is off for live money: you confirm each order within 30 s");
    const profile = await env.DB.prepare(
      "SELECT trading_mode FROM risk_profiles WHERE community_id = ? AND user_id = ?",
    )
      .bind(community.communityId, userId)
      .first();
    expect(profile).toEqual({ trading_mode: "live" });
    const audit = await env.DB.prepare(
      "SELECT data FROM audit_log WHERE community_id = ? AND event = 'risk.trading_mode_changed'",
    )
      .bind(community.communityId)
      .first<{ data: string }>();
    expect(JSON.parse(audit?.data ?? "{}")).toEqual({ from: "paper", to: "live" });
    const back = await interactionResponse(await paper(community, who, "paper"));
    expect(back.data?.content).toBe("📝 You are now paper trading.");
  });

  it("Scenario: Switching to live trading needs two-factor authentication", async () => {
    const community = await setUpCommunity();
    const who = member();
    await paper(community, who, "paper");
    const userId = (await userIdOf(who.id)) ?? "";
    await env.DB.batch([
      env.DB.prepare("INSERT INTO trader_plans (user_id, plan) VALUES (?, 'basic')").bind(userId),
      env.DB.prepare(
        "INSERT INTO broker_connections (id, community_id, user_id, broker, status, is_paper) VALUES (?, ?, ?, 'alpaca', 'active', 0)",
      ).bind(crypto.randomUUID(), community.communityId, userId),
    ]);
    const security = `${TEST_VARS.PUBLIC_BASE_URL}/app/security`;
    // A live broker connection means the member must enrol: the refusal is ephemeral and leads to the security page.
    const unenrolled = await interactionResponse(await paper(community, who, "live"));
    expect(unenrolled.data?.flags).toBe(EPHEMERAL);
    expect(unenrolled.data?.content).toBe(
      `You stay on paper: Switching to live trading needs two-factor authentication, and your role here requires it: set up an authenticator app at ${security}, then try again.`,
    );
    // Enrolled, but the verification is older than 10 minutes: verify again.
    const browser = await sessionFor(userId);
    const { secret } = await enrolMfa(browser.cookie);
    await env.DB.prepare("UPDATE user_mfa SET verified_at = ? WHERE user_id = ?")
      .bind(Date.now() - 11 * 60_000, userId)
      .run();
    const stale = await interactionResponse(await paper(community, who, "live"));
    expect(stale.data?.content).toContain("needs a fresh two-factor check");
    expect(stale.data?.content).toContain(security);
    expect(await tradingModeOf(community.communityId, userId)).toBe("paper");
    // A verification in the browser counts for Discord too.
    expect(
      (await mfaCall(browser.cookie, "POST", "/api/v1/me/mfa/verify", { code: nextStepCode(secret) })).status,
    ).toBe(200);
    const live = await interactionResponse(await paper(community, who, "live"));
    expect(live.data?.content).toMatch(/^💵 You are now trading live/);
    expect(await tradingModeOf(community.communityId, userId)).toBe("live");
  });

  it("Scenario: Every member starts on paper", async () => {
    const community = await setUpCommunity();
    const who = member();
    const reply = await interactionResponse(await paper(community, who, "paper"));
    expect(reply.data?.content).toBe("You are already paper trading; nothing changed.");
    const membership = await env.DB.prepare("SELECT role FROM memberships WHERE community_id = ? AND user_id = ?")
      .bind(community.communityId, await userIdOf(who.id))
      .first();
    expect(membership).toEqual({ role: "trader" });
  });
});

describe("/risk", () => {
  it("Scenario: /risk set opens a modal and its submit saves validated settings", async () => {
    const community = await setUpCommunity();
    const who = member();
    const modal = await interactionResponse(
      await postInteraction(slash("risk", [{ name: "set", type: OPTION.SUB_COMMAND }], { at: community.at, who })),
    );
    expect(modal.type).toBe(9);
    expect(modal.data?.custom_id).toBe("risk:settings");
    expect(modal.data?.components).toHaveLength(5);

    const saved = await interactionResponse(
      await postInteraction(
        modalSubmit(
          "risk:settings",
          {
            maxPositionPercent: "5",
            dailyLossLimitPercent: "3%",
            maxOpenPositions: "2",
            defaultStopPercent: "",
            defaultTakeProfitPercent: "6",
          },
          { at: community.at, who },
        ),
      ),
    );
    expect(saved).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(saved.data?.content).toMatch(
      /^Saved: max position 5%, daily loss limit 3%, max open positions 2, default take-profit 6%\.\n/,
    );
    expect(saved.data?.content).toContain("Max position size: 5% of equity");
    const stored = await env.DB.prepare("SELECT settings FROM risk_profiles WHERE community_id = ? AND user_id = ?")
      .bind(community.communityId, await userIdOf(who.id))
      .first<{ settings: string }>();
    expect(JSON.parse(stored?.settings ?? "{}")).toEqual({
      maxPositionPercent: 5,
      dailyLossLimitPercent: 3,
      maxOpenPositions: 2,
      defaultTakeProfitPercent: 6,
    });

    const view = await interactionResponse(
      await postInteraction(slash("risk", [{ name: "view", type: OPTION.SUB_COMMAND }], { at: community.at, who })),
    );
    expect(view.data?.flags).toBe(EPHEMERAL);
    expect(view.data?.content).toContain("Daily loss limit: 3%");
  });

  it("Scenario: Invalid risk settings are refused and nothing is saved", async () => {
    const community = await setUpCommunity();
    const who = member();
    const reply = await interactionResponse(
      await postInteraction(
        modalSubmit(
          "risk:settings",
          { dailyLossLimitPercent: "50", maxOpenPositions: "two" },
          { at: community.at, who },
        ),
      ),
    );
    expect(reply.data?.content).toBe('Nothing saved:\n• Max open positions: "two" is not a number.');
    const limit = await interactionResponse(
      await postInteraction(modalSubmit("risk:settings", { dailyLossLimitPercent: "50" }, { at: community.at, who })),
    );
    expect(limit.data?.content).toBe("Nothing saved:\n• Daily loss limit must be between 2% and 20%");
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM risk_profiles WHERE community_id = ?")
      .bind(community.communityId)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("Scenario: /risk set says which of the member's settings the server's limits cap", async () => {
    const community = await setUpCommunity();
    const who = member();
    const saved = await interactionResponse(
      await postInteraction(
        modalSubmit("risk:settings", { maxPositionPercent: "50", maxOpenPositions: "2" }, { at: community.at, who }),
      ),
    );
    const lines = saved.data?.content?.split("\n") ?? [];
    expect(lines[0]).toBe("Saved: max position 50% capped to the server's 10%, max open positions 2.");
    expect(saved.data?.content).not.toContain("looser");
    expect(saved.data?.content).not.toContain("✅");
    const view = await interactionResponse(
      await postInteraction(slash("risk", [{ name: "view", type: OPTION.SUB_COMMAND }], { at: community.at, who })),
    );
    expect(view.data?.content).toContain("⚠️ Your max position 50% capped to the server's 10%.");
  });

  it("Scenario: A refused risk form re-opens with what the member typed", async () => {
    const community = await setUpCommunity();
    const who = member();
    const typed = { maxPositionPercent: "5", dailyLossLimitPercent: "50", maxOpenPositions: "two" };
    const refused = await interactionResponse(
      await postInteraction(modalSubmit("risk:settings", typed, { at: community.at, who })),
    );
    expect(refused.data?.content).toBe('Nothing saved:\n• Max open positions: "two" is not a number.');
    expect(refused.data?.embeds).toEqual([
      {
        title: "What you typed",
        fields: [
          { name: "Max position size (% of equity)", value: "5", inline: true },
          { name: "Daily loss limit (% of equity)", value: "50", inline: true },
          { name: "Max open positions", value: "two", inline: true },
          { name: "Default stop-loss (%)", value: "(empty)", inline: true },
          { name: "Default take-profit (%)", value: "(empty)", inline: true },
        ],
      },
    ]);
    const reopened = await pressButton(community, who, refused, "Edit again");
    expect(reopened.type).toBe(9);
    expect(reopened.data?.custom_id).toBe("risk:settings");
    const inputs = (reopened.data?.components ?? []).map(
      (label) =>
        (label as unknown as { component: { custom_id: string; value?: string; max_length: number } }).component,
    );
    expect(inputs.map((i) => [i.custom_id, i.value, i.max_length])).toEqual([
      ["maxPositionPercent", "5", 12],
      ["dailyLossLimitPercent", "50", 12],
      ["maxOpenPositions", "two", 12],
      ["defaultStopPercent", undefined, 12],
      ["defaultTakeProfitPercent", undefined, 12],
    ]);
  });

  it("Scenario: A bad choice for /risk notify is refused", async () => {
    const community = await setUpCommunity();
    const who = member();
    const notify = (skips: string) => riskSubcommand(community, who, "notify", { skips });
    const refused = await interactionResponse(await notify("weekly"));
    expect(refused).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(refused.data?.content).toContain("must be one of each, digest");
    expect(await skipNoticesOf(community.communityId, who.id)).toBeNull();
    const saved = await interactionResponse(await notify("digest"));
    expect(saved.data?.content).toBe(
      "✅ Saved: signals you follow that are not copied are collected into one direct message a day, sent each morning at 02:00 UTC.",
    );
    expect(await skipNoticesOf(community.communityId, who.id)).toBe("digest");
  });

  it("Scenario: /risk hours opts into extended hours where the community allows it", async () => {
    const community = await setUpCommunity();
    const who = member();
    const hours = (session: string) => riskSubcommand(community, who, "hours", { session });
    const extended = await interactionResponse(await hours("extended"));
    expect(extended).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(extended.data?.content).toMatch(/^✅ Saved: you opted into extended hours/);
    expect(await settingsOf(community.communityId, who.id)).toEqual({ regularHoursOnly: false });
    const regular = await interactionResponse(await hours("regular"));
    expect(regular.data?.content).toMatch(/^✅ Saved: equity and option entries are placed during regular hours only/);
    expect(await settingsOf(community.communityId, who.id)).toEqual({ regularHoursOnly: true });

    // A community that trades during regular hours only refuses the opt-in, and nothing is saved.
    await setCommunityRiskDefaults(community.communityId, { regularHoursOnly: true, allowExtendedHours: false });
    const refused = await interactionResponse(await hours("extended"));
    expect(refused.data?.content).toBe(
      "Nothing saved: regularHoursOnly: the community trades during regular hours only.",
    );
    expect(await settingsOf(community.communityId, who.id)).toEqual({ regularHoursOnly: true });
  });

  it("Scenario: /risk unlock lifts a member's own lock, and only an admin unlocks another's", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const locked = member();
    const stranger = member();
    const unlock = (who: TestMember, target?: TestMember) =>
      slash(
        "risk",
        [
          {
            name: "unlock",
            type: OPTION.SUB_COMMAND,
            options: target ? [{ name: "member", type: OPTION.USER, value: target.id }] : [],
          },
        ],
        { at: community.at, who, ...(target ? { resolved: resolvedUser(target) } : {}) },
      );
    // A first command makes the member known; then their circuit breaker locks the account.
    await interactionResponse(
      await postInteraction(
        slash("risk", [{ name: "view", type: OPTION.SUB_COMMAND }], { at: community.at, who: locked }),
      ),
    );
    const lockedId = (await userIdOf(locked.id)) ?? "";
    const executor = env.COMMUNITY_EXECUTOR.get(env.COMMUNITY_EXECUTOR.idFromName(community.communityId));
    await runInDurableObject(executor, async (_instance, state) => {
      state.storage.sql.exec(
        "insert into locks (user_id, day, at, loss_percent) values (?, '2026-01-01', ?, 9)",
        lockedId,
        Date.UTC(2026, 0, 1),
      );
    });
    const view = await interactionResponse(
      await postInteraction(
        slash("risk", [{ name: "view", type: OPTION.SUB_COMMAND }], { at: community.at, who: locked }),
      ),
    );
    expect(view.data?.content).toMatch(
      /^🔒 Your account is locked: your circuit breaker tripped on 2026-01-01 \(down 9%\)/,
    );

    // Another member without admin rights cannot unlock it.
    const refused = await interactionResponse(await postInteraction(unlock(stranger, locked)));
    expect(refused.data?.content).toBe(
      "Only server admins (Manage Server permission) and moderators can unlock another member's account.",
    );

    // The member unlocks their own account.
    const mine = unlock(locked);
    expect(await interactionResponse(await postInteraction(mine))).toEqual({ type: 5, data: { flags: EPHEMERAL } });
    expect((await discord.editOf(mine)).body.content).toBe(
      "🔓 Your account is unlocked: new entries are placed again.",
    );
    const again = unlock(community.owner, locked);
    await postInteraction(again);
    expect((await discord.editOf(again)).body.content).toBe(`<@${locked.id}>'s account is not locked.`);
    const audit = await env.DB.prepare(
      "SELECT actor_id, target FROM audit_log WHERE community_id = ? AND event = 'risk.account_unlocked'",
    )
      .bind(community.communityId)
      .all();
    expect(audit.results).toEqual([{ actor_id: lockedId, target: lockedId }]);
  });
});

/** `/risk <subcommand>` with string options, as the member sends it. */
function riskSubcommand(
  community: RegisteredCommunity,
  who: TestMember,
  subcommand: string,
  options: Record<string, string>,
) {
  return postInteraction(
    slash(
      "risk",
      [
        {
          name: subcommand,
          type: OPTION.SUB_COMMAND,
          options: Object.entries(options).map(([name, value]) => ({ name, type: OPTION.STRING, value })),
        },
      ],
      { at: community.at, who },
    ),
  );
}

const skipNoticesOf = async (communityId: string, discordId: string) => {
  const userId = await userIdOf(discordId);
  if (!userId) return null;
  const row = await env.DB.prepare("SELECT skip_notices FROM risk_profiles WHERE community_id = ? AND user_id = ?")
    .bind(communityId, userId)
    .first<{ skip_notices: string }>();
  return row?.skip_notices ?? null;
};

const settingsOf = async (communityId: string, discordId: string) => {
  const row = await env.DB.prepare("SELECT settings FROM risk_profiles WHERE community_id = ? AND user_id = ?")
    .bind(communityId, await userIdOf(discordId))
    .first<{ settings: string }>();
  return row ? JSON.parse(row.settings) : null;
};
