import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { rotateDataKeys } from "../../platform/crypto/key-rotation";
import { credentialVault } from "../../platform/crypto/vault";
import { database } from "../../platform/db/client";
import { mfaStore } from "../../platform/db/mfa";
import { upsertUser } from "../../platform/db/users";
import { COMMUNITY_DATA_RETENTION_MS } from "../../platform/members/community-deletion";
import { totpSecretBinding } from "../../shared/auth/totp";
import {
  communityScope,
  DATA_KEY_ROTATE_AFTER_MS,
  DATA_KEY_SEAL_LIMIT_MS,
  PLATFORM_SCOPE,
  unwrapDataKey,
} from "../../shared/crypto/data-keys";
import {
  masterKeyring,
  openUnderDataKey,
  SealedSecretError,
  sealedKeyOf,
  sealSecret,
} from "../../shared/crypto/sealed-secret";
import { AppError } from "../../shared/errors";
import { rootLogger } from "../../shared/logging";
import { secretBinding } from "../../shared/signal-webhooks/credentials";
import worker from "../../workers/app";
import { runHousekeeping } from "../../workers/cron/housekeeping";
import { fakeDiscordApi, snowflake } from "../support/discord";
import { communityWithFollowers } from "../support/execution";
import { call, opsHeaders } from "../support/http";
import { logsDuring } from "../support/logs";
import { createWebhook, postSignal } from "../support/signal-webhooks";
import { TEST_VARS } from "../support/test-vars";

const db = database(env.DB);
const DAY = 24 * 60 * 60 * 1000;
const OTHER_MASTER_KEY = "HxwdHhscGRoXGBYVExQSERAPDg0MCwoJCAcGBQQDAgE=";

afterEach(() => vi.restoreAllMocks());

interface DataKeyRecord {
  id: string;
  scope: string;
  state: string;
  wrapped_key: string;
  master_key_id: string;
  created_at: number;
}

async function keysOf(scope: string): Promise<DataKeyRecord[]> {
  const { results } = await env.DB.prepare("SELECT * FROM data_keys WHERE scope = ? ORDER BY created_at")
    .bind(scope)
    .all<DataKeyRecord>();
  return results;
}

async function sealedWebhookSecret(webhookId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT sealed_secret FROM signal_webhooks WHERE id = ?")
    .bind(webhookId)
    .first<{ sealed_secret: string }>();
  return String(row?.sealed_secret);
}

const vault = (now = Date.now) => credentialVault(db, TEST_VARS, rootLogger, now);

describe("credential vault", () => {
  it("Scenario: Each community's secrets are sealed under its own data key and open only there", async () => {
    const a = communityScope(crypto.randomUUID());
    const b = communityScope(crypto.randomUUID());
    const sealedA = await vault().seal(a, "secret-of-a", "row:1");
    const againA = await vault().seal(a, "another-secret-of-a", "row:2");
    const sealedB = await vault().seal(b, "secret-of-b", "row:1");

    // One active key per scope, created by its first seal, wrapped under the master key and never stored in clear.
    const [keyA] = await keysOf(a);
    expect(await keysOf(a)).toHaveLength(1);
    expect(keyA).toMatchObject({ state: "active", master_key_id: TEST_VARS.MASTER_KEY_ID });
    expect(keyA?.wrapped_key).toMatch(/^v1\.test-1\./);
    expect(sealedA).toMatch(new RegExp(`^v2\\.${keyA?.id}\\.`));
    expect(sealedKeyOf(againA)?.keyId).toBe(keyA?.id);
    expect(sealedKeyOf(sealedB)?.keyId).not.toBe(keyA?.id);

    expect(await vault().open(a, sealedA, "row:1")).toBe("secret-of-a");
    expect(await vault().open(b, sealedB, "row:1")).toBe("secret-of-b");
    // Moved to another community, or to another row of the same one: never opened.
    await expect(vault().open(b, sealedA, "row:1")).rejects.toThrow(SealedSecretError);
    await expect(vault().open(a, sealedA, "row:2")).rejects.toThrow(SealedSecretError);
    // A wrapped key copied to another scope's row does not unwrap there either.
    const [keyB] = await keysOf(b);
    const keyring = masterKeyring(TEST_VARS);
    expect(unwrapDataKey(keyA?.wrapped_key ?? "", a, keyA?.id ?? "", keyring).id).toBe(keyA?.id);
    expect(() => unwrapDataKey(keyA?.wrapped_key ?? "", b, keyB?.id ?? "", keyring)).toThrow(SealedSecretError);
  });

  it("Scenario: A secret sealed before the vault still opens and moves to its scope's data key at the next daily run", async () => {
    const master = masterKeyring(TEST_VARS).current;
    if (!master) throw new Error("the test vars configure a master key");
    // A TOTP secret and a webhook's signing secret as they were sealed before the vault: under the master key itself.
    const user = await upsertUser(db, { discordId: snowflake(), username: "early-enroller" });
    const legacyTotp = sealSecret("JBSWY3DPEHPK3PXP", master, totpSecretBinding(user.id));
    await mfaStore(db).startEnrolment(user.id, legacyTotp);
    expect(await vault().open(PLATFORM_SCOPE, legacyTotp, totpSecretBinding(user.id))).toBe("JBSWY3DPEHPK3PXP");
    fakeDiscordApi();
    const community = await communityWithFollowers(1);
    const webhook = await createWebhook(community.communityId, community.providerId);
    const webhookBinding = secretBinding(community.communityId, webhook.id);
    await env.DB.prepare("UPDATE signal_webhooks SET sealed_secret = ? WHERE id = ?")
      .bind(sealSecret(webhook.secret, master, webhookBinding), webhook.id)
      .run();
    expect((await postSignal(webhook.path, { text: "BUY AAPL @ 150" }, { signWith: webhook.secret })).status).toBe(202);

    // The next daily run moves both to their scope's data key; nothing is due for rotation yet.
    const summary = await rotateDataKeys(db, TEST_VARS, rootLogger, Date.now());
    expect(summary).toMatchObject({ rotated: 0, failed: 0, unreadable: 0 });
    expect(summary.migrated).toBeGreaterThanOrEqual(2);
    const totp = (await mfaStore(db).get(user.id))?.secretSealed ?? "";
    const [platformKey] = (await keysOf(PLATFORM_SCOPE)).filter((key) => key.state === "active");
    expect(sealedKeyOf(totp)?.keyId).toBe(platformKey?.id);
    expect(await vault().open(PLATFORM_SCOPE, totp, totpSecretBinding(user.id))).toBe("JBSWY3DPEHPK3PXP");
    const scope = communityScope(community.communityId);
    const sealed = await sealedWebhookSecret(webhook.id);
    expect(sealedKeyOf(sealed)?.keyId).toBe((await keysOf(scope))[0]?.id);
    expect(await vault().open(scope, sealed, webhookBinding)).toBe(webhook.secret);
    const signed = await postSignal(webhook.path, { text: "BUY MSFT @ 150" }, { signWith: webhook.secret });
    expect(signed.status).toBe(202);
    // Nothing is left under the master key alone, so the next run has nothing to move.
    expect((await rotateDataKeys(db, TEST_VARS, rootLogger, Date.now())).migrated).toBe(0);
  });

  it("Scenario: The daily cron rotates a 90-day-old data key and re-seals the community's secrets", async () => {
    const community = await communityWithFollowers(1);
    const webhook = await createWebhook(community.communityId, community.providerId);
    const scope = communityScope(community.communityId);
    const [first] = await keysOf(scope);
    expect(sealedKeyOf(await sealedWebhookSecret(webhook.id))?.keyId).toBe(first?.id);

    // 89 days on, nothing is due.
    const early = await rotateDataKeys(db, TEST_VARS, rootLogger, (first?.created_at ?? 0) + 89 * DAY);
    expect(early).toMatchObject({ configured: true, failed: 0, overdue: 0 });
    expect((await keysOf(scope)).map((key) => key.state)).toEqual(["active"]);

    const scheduledTime = (first?.created_at ?? 0) + DATA_KEY_ROTATE_AFTER_MS;
    const logs = await logsDuring(async () => {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ cron: "0 2 * * *", scheduledTime }), env, ctx);
      await waitOnExecutionContext(ctx);
    });
    const finished = logs.find((line) => line.msg === "cron.job_finished" && line.job === "rotate_data_keys");
    expect(finished).toMatchObject({ configured: true, failed: 0, unreadable: 0 });
    expect(logs.some((line) => line.msg === "cron.job_failed")).toBe(false);

    const keys = await keysOf(scope);
    expect(keys.map((key) => key.state)).toEqual(["retired", "active"]);
    const sealed = await sealedWebhookSecret(webhook.id);
    expect(sealedKeyOf(sealed)?.keyId).toBe(keys[1]?.id);
    expect(await vault().open(scope, sealed, secretBinding(community.communityId, webhook.id))).toBe(webhook.secret);

    // The rotation is in the community's audit log, without any key material.
    const audit = await env.DB.prepare(
      "SELECT actor_id, target, data FROM audit_log WHERE community_id = ? AND event = 'auth.key_rotated'",
    )
      .bind(community.communityId)
      .all<{ actor_id: string | null; target: string; data: string }>();
    expect(audit.results).toHaveLength(1);
    expect(audit.results[0]?.target).toBe(keys[1]?.id);
    expect(JSON.parse(audit.results[0]?.data ?? "{}")).toEqual({
      previousKeyId: keys[0]?.id,
      keyId: keys[1]?.id,
      ageDays: 90,
      resealed: 1,
      unreadable: 0,
    });

    // The provider's signing sender notices nothing: the same secret still signs.
    fakeDiscordApi();
    const signed = await postSignal(webhook.path, { text: "BUY AAPL @ 150" }, { signWith: webhook.secret });
    expect(signed.status).toBe(202);

    // A second run the same day rotates nothing more.
    const again = await rotateDataKeys(db, TEST_VARS, rootLogger, scheduledTime);
    expect((await keysOf(scope)).map((key) => key.state)).toEqual(["retired", "active"]);
    expect(again.failed).toBe(0);
  });

  it("Scenario: A data key past 120 days seals nothing more and raises an alert, but still opens", async () => {
    const scope = communityScope(crypto.randomUUID());
    const sealed = await vault().seal(scope, "old-secret", "row:1");
    const later = () => Date.now() + DATA_KEY_SEAL_LIMIT_MS + DAY;

    let refusal: unknown;
    const logs = await logsDuring(async () => {
      refusal = await vault(later)
        .seal(scope, "new-secret", "row:2")
        .catch((error: unknown) => error);
    });
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ status: 503, code: "DATA_KEY_EXPIRED" });
    expect(logs).toContainEqual(
      expect.objectContaining({ level: "error", msg: "vault.data_key_expired", alert: true, scope, ageDays: 121 }),
    );
    expect(JSON.stringify(logs)).not.toContain("old-secret");
    expect(await vault(later).open(scope, sealed, "row:1")).toBe("old-secret");
  });

  it("Scenario: After a master key rotation the cron re-wraps every data key under the new master key", async () => {
    const scope = communityScope(crypto.randomUUID());
    const sealed = await vault().seal(scope, "kept-secret", "row:1");
    const rotatedConfig = {
      MASTER_KEY: OTHER_MASTER_KEY,
      MASTER_KEY_ID: "test-2",
      MASTER_KEYS_RETIRED: { [TEST_VARS.MASTER_KEY_ID]: TEST_VARS.MASTER_KEY },
    };
    const summary = await rotateDataKeys(db, rotatedConfig, rootLogger, Date.now());
    expect(summary.rewrapped).toBeGreaterThanOrEqual(1);
    expect(summary.failed).toBe(0);
    const [key] = await keysOf(scope);
    expect(key?.master_key_id).toBe("test-2");
    expect(key?.wrapped_key).toMatch(/^v1\.test-2\./);
    // The old master key can now be dropped: the data key, and so the secret, open under the new one alone.
    const unwrapped = unwrapDataKey(key?.wrapped_key ?? "", scope, key?.id ?? "", masterKeyring(rotatedConfig));
    const newOnly = unwrapDataKey(
      key?.wrapped_key ?? "",
      scope,
      key?.id ?? "",
      masterKeyring({ MASTER_KEY: OTHER_MASTER_KEY, MASTER_KEY_ID: "test-2" }),
    );
    expect(newOnly.bytes).toEqual(unwrapped.bytes);
    expect(openUnderDataKey(sealed, newOnly, "row:1")).toBe("kept-secret");

    // A key wrapped under a master key that is no longer configured at all is an alert, never a silent loss.
    const lost = { MASTER_KEY: TEST_VARS.MASTER_KEY, MASTER_KEY_ID: "test-3" };
    const logs = await logsDuring(() => rotateDataKeys(db, lost, rootLogger, Date.now()));
    expect(logs).toContainEqual(
      expect.objectContaining({ level: "error", msg: "vault.rewrap_failed", alert: true, scope }),
    );
    expect((await keysOf(scope))[0]?.master_key_id).toBe("test-2");
  });

  it("Scenario: A purged community's data keys are deleted and what they sealed never opens again", async () => {
    fakeDiscordApi();
    const community = await communityWithFollowers(1);
    const webhook = await createWebhook(community.communityId, community.providerId);
    const scope = communityScope(community.communityId);
    const sealed = await sealedWebhookSecret(webhook.id);
    const binding = secretBinding(community.communityId, webhook.id);
    expect(await vault().open(scope, sealed, binding)).toBe(webhook.secret);

    const deleted = await call(`/api/v1/communities/${community.communityId}`, {
      method: "DELETE",
      headers: opsHeaders(),
    });
    expect(deleted.status).toBe(200);
    const deletedAt = (await community.tenant.community.get())?.deletedAt ?? 0;
    // Within the 30 days the community can be restored: its keys stay.
    expect(await keysOf(scope)).toHaveLength(1);
    await runHousekeeping(env, rootLogger, deletedAt + COMMUNITY_DATA_RETENTION_MS);
    expect(await keysOf(scope)).toEqual([]);
    await expect(vault().open(scope, sealed, binding)).rejects.toThrow(SealedSecretError);
  });

  it("Scenario: The platform metrics show the data keys' ages and what the rotation has left", async () => {
    interface VaultMetrics {
      configured: boolean;
      masterKeyId: string | null;
      activeKeys: number;
      retiredKeys: number;
      oldestActiveAgeDays: number | null;
      dueForRotation: number;
      pastSealLimit: number;
      wrappedUnderOtherMasterKeys: number;
    }
    const vaultMetrics = async () => {
      const res = await call("/api/v1/ops/metrics", { headers: opsHeaders() });
      expect(res.status).toBe(200);
      return ((await res.json()) as { vault: VaultMetrics }).vault;
    };
    const before = await vaultMetrics();
    expect(before).toMatchObject({ configured: true, masterKeyId: TEST_VARS.MASTER_KEY_ID });

    const scope = communityScope(crypto.randomUUID());
    await vault().seal(scope, "a-secret", "row:1");
    const created = await vaultMetrics();
    expect(created.activeKeys).toBe(before.activeKeys + 1);
    expect(created.oldestActiveAgeDays).not.toBeNull();

    const age = (days: number) =>
      env.DB.prepare("UPDATE data_keys SET created_at = ? WHERE scope = ?")
        .bind(Date.now() - days * DAY, scope)
        .run();
    await age(91);
    const due = await vaultMetrics();
    expect(due.dueForRotation).toBe(before.dueForRotation + 1);
    expect(due.pastSealLimit).toBe(before.pastSealLimit);
    await age(121);
    const expired = await vaultMetrics();
    expect(expired.pastSealLimit).toBe(before.pastSealLimit + 1);
    expect(expired.oldestActiveAgeDays).toBeGreaterThanOrEqual(121);

    // The daily job rotates it: one more retired key, nothing due or expired of it any more.
    await rotateDataKeys(db, TEST_VARS, rootLogger, Date.now());
    const rotated = await vaultMetrics();
    expect(rotated.retiredKeys).toBeGreaterThanOrEqual(before.retiredKeys + 1);
    expect(rotated.dueForRotation).toBe(0);
    expect(rotated.pastSealLimit).toBe(0);
    expect(rotated.wrappedUnderOtherMasterKeys).toBe(before.wrappedUnderOtherMasterKeys);
  });
});
