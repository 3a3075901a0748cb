import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { signComponentId } from "../../shared/discord/components";
import {
  buttonPress,
  EPHEMERAL,
  fakeDiscordApi,
  interactionResponse,
  member,
  OPTION,
  postInteraction,
  pressInDm,
  setUpCommunity,
  slash,
  snowflake,
} from "../support/discord";
import {
  communityWithFollowers,
  db,
  deliver,
  executorOf,
  AAPL_MARKET_BUY as MARKET_BUY,
  settle,
  submit,
} from "../support/execution";
import { TEST_VARS } from "../support/test-vars";

afterEach(() => {
  vi.restoreAllMocks();
});

async function userIdOf(discordId: string) {
  const row = await env.DB.prepare("select id from users where discord_id = ?").bind(discordId).first<{ id: string }>();
  return row?.id ?? expect.fail(`no user ${discordId}`);
}

describe("a member's portfolio and orders in Discord", () => {
  it("Scenario: /portfolio, /orders and /cancel show and act on the member's own orders only", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity({ aroundTheClock: true });
    const trader = member();
    const other = member();
    const empty = await interactionResponse(
      await postInteraction(slash("portfolio", [], { at: community.at, who: trader })),
    );
    expect(empty).toMatchObject({
      type: 4,
      data: { content: "You hold no positions in this community.", flags: EPHEMERAL },
    });

    const traderId = await userIdOf(trader.id);
    const signalId = crypto.randomUUID();
    await executorOf(community.communityId).submitManualTrade({
      signalId,
      communityId: community.communityId,
      userId: traderId,
      signal: { ...MARKET_BUY, quantity: 3 },
      sourceId: snowflake(),
      sourceTimestamp: Date.now(),
    });
    const queued = await env.DB.prepare("select id, client_order_id from orders where community_id = ? and user_id = ?")
      .bind(community.communityId, traderId)
      .all<{ id: string; client_order_id: string }>();
    await deliver(
      "order-submissions",
      queued.results.map((o) => ({
        communityId: community.communityId,
        orderId: o.id,
        clientOrderId: o.client_order_id,
      })),
    );

    const portfolio = await interactionResponse(
      await postInteraction(slash("portfolio", [], { at: community.at, who: trader })),
    );
    expect(portfolio.data?.flags).toBe(EPHEMERAL);
    const [sheet] = (portfolio.data?.embeds ?? []) as { title: string; fields: { name: string; value: string }[] }[];
    expect(sheet?.title).toBe("Your portfolio");
    expect(sheet?.fields.map((f) => f.name)).toEqual(["Equity", "Cash", "Day P&L", "Positions"]);
    expect(sheet?.fields[0]?.value).toMatch(/^\$[\d,]+\.\d\d$/);
    expect(sheet?.fields[1]?.value).toMatch(/^\$[\d,]+\.\d\d$/);
    expect(sheet?.fields[2]?.value).toMatch(/^[+-]?\$[\d,]+\.\d\d$/);
    expect(sheet?.fields[3]?.value).toMatch(/^• AAPL \(🧪 PAPER\): long 3 @ \$[\d,]+\.\d\d/);
    const orders = await interactionResponse(
      await postInteraction(slash("orders", [], { at: community.at, who: trader })),
    );
    const entryId = queued.results[0]?.id ?? "";
    const ref = `#${entryId.slice(0, 8)}`;
    const [list] = (orders.data?.embeds ?? []) as { title: string; fields: { name: string; value: string }[] }[];
    expect(list?.title).toBe("Your recent orders");
    expect(list?.fields).toEqual([
      {
        name: "Working",
        value: expect.stringMatching(
          new RegExp(
            `^\`${ref}:stop\` sell 3 × AAPL stop \\$[\\d,.]+ \\(stop-loss\\) — sent to broker\n\`${ref}:tp1\` sell 3 × AAPL limit \\$[\\d,.]+ \\(take-profit 1\\) — sent to broker$`,
          ),
        ),
      },
      { name: "Filled", value: `\`${ref}\` buy 3 × AAPL at market — filled` },
    ]);
    expect(JSON.stringify(list)).not.toContain(entryId);
    const menu = orders.data?.components?.[0]?.components?.[0] as unknown as {
      type: number;
      custom_id: string;
      options: { label: string; value: string }[];
    };
    expect(menu.type).toBe(3);
    expect(menu.options.map((o) => [o.label.split(" ")[0], o.value])).toEqual([
      [`${ref}:stop`, `${entryId}:stop`],
      [`${ref}:tp1`, `${entryId}:tp1`],
    ]);
    const pick = buttonPress(menu.custom_id, { at: community.at, who: trader });
    Object.assign(pick.data, { component_type: 3, values: [`${entryId}:tp1`] });
    expect(await interactionResponse(await postInteraction(pick))).toEqual({ type: 5, data: { flags: EPHEMERAL } });
    expect((await discord.editOf(pick)).body.content).toMatch(/^✅ Canceled: sell 3 × AAPL limit \$[\d,.]+/);
    const others = await interactionResponse(
      await postInteraction(slash("orders", [], { at: community.at, who: other })),
    );
    expect(others.data?.content).toBe("You have no such orders in this community.");

    const cancelPayload = slash("cancel", [{ name: "order", type: OPTION.STRING, value: entryId }], {
      at: community.at,
      who: other,
    });
    expect((await interactionResponse(await postInteraction(cancelPayload))).data?.content).toBe(
      `You have no order #${entryId}. See your orders and their references with \`/orders\`.`,
    );
    const ownCancel = slash("cancel", [{ name: "order", type: OPTION.STRING, value: ref }], {
      at: community.at,
      who: trader,
    });
    expect(await interactionResponse(await postInteraction(ownCancel))).toEqual({
      type: 5,
      data: { flags: EPHEMERAL },
    });
    expect((await discord.editOf(ownCancel)).body.content).toBe("⚠️ The order is already filled.");
    const tenant = forCommunity(db, community.communityId);
    await settle({ communityId: community.communityId, tenant, providerId: "", followerIds: [] });
  });
});

describe("/cancel by short reference", () => {
  /** A copy of the order under another id (and client order id): two orders of one member sharing a short reference. */
  async function cloneOrder(orderId: string, id: string): Promise<void> {
    const columns = (await env.DB.prepare("pragma table_info(orders)").all<{ name: string }>()).results.map(
      (c) => c.name,
    );
    const values = columns.map((c) => (c === "id" ? "?1" : c === "client_order_id" ? "?2" : c));
    await env.DB.prepare(
      `insert into orders (${columns.join(", ")}) select ${values.join(", ")} from orders where id = ?3`,
    )
      .bind(id, id.replaceAll("-", "").slice(-20), orderId)
      .run();
  }

  it("Scenario: An ambiguous short reference lists the orders and cancels nothing", async () => {
    fakeDiscordApi();
    const community = await setUpCommunity({ aroundTheClock: true });
    const trader = member();
    await postInteraction(slash("orders", [], { at: community.at, who: trader }));
    const traderId = await userIdOf(trader.id);
    await executorOf(community.communityId).submitManualTrade({
      signalId: crypto.randomUUID(),
      communityId: community.communityId,
      userId: traderId,
      signal: { ...MARKET_BUY, quantity: 3, stopLoss: null, takeProfits: [] },
      sourceId: snowflake(),
      sourceTimestamp: Date.now(),
    });
    const tenant = forCommunity(db, community.communityId);
    const [placed] = await tenant.execution.listOrders({ userId: traderId });
    const first = "abcdef12-0000-4000-8000-000000000001";
    const second = "abcdef12-0000-4000-8000-000000000002";
    await cloneOrder(placed?.id ?? "", first);
    await cloneOrder(placed?.id ?? "", second);

    const answer = await interactionResponse(
      await postInteraction(
        slash("cancel", [{ name: "order", type: OPTION.STRING, value: "#ABCDEF12" }], {
          at: community.at,
          who: trader,
        }),
      ),
    );
    expect(answer).toMatchObject({
      type: 4,
      data: {
        content: `Several of your orders are #abcdef12, so nothing was canceled. Which one? Cancel it from the menu in \`/orders\`, or give its full id:\n• \`${first}\` buy 3 × AAPL at market\n• \`${second}\` buy 3 × AAPL at market`,
        flags: EPHEMERAL,
      },
    });
    const statuses = await env.DB.prepare("select id, status from orders where id in (?, ?) order by id")
      .bind(first, second)
      .all<{ id: string; status: string }>();
    expect(statuses.results).toEqual([
      { id: first, status: placed?.status },
      { id: second, status: placed?.status },
    ]);
    await settle({ communityId: community.communityId, tenant, providerId: "", followerIds: [] });
  });
});

describe("confirm mode in Discord", () => {
  it("Scenario: A confirm-mode order is confirmed from its direct message button", async () => {
    fakeDiscordApi();
    const community = await communityWithFollowers(1, { mode: "confirm" });
    const [followerId = ""] = community.followerIds;
    await submit(community, MARKET_BUY);
    const [order] = await community.tenant.execution.listOrders({});
    const follower = await env.DB.prepare("select discord_id, username from users where id = ?")
      .bind(followerId)
      .first<{ discord_id: string; username: string }>();
    const customId = await signComponentId(TEST_VARS.SESSION_SECRET, {
      kind: "order",
      action: "confirm",
      id: order?.id ?? "",
    });
    const dmPress = (who: { id: string; username: string }) =>
      pressInDm(customId, { discordId: who.id, username: who.username });

    const stranger = await dmPress({ id: snowflake(), username: "x" });
    expect(stranger.data?.content).toBe("Only the member this order is for can confirm or cancel it.");
    const pressed = await dmPress({ id: follower?.discord_id ?? "", username: follower?.username ?? "" });
    expect(pressed).toMatchObject({
      type: 7,
      data: { content: expect.stringMatching(/^🧪 PAPER · [^\n]+ · from @\S+\n👍 Confirmed: buy /) },
    });
    await deliver("order-submissions", [
      { communityId: community.communityId, orderId: order?.id, clientOrderId: order?.clientOrderId },
    ]);
    expect((await community.tenant.execution.getOrder(order?.id ?? ""))?.status).toBe("filled");
    const again = await dmPress({ id: follower?.discord_id ?? "", username: follower?.username ?? "" });
    expect(again.data?.content).toBe("This order is no longer waiting for your confirmation.");
    await settle(community);
  });

  it("Scenario: An expired button in a direct message says what to do instead", async () => {
    const who = { discordId: snowflake(), username: "late" };
    const expired = { lifetimeSeconds: 1, nowMs: Date.now() - 60_000 };
    const order = await signComponentId(
      TEST_VARS.SESSION_SECRET,
      { kind: "order", action: "confirm", id: "o-1" },
      expired,
    );
    expect((await pressInDm(order, who)).data?.content).toBe(
      "This button has expired, so nothing was done: an order not confirmed in time is not sent. See it with `/orders` in the server, or place it yourself with `/trade`.",
    );
    const held = await signComponentId(TEST_VARS.SESSION_SECRET, { kind: "held", action: "close", id: "o-1" }, expired);
    expect((await pressInDm(held, who)).data?.content).toBe(
      "This button has expired, so nothing was done: you still hold the position. See it with `/portfolio` in the server and close it with `/trade`.",
    );
  });
});
