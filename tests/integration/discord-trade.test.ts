import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CommunityExecutor } from "../../durable-objects/community-executor";
import { signComponentId } from "../../shared/discord/components";
import {
  buttonPress,
  EPHEMERAL,
  fakeDiscordApi,
  interactionResponse,
  member,
  OPTION,
  postInteraction,
  type RegisteredCommunity,
  setUpCommunity,
  slash,
  type TestMember,
} from "../support/discord";
import { SATURDAY_MORNING } from "../support/risk-defaults";
import { TEST_VARS } from "../support/test-vars";

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const tradeOptions = [
  { name: "action", type: OPTION.STRING, value: "buy" },
  { name: "symbol", type: OPTION.STRING, value: "AAPL" },
  { name: "quantity", type: OPTION.NUMBER, value: 5 },
  { name: "price", type: OPTION.NUMBER, value: 190.5 },
  { name: "stop", type: OPTION.NUMBER, value: 185 },
];

/** /trade answers deferred (ephemeral); the preview is the edit of @original. */
async function preview(
  community: RegisteredCommunity,
  who: TestMember,
  discord: ReturnType<typeof fakeDiscordApi> = fakeDiscordApi(),
  options = tradeOptions,
) {
  const interaction = slash("trade", options, { at: community.at, who });
  const deferred = await interactionResponse(await postInteraction(interaction));
  expect(deferred).toEqual({ type: 5, data: { flags: EPHEMERAL } });
  const reply = (await discord.editOf(interaction)).body as {
    content: string;
    components?: { components: { label: string; custom_id: string }[] }[];
  };
  const buttons = reply.components?.[0]?.components ?? [];
  const confirm = buttons.find((b) => b.label === "Confirm")?.custom_id ?? "";
  const cancel = buttons.find((b) => b.label === "Cancel")?.custom_id ?? "";
  const pending = await env.DB.prepare(
    "SELECT id, status, status_reason, source FROM signals WHERE community_id = ? ORDER BY created_at DESC LIMIT 1",
  )
    .bind(community.communityId)
    .first<{ id: string; status: string; status_reason: string; source: string }>();
  return { reply, confirm, cancel, pending };
}

const statusOf = async (id: string | undefined) =>
  env.DB.prepare("SELECT status, status_reason FROM signals WHERE id = ?")
    .bind(id ?? "")
    .first<{ status: string; status_reason: string }>();

describe("/trade and its buttons", () => {
  it("Scenario: /trade shows a preview with signed Confirm and Cancel buttons", async () => {
    const community = await setUpCommunity({ aroundTheClock: true });
    const { reply, confirm, cancel, pending } = await preview(community, member());
    expect(reply.content).toBe(
      [
        "Place this order on your account?",
        "**BUY $AAPL QTY 5 @ 190.5 SL 185**",
        "Would place: buy 5 × AAPL limit $190.50.",
        "With: sell 5 × AAPL stop $185.00 (stop-loss); sell 5 × AAPL limit $198.12 (take-profit 1).",
        "The signal has no target: default take-profit 4% at $198.12.",
        "Sized at fixed quantity 5 (your follow's sizing): 5 shares at $190.50, $952.50.",
        "The buttons expire in 5 minutes.",
      ].join("\n"),
    );
    expect(pending).toMatchObject({ status: "received", status_reason: "awaiting_confirmation", source: "slash" });
    expect(confirm).toMatch(new RegExp(`^trade:confirm:${pending?.id}:[0-9a-z]+:[A-Za-z0-9_-]{22}$`));
    expect(cancel).toMatch(new RegExp(`^trade:cancel:${pending?.id}:`));
    expect(confirm.length).toBeLessThanOrEqual(100);
  });

  it("Scenario: Cancel edits the message to canceled", async () => {
    const community = await setUpCommunity({ aroundTheClock: true });
    const who = member();
    const { cancel, pending } = await preview(community, who);
    const reply = await interactionResponse(await postInteraction(buttonPress(cancel, { at: community.at, who })));
    expect(reply.type).toBe(7);
    expect(reply.data?.content).toBe("Canceled: BUY $AAPL QTY 5 @ 190.5 SL 185. Nothing was placed.");
    expect(reply.data?.components).toEqual([]);
    expect(await statusOf(pending?.id)).toEqual({ status: "refused", status_reason: "canceled_by_member" });
  });

  it("Scenario: Confirm hands the trade to the executor and edits the preview", async () => {
    const discord = fakeDiscordApi();
    const manual = vi.spyOn(CommunityExecutor.prototype, "submitManualTrade").mockResolvedValue({
      status: "accepted",
      signalId: "s",
      message: "order queued on your paper account",
      followers: 1,
      ordersQueued: 1,
      ordersReduced: 0,
      skipped: {},
    });
    const community = await setUpCommunity({ aroundTheClock: true });
    const who = member();
    const { confirm, pending } = await preview(community, who, discord);
    const press = buttonPress(confirm, { at: community.at, who });
    expect(await interactionResponse(await postInteraction(press))).toEqual({ type: 6 });
    const edit = await discord.editOf(press);
    expect(edit.body).toEqual({
      content: "✅ BUY $AAPL QTY 5 @ 190.5 SL 185: order queued on your paper account",
      allowed_mentions: { parse: [] },
      components: [],
    });
    expect(manual.mock.calls.map(([input]) => input)).toEqual([
      expect.objectContaining({
        signalId: pending?.id,
        communityId: community.communityId,
        interaction: { applicationId: press.application_id, token: press.token },
      }),
    ]);
    expect(await statusOf(pending?.id)).toEqual({ status: "received", status_reason: "confirmed_by_member" });

    const twice = await interactionResponse(await postInteraction(buttonPress(confirm, { at: community.at, who })));
    expect(twice.data?.content).toBe("This trade was already confirmed or canceled.");
    expect(manual).toHaveBeenCalledTimes(1);
  });

  it("Scenario: A confirmed trade is placed on the member's own account", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity({ aroundTheClock: true });
    const who = member();
    const { confirm, pending } = await preview(community, who, discord);
    const press = buttonPress(confirm, { at: community.at, who });
    expect(await interactionResponse(await postInteraction(press))).toEqual({ type: 6 });
    const edit = await discord.editOf(press);
    expect(edit.body.content).toMatch(/^✅ BUY \$AAPL QTY 5 @ 190\.5 SL 185: /);
    const orders = await env.DB.prepare(
      "SELECT o.symbol, o.side, o.quantity FROM orders o JOIN users u ON u.id = o.user_id WHERE o.signal_id = ? AND u.discord_id = ?",
    )
      .bind(pending?.id, who.id)
      .all();
    expect(orders.results).toContainEqual(expect.objectContaining({ symbol: "AAPL", side: "buy", quantity: 5 }));
  });

  it("Scenario: A confirmed trade the executor cannot place says so", async () => {
    const discord = fakeDiscordApi();
    vi.spyOn(CommunityExecutor.prototype, "submitManualTrade").mockRejectedValue(
      new Error("Durable Object reset because its code was updated."),
    );
    const community = await setUpCommunity({ aroundTheClock: true });
    const who = member();
    const { confirm, pending } = await preview(community, who, discord);
    const press = buttonPress(confirm, { at: community.at, who });
    await postInteraction(press);
    const edit = await discord.editOf(press);
    expect(edit.body.content).toMatch(
      /^⚠️ Not placed: BUY \$AAPL QTY 5 @ 190\.5 SL 185: Durable Object reset because its code was updated\. Quote request id `/,
    );
    expect((await statusOf(pending?.id))?.status).toBe("failed");
  });

  it("Scenario: /trade that the risk engine would refuse says why, with no Confirm button", async () => {
    const community = await setUpCommunity();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(SATURDAY_MORNING);
    const { reply, confirm, pending } = await preview(community, member());
    vi.useRealTimers();
    expect(reply.content).toBe(
      "⚠️ Not placed: BUY $AAPL QTY 5 @ 190.5 SL 185: The market is closed (regular hours are 09:30–16:00 New York time, Monday to Friday). Orders are not held for the next open, so nothing was placed; you may opt into extended hours with /risk hours.",
    );
    expect(reply.components ?? []).toEqual([]);
    expect(confirm).toBe("");
    expect((await statusOf(pending?.id))?.status).toBe("refused");
  });

  it("Scenario: The preview reserves, stores and sends nothing", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity({ aroundTheClock: true });
    const { confirm, pending } = await preview(community, member(), discord);
    expect(confirm).not.toBe("");
    const orders = await env.DB.prepare("SELECT COUNT(*) AS n FROM orders WHERE signal_id = ?")
      .bind(pending?.id ?? "")
      .first<{ n: number }>();
    expect(orders?.n).toBe(0);
    expect(await statusOf(pending?.id)).toEqual({ status: "received", status_reason: "awaiting_confirmation" });
  });

  it("Scenario: Confirm says so when the placed quantity differs from the preview", async () => {
    const discord = fakeDiscordApi();
    vi.spyOn(CommunityExecutor.prototype, "submitManualTrade").mockResolvedValue({
      status: "accepted",
      signalId: "s",
      message: "Order queued: buy 3 × AAPL limit $190.50 (reduced to fit your limits).",
      quantity: 3,
      followers: 1,
      ordersQueued: 1,
      ordersReduced: 1,
      skipped: {},
    });
    const community = await setUpCommunity({ aroundTheClock: true });
    const who = member();
    const { confirm } = await preview(community, who, discord);
    const press = buttonPress(confirm, { at: community.at, who });
    await postInteraction(press);
    expect((await discord.editOf(press)).body.content).toBe(
      "⚠️ Placed 3 × AAPL, not the 5 previewed: BUY $AAPL QTY 5 @ 190.5 SL 185: Order queued: buy 3 × AAPL limit $190.50 (reduced to fit your limits).",
    );
  });

  it("Scenario: A forged, tampered or expired button does nothing and says so", async () => {
    const community = await setUpCommunity({ aroundTheClock: true });
    const who = member();
    const { confirm, pending } = await preview(community, who);
    const [kind, , id, exp, tag] = confirm.split(":");
    const expired = await signComponentId(
      TEST_VARS.SESSION_SECRET,
      { kind: "trade", action: "confirm", id: pending?.id ?? "" },
      { nowMs: Date.now() - 10 * 60_000 },
    );
    const cases = [
      [[kind, "cancel", id, exp, tag].join(":"), /not valid/],
      [`trade:confirm:${pending?.id}:${exp}:AAAAAAAAAAAAAAAAAAAAAA`, /not valid/],
      ["hello", /not valid/],
      [expired, /expired/],
    ] as const;
    for (const [customId, message] of cases) {
      const reply = await interactionResponse(await postInteraction(buttonPress(customId, { at: community.at, who })));
      expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
      expect(reply.data?.content).toMatch(message);
      expect(reply.data?.content).toMatch(/nothing was done/);
    }
    expect(await statusOf(pending?.id)).toEqual({ status: "received", status_reason: "awaiting_confirmation" });
  });

  it("Scenario: Only the member who created a trade can press its buttons", async () => {
    const community = await setUpCommunity({ aroundTheClock: true });
    const { confirm, pending } = await preview(community, member());
    const reply = await interactionResponse(
      await postInteraction(buttonPress(confirm, { at: community.at, who: member() })),
    );
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toBe("Only the member who created this trade can confirm or cancel it.");
    expect(await statusOf(pending?.id)).toEqual({ status: "received", status_reason: "awaiting_confirmation" });
  });
});
