import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { credentialVault } from "../../platform/crypto/vault";
import { database } from "../../platform/db/client";
import { sha256Hex } from "../../shared/crypto/constant-time";
import { communityScope } from "../../shared/crypto/data-keys";
import { rootLogger } from "../../shared/logging";
import { fakeDiscordApi } from "../support/discord";
import { communityWithFollowers, settle } from "../support/execution";
import { call, errorOf, opsHeaders } from "../support/http";
import { createWebhook, fromUrl, postSignal, providerDiscordId } from "../support/signal-webhooks";
import { TEST_VARS } from "../support/test-vars";

beforeEach(() => {
  // Fill notices go to Discord as DMs: answered here as Discord would.
  fakeDiscordApi();
});

afterEach(() => {
  vi.restoreAllMocks();
});

const json = { "content-type": "application/json" };

function createFor(communityId: string, provider: string, headers = opsHeaders(json)) {
  return call(`/api/v1/communities/${communityId}/signal-webhooks`, {
    method: "POST",
    headers,
    body: JSON.stringify({ provider }),
  });
}

async function auditRows(communityId: string) {
  return (
    await env.DB.prepare("SELECT event, actor_id, target, data FROM audit_log WHERE community_id = ? ORDER BY seq")
      .bind(communityId)
      .all<{ event: string; actor_id: string; target: string; data: string }>()
  ).results.filter((row) => row.event.startsWith("signal_webhook."));
}

const alert = () => ({ ticker: "AAPL", action: "buy", quantity: 1, time: new Date().toISOString() });

describe("signal webhooks over the operator API", () => {
  it("Scenario: An operator creates a webhook and its URL takes signals", async () => {
    const community = await communityWithFollowers(1);
    const res = await createFor(community.communityId, await providerDiscordId(community.providerId));
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; url: string; secret: string };
    expect(Object.keys(created).sort()).toEqual(["id", "secret", "url"]);
    expect(created.url).toMatch(new RegExp(`^${TEST_VARS.PUBLIC_BASE_URL}/webhooks/signals/[A-Za-z0-9_-]{43}$`));
    expect(created.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const webhook = fromUrl(created);

    // D1 holds the key's hash and the secret sealed to this community and webhook, never either in the clear.
    const row = await env.DB.prepare("SELECT * FROM signal_webhooks WHERE id = ?")
      .bind(created.id)
      .first<Record<string, string | number | null>>();
    expect(row).toMatchObject({
      community_id: community.communityId,
      provider_user_id: community.providerId,
      key_hash: await sha256Hex(webhook.key),
      revoked_at: null,
    });
    expect(JSON.stringify(row)).not.toContain(webhook.key);
    expect(JSON.stringify(row)).not.toContain(created.secret);
    const binding = `signal-webhook:${community.communityId}:${created.id}`;
    // Sealed by the credential vault under the community's own data key.
    expect(String(row?.sealed_secret)).toMatch(/^v2\.dk_/);
    const vault = credentialVault(database(env.DB), TEST_VARS, rootLogger);
    expect(await vault.open(communityScope(community.communityId), String(row?.sealed_secret), binding)).toBe(
      created.secret,
    );

    const [audit] = await auditRows(community.communityId);
    expect(audit).toMatchObject({ event: "signal_webhook.created", target: community.providerId });
    expect(audit?.actor_id).toMatch(/^ops:[0-9a-f]{12}$/);
    expect(JSON.parse(audit?.data ?? "{}")).toEqual({
      webhookId: created.id,
      providerUserId: community.providerId,
      keyFingerprint: (await sha256Hex(webhook.key)).slice(0, 12),
    });

    const signal = await postSignal(webhook.path, alert(), { signWith: created.secret });
    expect(signal.status).toBe(202);
    expect(await signal.json()).toMatchObject({ status: "accepted" });
    await settle(community);
  });

  it("Scenario: The API refuses non-providers and a second webhook", async () => {
    const community = await communityWithFollowers(1);
    const [follower] = community.followerIds;
    for (const provider of ["100000000000009999", await providerDiscordId(follower ?? "")]) {
      const res = await createFor(community.communityId, provider);
      expect(res.status).toBe(422);
      const error = await errorOf(res);
      expect(error).toMatchObject({
        code: "NOT_A_PROVIDER",
        message: `Discord user ${provider} is not a signal provider of this community: an admin names them with /setup provider: first.`,
      });
    }
    const provider = await providerDiscordId(community.providerId);
    const first = await createWebhook(community.communityId, community.providerId);
    const second = await createFor(community.communityId, provider);
    expect(second.status).toBe(409);
    expect(await errorOf(second)).toMatchObject({
      code: "SIGNAL_WEBHOOK_EXISTS",
      message: `That provider already has an active signal webhook (${first.id}): revoke it first, or rotate it in Discord with /webhook rotate.`,
    });
    const malformed = await createFor(community.communityId, "not-a-snowflake");
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).code).toBe("VALIDATION_FAILED");
    const extra = await call(`/api/v1/communities/${community.communityId}/signal-webhooks`, {
      method: "POST",
      headers: opsHeaders(json),
      body: JSON.stringify({ provider, secret: "mine" }),
    });
    expect(extra.status).toBe(400);
    await extra.json();
    expect(await auditRows(community.communityId)).toHaveLength(1);
  });

  it("Scenario: An operator lists and revokes a webhook", async () => {
    const community = await communityWithFollowers(0);
    const webhook = await createWebhook(community.communityId, community.providerId);
    const base = `/api/v1/communities/${community.communityId}/signal-webhooks`;
    const list = await call(base, { headers: opsHeaders() });
    expect(list.status).toBe(200);
    const listed = (await list.json()) as { webhooks: Record<string, unknown>[] };
    expect(listed.webhooks).toEqual([
      {
        id: webhook.id,
        providerUserId: community.providerId,
        providerDiscordId: await providerDiscordId(community.providerId),
        createdAt: expect.any(Number),
        rotatedAt: null,
        revokedAt: null,
      },
    ]);

    const revoked = await call(`${base}/${webhook.id}`, { method: "DELETE", headers: opsHeaders() });
    expect(revoked.status).toBe(200);
    const body = (await revoked.json()) as { id: string; revokedAt: number };
    expect(body).toMatchObject({ id: webhook.id, revokedAt: expect.any(Number) });
    const signal = await postSignal(webhook.path, alert());
    expect(signal.status).toBe(404);
    expect((await errorOf(signal)).code).toBe("SIGNAL_WEBHOOK_NOT_FOUND");

    // A second DELETE answers the same and audits nothing more.
    const again = await call(`${base}/${webhook.id}`, { method: "DELETE", headers: opsHeaders() });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(body);
    expect((await auditRows(community.communityId)).map((row) => row.event)).toEqual([
      "signal_webhook.created",
      "signal_webhook.revoked",
    ]);
    expect(((await (await call(base, { headers: opsHeaders() })).json()) as { webhooks: unknown[] }).webhooks).toEqual(
      [],
    );
    const all = (await (await call(`${base}?include_revoked=true`, { headers: opsHeaders() })).json()) as {
      webhooks: { id: string; revokedAt: number }[];
    };
    expect(all.webhooks).toEqual([expect.objectContaining({ id: webhook.id, revokedAt: body.revokedAt })]);

    // A revoked webhook leaves room for a new one.
    expect((await createWebhook(community.communityId, community.providerId)).id).not.toBe(webhook.id);
  });

  it("Scenario: Signal webhooks are scoped to their community", async () => {
    const a = await communityWithFollowers(0);
    const b = await communityWithFollowers(0);
    const webhook = await createWebhook(a.communityId, a.providerId);
    const fromB = await call(`/api/v1/communities/${b.communityId}/signal-webhooks/${webhook.id}`, {
      method: "DELETE",
      headers: opsHeaders(),
    });
    expect(fromB.status).toBe(404);
    expect(await errorOf(fromB)).toMatchObject({
      code: "SIGNAL_WEBHOOK_NOT_FOUND",
      message: `Signal webhook ${webhook.id} does not exist in this community.`,
    });
    const listedInB = (await (
      await call(`/api/v1/communities/${b.communityId}/signal-webhooks?include_revoked=true`, { headers: opsHeaders() })
    ).json()) as { webhooks: unknown[] };
    expect(listedInB.webhooks).toEqual([]);
    const forAsProvider = await createFor(b.communityId, await providerDiscordId(a.providerId));
    expect(forAsProvider.status).toBe(422);
    await forAsProvider.json();
    const unknown = await createFor(crypto.randomUUID(), await providerDiscordId(a.providerId));
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe("COMMUNITY_NOT_FOUND");
    // Still active in its own community.
    expect((await postSignal(webhook.path, { text: "gm" })).status).toBe(422);
  });

  it("Scenario: Managing webhooks needs the operator token", async () => {
    const community = await communityWithFollowers(0);
    const provider = await providerDiscordId(community.providerId);
    const base = `/api/v1/communities/${community.communityId}/signal-webhooks`;
    const attempts = [
      createFor(community.communityId, provider, json),
      createFor(community.communityId, provider, {
        ...json,
        authorization: "Bearer wrong-token-wrong-token-wrong-token",
      }),
      call(base),
      call(`${base}/${crypto.randomUUID()}`, { method: "DELETE" }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(401);
      await res.json();
    }
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM signal_webhooks WHERE community_id = ?")
      .bind(community.communityId)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("Scenario: The signal webhook routes are described in the OpenAPI document", async () => {
    const res = await call("/api/v1/openapi.json");
    type Operation = { operationId?: string; responses: Record<string, unknown>; requestBody?: unknown };
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, Operation>>;
      components: { schemas: Record<string, unknown> };
    };
    const intake = doc.paths["/webhooks/signals/{providerKey}"]?.post;
    expect(intake?.operationId).toBe("receiveWebhookSignal");
    expect(Object.keys(intake?.responses ?? {}).sort()).toEqual([
      "202",
      "400",
      "401",
      "404",
      "413",
      "422",
      "429",
      "503",
    ]);
    expect(JSON.stringify(intake?.requestBody)).toContain("#/components/schemas/TradersPostSignal");
    for (const schema of ["TradersPostSignal", "NormalizedSignalBody", "TextSignalBody", "WebhookSignalReceipt"]) {
      expect(doc.components.schemas[schema]).toBeDefined();
    }
    const collection = doc.paths["/api/v1/communities/{communityId}/signal-webhooks"];
    expect(collection?.post?.operationId).toBe("createSignalWebhook");
    expect(Object.keys(collection?.post?.responses ?? {})).toContain("201");
    expect(collection?.get?.operationId).toBe("listSignalWebhooks");
    expect(doc.paths["/api/v1/communities/{communityId}/signal-webhooks/{id}"]?.delete?.operationId).toBe(
      "revokeSignalWebhook",
    );
  });
});
