import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import type { MembershipRole } from "../../shared/db/schema";
import {
  admin,
  EPHEMERAL,
  fakeDiscordApi,
  guild,
  interactionResponse,
  MEMBER_PERMISSIONS,
  member,
  OPTION,
  postInteraction,
  privateAnswer,
  resolvedUser,
  setUpCommunity,
  slash,
  snowflake,
} from "../support/discord";

afterEach(() => {
  vi.restoreAllMocks();
});

const countRows = async (sql: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...params)
      .first<{ n: number }>()
  )?.n ?? 0;

const auditEvents = async (communityId: string) =>
  (
    await env.DB.prepare("SELECT event FROM audit_log WHERE community_id = ? ORDER BY seq")
      .bind(communityId)
      .all<{ event: string }>()
  ).results.map((r) => r.event);

describe("/setup", () => {
  it("Scenario: The first admin to run /setup registers the server and becomes its owner", async () => {
    const community = await setUpCommunity();
    const row = await env.DB.prepare("SELECT owner_user_id, settings FROM communities WHERE id = ?")
      .bind(community.communityId)
      .first<{ owner_user_id: string; settings: string }>();
    const owner = await env.DB.prepare("SELECT id FROM users WHERE discord_id = ?")
      .bind(community.owner.id)
      .first<{ id: string }>();
    expect(row?.owner_user_id).toBe(owner?.id);
    expect(JSON.parse(row?.settings ?? "{}")).toEqual({
      providerRoleIds: [community.providerRoleId],
      signalChannelIds: [community.signalChannelId],
      unparsedMessages: "ignore",
      accessRoleId: null,
      accessRoleName: null,
    });
    const membership = await env.DB.prepare("SELECT role FROM memberships WHERE community_id = ? AND user_id = ?")
      .bind(community.communityId, owner?.id)
      .first<{ role: string }>();
    expect(membership?.role).toBe("owner");
    expect(await auditEvents(community.communityId)).toEqual([
      "community.created",
      "community.role_changed",
      "community.settings_changed",
    ]);
  });

  it("Scenario: Running /setup again with the same options changes nothing", async () => {
    const community = await setUpCommunity();
    const before = await auditEvents(community.communityId);
    const again = await interactionResponse(
      await postInteraction(
        slash(
          "setup",
          [
            { name: "provider_role", type: OPTION.ROLE, value: community.providerRoleId },
            { name: "signal_channel", type: OPTION.CHANNEL, value: community.signalChannelId },
          ],
          { at: community.at, who: community.owner },
        ),
      ),
    );
    expect(again).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(again.data?.content).toMatch(/^Setup is unchanged/);
    expect(await auditEvents(community.communityId)).toEqual(before);
    expect(await countRows("SELECT count(*) AS n FROM communities WHERE guild_id = ?", community.at.guildId)).toBe(1);
  });

  it("Scenario: /setup provider names a provider", async () => {
    const community = await setUpCommunity();
    const named = member();
    const reply = await interactionResponse(
      await postInteraction(
        slash("setup", [{ name: "provider", type: OPTION.USER, value: named.id }], {
          at: community.at,
          who: community.owner,
          resolved: resolvedUser(named),
        }),
      ),
    );
    expect(reply.data?.content).toContain(`Named provider: <@${named.id}>`);
    expect(
      await countRows(
        "SELECT count(*) AS n FROM signal_providers sp JOIN users u ON u.id = sp.user_id WHERE sp.community_id = ? AND u.discord_id = ?",
        community.communityId,
        named.id,
      ),
    ).toBe(1);
    expect(await auditEvents(community.communityId)).toContain("community.provider_named");
  });

  it("Scenario: /setup unparsed_messages chooses how unparsed messages are answered", async () => {
    const community = await setUpCommunity();
    const setting = async (value: string) =>
      interactionResponse(
        await postInteraction(
          slash("setup", [{ name: "unparsed_messages", type: OPTION.STRING, value }], {
            at: community.at,
            who: community.owner,
          }),
        ),
      );
    const stored = async () =>
      JSON.parse(
        (
          await env.DB.prepare("SELECT settings FROM communities WHERE id = ?")
            .bind(community.communityId)
            .first<{ settings: string }>()
        )?.settings ?? "{}",
      ).unparsedMessages;
    expect(await stored()).toBe("ignore");
    const reply = await setting("reply");
    expect(reply.data?.content).toMatch(/^✅ Setup updated/);
    expect(reply.data?.content).toContain("answered with ⚠️ and the reason");
    expect(await stored()).toBe("reply");
    expect((await setting("reply")).data?.content).toMatch(/^Setup is unchanged/);
    expect((await setting("ignore")).data?.content).toContain("ignored (`unparsed_messages:reply` answers it)");
    expect(await stored()).toBe("ignore");
    expect((await auditEvents(community.communityId)).filter((e) => e === "community.settings_changed")).toHaveLength(
      3,
    );
    const invalid = await setting("shout");
    expect(invalid.data?.content).toContain("unparsed_messages");
    expect(await stored()).toBe("ignore");
  });

  it("Scenario: A member without admin rights cannot run /setup", async () => {
    const at = guild();
    const reply = await interactionResponse(await postInteraction(slash("setup", [], { at, who: member() })));
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toMatch(/Only server admins/);
    expect(await countRows("SELECT count(*) AS n FROM communities WHERE guild_id = ?", at.guildId)).toBe(0);
  });

  it("Scenario: A command from a server that has not run /setup gets a guide", async () => {
    const at = guild();
    const who = admin();
    const reply = await privateAnswer(
      slash("signal", [{ name: "text", type: OPTION.STRING, value: "BUY AAPL 10 @ 190" }], { at, who }),
    );
    expect(reply).toMatchObject({ type: 5, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toMatch(/not set up yet.*\/setup/s);
    expect(await countRows("SELECT count(*) AS n FROM communities WHERE guild_id = ?", at.guildId)).toBe(0);
    expect(await countRows("SELECT count(*) AS n FROM users WHERE discord_id = ?", who.id)).toBe(0);
  });
});

/** A Discord member whose stored role in the community is `role` (granted beforehand, as a role change would). */
async function memberWithStoredRole(communityId: string, role: MembershipRole) {
  const who = member();
  const user = await upsertUser(database(env.DB), { discordId: who.id, username: who.username });
  await forCommunity(database(env.DB), communityId).memberships.upsert(user.id, role);
  return { who, user };
}

describe("admin rights follow Discord", () => {
  const text = (value: string) => [{ name: "text", type: OPTION.STRING, value }];
  const haltedOf = async (communityId: string) =>
    (await env.DB.prepare("SELECT halted FROM communities WHERE id = ?").bind(communityId).first<{ halted: number }>())
      ?.halted;

  it("Scenario: An admin who loses Manage Server in Discord loses admin rights", async () => {
    const community = await setUpCommunity();
    // A second admin registers too, then both lose Manage Server in Discord.
    const second = admin();
    await interactionResponse(await postInteraction(slash("setup", [], { at: community.at, who: second })));
    for (const who of [second].map((m) => ({ ...m, permissions: MEMBER_PERMISSIONS }))) {
      const halt = await interactionResponse(
        await postInteraction(
          slash("killswitch", [{ name: "action", type: OPTION.STRING, value: "halt" }], { at: community.at, who }),
        ),
      );
      expect(halt.data?.content).toMatch(/^Only server admins.*owner can do this/);
      const setup = await interactionResponse(
        await postInteraction(
          slash("setup", [{ name: "provider_role", type: OPTION.ROLE, value: snowflake() }], { at: community.at, who }),
        ),
      );
      expect(setup.data?.content).toMatch(/^Only server admins/);
      const signal = await privateAnswer(slash("signal", text("BUY 2 NVDA MKT"), { at: community.at, who }));
      expect(signal.data?.content).toMatch(/^Only signal providers/);
      const subscription = await interactionResponse(
        await postInteraction(slash("subscription", [], { at: community.at, who })),
      );
      expect(subscription.data?.content).toContain("Your trader plan");
      expect(subscription.data?.content).not.toContain("Community plan");
    }
    expect(await haltedOf(community.communityId)).toBe(0);
    expect(await countRows("SELECT count(*) AS n FROM signals WHERE community_id = ?", community.communityId)).toBe(0);
    const settings = await env.DB.prepare("SELECT settings FROM communities WHERE id = ?")
      .bind(community.communityId)
      .first<{ settings: string }>();
    expect(JSON.parse(settings?.settings ?? "{}").providerRoleIds).toEqual([community.providerRoleId]);

    // The owner who registered the server keeps the owner's rights: ownership is a stored role, moved by transfer.
    const discord = fakeDiscordApi();
    const ownerHalt = slash("killswitch", [{ name: "action", type: OPTION.STRING, value: "halt" }], {
      at: community.at,
      who: { ...community.owner, permissions: MEMBER_PERMISSIONS },
    });
    expect(await interactionResponse(await postInteraction(ownerHalt))).toEqual({ type: 5 });
    await discord.editOf(ownerHalt);
    expect(await haltedOf(community.communityId)).toBe(1);
  });

  it("Scenario: A moderator runs /setup but not /killswitch", async () => {
    const community = await setUpCommunity();
    const { who: moderator } = await memberWithStoredRole(community.communityId, "moderator");
    const named = member();
    const setup = await interactionResponse(
      await postInteraction(
        slash("setup", [{ name: "provider", type: OPTION.USER, value: named.id }], {
          at: community.at,
          who: moderator,
          resolved: resolvedUser(named),
        }),
      ),
    );
    expect(setup.data?.content).toContain(`Named provider: <@${named.id}>`);
    const halt = await interactionResponse(
      await postInteraction(
        slash("killswitch", [{ name: "action", type: OPTION.STRING, value: "halt" }], {
          at: community.at,
          who: moderator,
        }),
      ),
    );
    expect(halt.data?.content).toMatch(/^Only server admins/);
    expect(await haltedOf(community.communityId)).toBe(0);
  });

  it("Scenario: A viewer cannot follow in Discord", async () => {
    const community = await setUpCommunity();
    const { who: viewer, user } = await memberWithStoredRole(community.communityId, "viewer");
    const provider = community.provider();
    const reply = await interactionResponse(
      await postInteraction(
        slash("follow", [{ name: "provider", type: OPTION.USER, value: provider.id }], {
          at: community.at,
          who: viewer,
          resolved: resolvedUser(provider),
        }),
      ),
    );
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toContain("viewer");
    expect(await countRows("SELECT count(*) AS n FROM follows WHERE follower_user_id = ?", user.id)).toBe(0);
  });

  it("Scenario: Manage Server alone makes a member an admin", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const manager = member({ permissions: String(0x20n) });
    const halt = slash("killswitch", [{ name: "action", type: OPTION.STRING, value: "halt" }], {
      at: community.at,
      who: manager,
    });
    expect(await interactionResponse(await postInteraction(halt))).toEqual({ type: 5 });
    await discord.editOf(halt);
    expect(await haltedOf(community.communityId)).toBe(1);
    // Running /setup records nothing about them: the right came from Discord and leaves with it.
    await interactionResponse(await postInteraction(slash("setup", [], { at: community.at, who: manager })));
    const role = await env.DB.prepare(
      "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.community_id = ? AND u.discord_id = ?",
    )
      .bind(community.communityId, manager.id)
      .first<{ role: string }>();
    expect(role?.role).toBe("trader");
  });

  it("Scenario: /setup remove_provider un-names a provider", async () => {
    const community = await setUpCommunity();
    const named = member();
    await interactionResponse(
      await postInteraction(
        slash("setup", [{ name: "provider", type: OPTION.USER, value: named.id }], {
          at: community.at,
          who: community.owner,
          resolved: resolvedUser(named),
        }),
      ),
    );
    const before = await privateAnswer(slash("signal", text("gm everyone"), { at: community.at, who: named }));
    expect(before.data?.content).toMatch(/^⚠️ Not posted: this did not read as a signal/);

    const removed = await interactionResponse(
      await postInteraction(
        slash("setup", [{ name: "remove_provider", type: OPTION.USER, value: named.id }], {
          at: community.at,
          who: community.owner,
          resolved: resolvedUser(named),
        }),
      ),
    );
    expect(removed.data?.content).toContain(`Removed provider: <@${named.id}>`);
    const after = await privateAnswer(slash("signal", text("BUY 2 NVDA MKT"), { at: community.at, who: named }));
    expect(after.data?.content).toMatch(/^Only signal providers/);
    expect(
      await countRows(
        "SELECT count(*) AS n FROM signal_providers sp JOIN users u ON u.id = sp.user_id WHERE sp.community_id = ? AND u.discord_id = ?",
        community.communityId,
        named.id,
      ),
    ).toBe(0);
    expect(await auditEvents(community.communityId)).toContain("community.provider_removed");

    // Removing again changes nothing; removing someone never named says so.
    const again = await interactionResponse(
      await postInteraction(
        slash("setup", [{ name: "remove_provider", type: OPTION.USER, value: named.id }], {
          at: community.at,
          who: community.owner,
        }),
      ),
    );
    expect(again.data?.content).toMatch(/^Setup is unchanged/);
  });

  it("Scenario: /setup remove_provider demotes a member granted the provider role", async () => {
    const community = await setUpCommunity();
    const granted = member();
    const db = database(env.DB);
    const user = await upsertUser(db, { discordId: granted.id, username: granted.username });
    await forCommunity(db, community.communityId).memberships.upsert(user.id, "provider", { actorId: "u-test" });
    const before = await privateAnswer(slash("signal", text("gm everyone"), { at: community.at, who: granted }));
    expect(before.data?.content).toMatch(/^⚠️ Not posted: this did not read as a signal/);

    await interactionResponse(
      await postInteraction(
        slash("setup", [{ name: "remove_provider", type: OPTION.USER, value: granted.id }], {
          at: community.at,
          who: community.owner,
        }),
      ),
    );
    expect((await forCommunity(db, community.communityId).memberships.get(user.id))?.role).toBe("trader");
    const after = await privateAnswer(slash("signal", text("BUY 2 NVDA MKT"), { at: community.at, who: granted }));
    expect(after.data?.content).toMatch(/^Only signal providers/);
  });

  it("Scenario: /setup remove_provider_role and remove_signal_channel undo the settings", async () => {
    const community = await setUpCommunity();
    const reply = await interactionResponse(
      await postInteraction(
        slash(
          "setup",
          [
            { name: "remove_provider_role", type: OPTION.ROLE, value: community.providerRoleId },
            { name: "remove_signal_channel", type: OPTION.CHANNEL, value: community.signalChannelId },
          ],
          { at: community.at, who: community.owner },
        ),
      ),
    );
    expect(reply.data?.content).toMatch(/^✅ Setup updated/);
    expect(reply.data?.content).toContain("Provider roles: none");
    const row = await env.DB.prepare("SELECT settings FROM communities WHERE id = ?")
      .bind(community.communityId)
      .first<{ settings: string }>();
    expect(JSON.parse(row?.settings ?? "{}")).toEqual({
      providerRoleIds: [],
      signalChannelIds: [],
      unparsedMessages: "ignore",
      accessRoleId: null,
      accessRoleName: null,
    });
    const signal = await privateAnswer(
      slash("signal", text("BUY 2 NVDA MKT"), { at: community.at, who: community.provider() }),
    );
    expect(signal.data?.content).toMatch(/^Only signal providers/);
    expect((await auditEvents(community.communityId)).filter((e) => e === "community.settings_changed")).toHaveLength(
      2,
    );
  });
});

describe("dispatch", () => {
  it("Scenario: An unknown command gets an ephemeral answer with the request id", async () => {
    const community = await setUpCommunity();
    const res = await postInteraction(slash("moonshot", [], { at: community.at, who: member() }));
    const requestId = res.headers.get("x-request-id");
    const reply = await interactionResponse(res);
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toContain("Unknown command `moonshot`");
    expect(reply.data?.content).toContain(`request id \`${requestId}\``);
  });

  it("Scenario: A handler failure is an ephemeral answer with the request id, never a 5xx", async () => {
    const community = await setUpCommunity();
    vi.spyOn(env.DB, "prepare").mockImplementation(() => {
      throw new Error("D1_ERROR: database unavailable");
    });
    const res = await postInteraction(slash("portfolio", [], { at: community.at, who: member() }));
    const requestId = res.headers.get("x-request-id");
    const reply = await interactionResponse(res);
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toBe(
      `This command could not be completed. Quote request id \`${requestId}\` if you report it.`,
    );
  });

  it("Scenario: Options of the wrong type are answered precisely and write nothing", async () => {
    const community = await setUpCommunity();
    const who = member();
    const provider = community.provider();
    const reply = await interactionResponse(
      await postInteraction(
        slash(
          "follow",
          [
            { name: "provider", type: OPTION.USER, value: provider.id },
            { name: "amount", type: OPTION.STRING, value: "lots" },
          ],
          { at: community.at, who, resolved: resolvedUser(provider) },
        ),
      ),
    );
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toBe("Nothing was done:\n• Option `amount` must be a number.");
    expect(await countRows("SELECT count(*) AS n FROM users WHERE discord_id = ?", who.id)).toBe(0);
    expect(await countRows("SELECT count(*) AS n FROM follows WHERE community_id = ?", community.communityId)).toBe(0);
  });

  it("Scenario: An interaction outside a server is refused", async () => {
    const payload = slash("help", [], { at: guild(), who: member() });
    const { guild_id: _g, member: m, ...direct } = payload;
    const reply = await interactionResponse(await postInteraction({ ...direct, user: m.user, context: 1 }));
    expect(reply).toMatchObject({
      type: 4,
      data: { flags: EPHEMERAL, content: "This app works inside a server, not in direct messages." },
    });
  });
});

describe("/killswitch", () => {
  it("Scenario: /killswitch halts trading, audits it and tells the executor", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const payload = slash(
      "killswitch",
      [
        { name: "action", type: OPTION.STRING, value: "halt" },
        { name: "reason", type: OPTION.STRING, value: "broker outage" },
      ],
      { at: community.at, who: community.owner },
    );
    const reply = await interactionResponse(await postInteraction(payload));
    expect(reply).toEqual({ type: 5 });
    const edit = await discord.editOf(payload);
    expect(edit.body.content).toBe(
      `🛑 Trading is halted by <@${community.owner.id}>: broker outage\nCopying is paused for everyone: no signal or \`/trade\` places a new order. Stops, take-profits and exits already in place keep working.`,
    );
    const row = await env.DB.prepare("SELECT halted, halted_reason FROM communities WHERE id = ?")
      .bind(community.communityId)
      .first<{ halted: number; halted_reason: string }>();
    expect(row).toEqual({ halted: 1, halted_reason: "broker outage" });
    expect((await auditEvents(community.communityId)).filter((e) => e === "community.halted")).toHaveLength(1);

    const resume = slash("killswitch", [{ name: "action", type: OPTION.STRING, value: "resume" }], {
      at: community.at,
      who: community.owner,
    });
    await postInteraction(resume);
    expect((await discord.editOf(resume)).body.content).toBe(
      `▶️ Trading is resumed by <@${community.owner.id}>.\nCopying resumes with the next signal.`,
    );
  });

  it("Scenario: A replayed signed /killswitch halt does nothing", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const halt = slash("killswitch", [{ name: "action", type: OPTION.STRING, value: "halt" }], {
      at: community.at,
      who: community.owner,
    });
    expect(await interactionResponse(await postInteraction(halt))).toEqual({ type: 5 });
    await discord.editOf(halt);
    const resume = slash("killswitch", [{ name: "action", type: OPTION.STRING, value: "resume" }], {
      at: community.at,
      who: community.owner,
    });
    await interactionResponse(await postInteraction(resume));
    await discord.editOf(resume);

    // The captured halt, re-sent within Discord's 5-minute window with a valid signature.
    const replayed = await interactionResponse(await postInteraction(halt));
    expect(replayed).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(replayed.data?.content).toMatch(/already received/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const row = await env.DB.prepare("SELECT halted FROM communities WHERE id = ?")
      .bind(community.communityId)
      .first<{ halted: number }>();
    expect(row?.halted).toBe(0);
    expect((await auditEvents(community.communityId)).filter((e) => e === "community.halted")).toHaveLength(1);
    expect(discord.calls.filter((c) => c.url.includes(encodeURIComponent(halt.token)))).toHaveLength(1);
  });

  it("Scenario: A member without admin rights cannot use /killswitch", async () => {
    const community = await setUpCommunity();
    const reply = await interactionResponse(
      await postInteraction(
        slash("killswitch", [{ name: "action", type: OPTION.STRING, value: "halt" }], {
          at: community.at,
          who: community.provider(),
        }),
      ),
    );
    expect(reply.data?.content).toMatch(/Only server admins/);
    const row = await env.DB.prepare("SELECT halted FROM communities WHERE id = ?")
      .bind(community.communityId)
      .first<{ halted: number }>();
    expect(row?.halted).toBe(0);
  });
});
