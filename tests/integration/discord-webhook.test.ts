import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  admin,
  EPHEMERAL,
  interactionResponse,
  member,
  OPTION,
  type Option,
  postInteraction,
  type RegisteredCommunity,
  resolvedUser,
  setUpCommunity,
  slash,
  type TestMember,
} from "../support/discord";
import { postSignal } from "../support/signal-webhooks";
import { TEST_VARS } from "../support/test-vars";

afterEach(() => {
  vi.restoreAllMocks();
});

const URL_PATTERN = new RegExp(`${TEST_VARS.PUBLIC_BASE_URL}(/webhooks/signals/[A-Za-z0-9_-]{43})`);
const SECRET_PATTERN = /\*\*Signing secret\*\*: \|\|`([A-Za-z0-9_-]{43})`\|\|/;

async function webhookCommand(
  community: RegisteredCommunity,
  who: TestMember,
  subcommand: "create" | "rotate" | "revoke",
  forProvider?: TestMember,
): Promise<string> {
  const options: Option[] = forProvider ? [{ name: "provider", type: OPTION.USER, value: forProvider.id }] : [];
  const reply = await interactionResponse(
    await postInteraction(
      slash("webhook", [{ name: subcommand, type: OPTION.SUB_COMMAND, options }], {
        at: community.at,
        who,
        ...(forProvider ? { resolved: resolvedUser(forProvider) } : {}),
      }),
    ),
  );
  expect(reply).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
  return reply.data?.content ?? "";
}

function issued(content: string): { path: string; secret: string } {
  const path = URL_PATTERN.exec(content)?.[1];
  const secret = SECRET_PATTERN.exec(content)?.[1];
  if (!path || !secret) throw new Error(`no URL and secret in: ${content}`);
  return { path, secret };
}

const alert = () => ({ ticker: "AAPL", action: "buy", quantity: 1, time: new Date().toISOString() });

async function statusOf(path: string, signWith?: string): Promise<number> {
  const res = await postSignal(path, alert(), signWith ? { signWith } : {});
  await res.json();
  return res.status;
}

async function webhookEvents(communityId: string) {
  return (
    await env.DB.prepare(
      "SELECT event, actor_id, target FROM audit_log WHERE community_id = ? AND event LIKE 'signal_webhook.%' ORDER BY seq",
    )
      .bind(communityId)
      .all<{ event: string; actor_id: string; target: string }>()
  ).results;
}

async function userIdOf(discordId: string): Promise<string | undefined> {
  return (await env.DB.prepare("SELECT id FROM users WHERE discord_id = ?").bind(discordId).first<{ id: string }>())
    ?.id;
}

describe("/webhook", () => {
  it("Scenario: A provider creates a webhook with /webhook create and sees its URL and secret once", async () => {
    const community = await setUpCommunity();
    const provider = community.provider();
    const content = await webhookCommand(community, provider, "create");
    expect(content).toMatch(/^🔗 Signal webhook created for you \(id `[0-9a-f-]{36}`\)\. Copy both now/);
    const { path, secret } = issued(content);
    expect(await statusOf(path, secret)).toBe(202);
    const providerId = await userIdOf(provider.id);
    expect(await webhookEvents(community.communityId)).toEqual([
      { event: "signal_webhook.created", actor_id: providerId, target: providerId },
    ]);

    const again = await webhookCommand(community, provider, "create");
    expect(again).toMatch(/^Your signal webhook already exists \(`[0-9a-f-]{36}`, created <t:\d+:R>\)\./);
    expect(again).not.toMatch(URL_PATTERN);
    expect(await statusOf(path)).toBe(202);
  });

  it("Scenario: /webhook rotate replaces the URL and secret and /webhook revoke turns the webhook off", async () => {
    const community = await setUpCommunity();
    const provider = community.provider();
    const first = issued(await webhookCommand(community, provider, "create"));
    const rotatedText = await webhookCommand(community, provider, "rotate");
    expect(rotatedText).toMatch(/^🔄 New URL and secret for your signal webhook; the old ones no longer work/);
    const rotated = issued(rotatedText);
    expect(rotated.path).not.toBe(first.path);
    expect(rotated.secret).not.toBe(first.secret);
    expect(await statusOf(first.path)).toBe(404);
    expect(await statusOf(rotated.path, first.secret)).toBe(401);
    expect(await statusOf(rotated.path, rotated.secret)).toBe(202);

    const revoked = await webhookCommand(community, provider, "revoke");
    expect(revoked).toMatch(
      /^🛑 Your signal webhook \(`[0-9a-f-]{36}`\) is revoked: its URL answers 404 from now on\./,
    );
    expect(await statusOf(rotated.path)).toBe(404);
    expect(await webhookCommand(community, provider, "rotate")).toBe(
      "There is no active signal webhook for you; `/webhook create` makes one.",
    );
    expect(await webhookCommand(community, provider, "revoke")).toBe(
      "There is no active signal webhook for you; `/webhook create` makes one.",
    );
    expect((await webhookEvents(community.communityId)).map((row) => row.event)).toEqual([
      "signal_webhook.created",
      "signal_webhook.rotated",
      "signal_webhook.revoked",
    ]);
  });

  it("Scenario: An admin manages another provider's webhook and a provider cannot", async () => {
    const community = await setUpCommunity();
    const provider = community.provider();
    const content = await webhookCommand(community, community.owner, "create", provider);
    expect(content).toContain(`🔗 Signal webhook created for <@${provider.id}>`);
    const { path } = issued(content);
    expect(await statusOf(path)).toBe(202);
    const row = await env.DB.prepare("SELECT provider_user_id FROM signal_webhooks WHERE community_id = ?")
      .bind(community.communityId)
      .first<{ provider_user_id: string }>();
    expect(row?.provider_user_id).toBe(await userIdOf(provider.id));
    const [created] = await webhookEvents(community.communityId);
    expect(created?.actor_id).toBe(await userIdOf(community.owner.id));

    // A provider may not act for another provider; an admin may not give one to a member who is no provider.
    expect(await webhookCommand(community, community.provider(), "revoke", provider)).toBe(
      "Only server admins and moderators can manage another provider's webhook; leave out `provider:` for your own.",
    );
    const plain = member();
    expect(await webhookCommand(community, community.owner, "create", plain)).toBe(
      `<@${plain.id}> is not a signal provider here: name them with \`/setup provider:\` or give them a provider role first.`,
    );
    expect(await webhookCommand(community, admin(), "revoke", provider)).toMatch(
      new RegExp(`^🛑 <@${provider.id}>'s signal webhook \\(\`[0-9a-f-]{36}\`\\) is revoked`),
    );
    expect(await statusOf(path)).toBe(404);
  });

  it("Scenario: A member who is not a provider cannot have a webhook", async () => {
    const community = await setUpCommunity();
    expect(await webhookCommand(community, member(), "create")).toBe(
      "Only signal providers can do this. An admin can make you one with `/setup provider:@you` or give you a provider role.",
    );
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM signal_webhooks WHERE community_id = ?")
      .bind(community.communityId)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("Scenario: Removing a provider revokes their webhook", async () => {
    const community = await setUpCommunity();
    const named = member();
    const setup = (option: "provider" | "remove_provider") =>
      postInteraction(
        slash("setup", [{ name: option, type: OPTION.USER, value: named.id }], {
          at: community.at,
          who: community.owner,
          resolved: resolvedUser(named),
        }),
      ).then(interactionResponse);
    await setup("provider");
    const { path } = issued(await webhookCommand(community, named, "create"));
    expect(await statusOf(path)).toBe(202);
    const removed = await setup("remove_provider");
    expect(removed.data?.content).toContain(`Removed provider: <@${named.id}>`);
    expect(await statusOf(path)).toBe(404);
    const revoked = (await webhookEvents(community.communityId)).at(-1);
    expect(revoked).toMatchObject({ event: "signal_webhook.revoked", actor_id: await userIdOf(community.owner.id) });
  });
});
