import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registrationPayload } from "../../workers/discord/registration";
import { DEFAULT_BODY_LIMIT_BYTES } from "../../workers/http/middleware/body-limit";
import { INTERACTION_BODY_LIMIT_BYTES } from "../../workers/http/routes/interactions";
import {
  fakeDiscordApi,
  interactionResponse,
  member,
  messageCommand,
  OPTION,
  postInteraction,
  setUpCommunity,
  slash,
} from "../support/discord";

/** Where Discord's published API spec allows more (or less) than the app assumed. */

afterEach(() => {
  vi.restoreAllMocks();
});

describe("Discord conformance", () => {
  it("Scenario: Execute as signal accepts a message from a webhook with an 80-character name", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const provider = community.provider();
    const webhookAuthor = member({ username: "W".repeat(80) });
    const payload = messageCommand(
      { content: "BUY AAPL 10 @ 190.50 SL 185", author: webhookAuthor },
      { at: community.at, who: provider },
    );
    expect(await interactionResponse(await postInteraction(payload))).toEqual({ type: 5 });
    expect((await discord.editOf(payload)).body.content).toMatch(/^📣 Signal from /);
  });

  it("Scenario: A message command payload larger than 64 KiB is accepted", async () => {
    const discord = fakeDiscordApi();
    const community = await setUpCommunity();
    const provider = community.provider();
    const payload = messageCommand({ content: "BUY AAPL 10 @ 190.50 SL 185" }, { at: community.at, who: provider });
    const [message] = Object.values(payload.data.resolved.messages);
    // Ten embeds of 6,000 characters each, as Discord resolves them with the target message.
    Object.assign(message as object, {
      embeds: Array.from({ length: 10 }, (_, i) => ({
        type: "rich",
        title: `Chart ${i}`,
        description: "é".repeat(6000),
      })),
    });
    const body = JSON.stringify(payload);
    expect(new TextEncoder().encode(body).length).toBeGreaterThan(DEFAULT_BODY_LIMIT_BYTES);
    expect(new TextEncoder().encode(body).length).toBeLessThan(INTERACTION_BODY_LIMIT_BYTES);
    expect(await interactionResponse(await postInteraction(body))).toEqual({ type: 5 });
    expect((await discord.editOf(payload)).body.content).toMatch(/^📣 Signal from /);
  });

  it("Scenario: The message command is registered without a description", () => {
    const command = registrationPayload().find((c) => c.name === "Execute as signal");
    expect(command).toMatchObject({ type: 3, name: "Execute as signal" });
    expect(command).not.toHaveProperty("description");
  });

  it("Scenario: The risk modal never pre-fills a value longer than its max_length", async () => {
    const community = await setUpCommunity();
    const who = member();
    // Any path that writes settings (the API, a later dashboard) may store more digits than the modal's own typing limit.
    await postInteraction(slash("risk", [{ name: "view", type: OPTION.SUB_COMMAND }], { at: community.at, who }));
    await env.DB.prepare(
      `INSERT INTO risk_profiles (community_id, user_id, settings, created_at, updated_at)
       SELECT ?, id, ?, 0, 0 FROM users WHERE discord_id = ?
       ON CONFLICT (community_id, user_id) DO UPDATE SET settings = excluded.settings`,
    )
      .bind(community.communityId, JSON.stringify({ defaultStopPercent: 1.2345678901234567 }), who.id)
      .run();
    const modal = await interactionResponse(
      await postInteraction(slash("risk", [{ name: "set", type: OPTION.SUB_COMMAND }], { at: community.at, who })),
    );
    const inputs = (modal.data?.components ?? []).map(
      (label) =>
        (label as unknown as { component: { custom_id: string; value?: string; max_length?: number } }).component,
    );
    expect(inputs.find((i) => i.custom_id === "defaultStopPercent")?.value).toBe("1.2345678901234567");
    for (const input of inputs) expect(input.value?.length ?? 0).toBeLessThanOrEqual(input.max_length ?? 4000);
  });
});
