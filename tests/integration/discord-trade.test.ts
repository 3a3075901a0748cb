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
import { TEST_VARS } from "../support/test-vars";

afterEach(() => {
  vi.restoreAllMocks();
});

const tradeOptions = [
  { name: "action", type: OPTION.STRING, value: "buy" },
  { name: "symbol", type: OPTION.STRING, value: "AAPL" },
  { name: "quantity", type: OPTION.NUMBER, value: 5 },
  { name: "price", type: OPTION.NUMBER, value: 190.5 },
  { name: "stop", type: OPTION.NUMBER, value: 185 },
];

async function preview(community: RegisteredCommunity, who: TestMember) {
  const reply = await interactionResponse(
    await postInteraction(slash("trade", tradeOptions, { at: community.at, who })),
  );
  const buttons = reply.data?.components?.[0]?.components ?? [];
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
    const community = await setUpCommunity();
    const { reply, confirm, cancel, pending } = await preview(community, member());
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toContain("BUY $AAPL QTY 5 @ 190.5 SL 185");
    expect(pending).toMatchObject({ status: "received", status_reason: "awaiting_confirmation", source: "slash" });
    expect(confirm).toMatch(new RegExp(`^trade:confirm:${pending?.id}:[0-9a-z]+:[A-Za-z0-9_-]{22}$`));
    expect(cancel).toMatch(new RegExp(`^trade:cancel:${pending?.id}:`));
    expect(confirm.length).toBeLessThanOrEqual(100);
  });

  it("Scenario: Cancel edits the message to canceled", async () => {
    const community = await setUpCommunity();
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
    const community = await setUpCommunity();
    const who = member();
    const { confirm, pending } = await preview(community, who);
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
    const { confirm, pending } = await preview(community, who);
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
    const community = await setUpCommunity();
    const who = member();
    const { confirm, pending } = await preview(community, who);
    const press = buttonPress(confirm, { at: community.at, who });
    await postInteraction(press);
    const edit = await discord.editOf(press);
    expect(edit.body.content).toMatch(
      /^⚠️ Not placed: BUY \$AAPL QTY 5 @ 190\.5 SL 185: Durable Object reset because its code was updated\. Quote request id `/,
    );
    expect((await statusOf(pending?.id))?.status).toBe("failed");
  });

  it("Scenario: A forged, tampered or expired button does nothing and says so", async () => {
    const community = await setUpCommunity();
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
    const community = await setUpCommunity();
    const { confirm, pending } = await preview(community, member());
    const reply = await interactionResponse(
      await postInteraction(buttonPress(confirm, { at: community.at, who: member() })),
    );
    expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(reply.data?.content).toBe("Only the member who created this trade can confirm or cancel it.");
    expect(await statusOf(pending?.id)).toEqual({ status: "received", status_reason: "awaiting_confirmation" });
  });
});
