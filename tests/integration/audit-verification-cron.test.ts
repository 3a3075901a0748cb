import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import worker from "../../workers/app";
import { asAttacker, tamperSql } from "../support/audit-tamper";
import { communityWithEntries } from "../support/communities";
import { logsDuring } from "../support/logs";

const db = database(env.DB);

afterEach(() => vi.restoreAllMocks());

describe("daily audit chain verification", () => {
  it("Scenario: The daily job verifies every community's chain and alerts on a break", async () => {
    const intact = [(await communityWithEntries(3)).communityId, (await communityWithEntries(3)).communityId];
    const { communityId: tampered } = await communityWithEntries(3);
    await asAttacker(() =>
      tamperSql(`UPDATE audit_log SET data = '{"attempt":9}' WHERE community_id = ? AND seq = 3`, tampered),
    );

    const logs = await logsDuring(async () => {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ cron: "0 2 * * *", scheduledTime: Date.now() }), env, ctx);
      await waitOnExecutionContext(ctx);
    });

    const alerts = logs.filter((line) => line.msg === "audit.chain_broken");
    expect(alerts).toEqual([
      expect.objectContaining({
        level: "error",
        alert: true,
        communityId: tampered,
        job: "verify_audit_chains",
        brokenAt: { seq: 3, reason: "hash_mismatch" },
      }),
    ]);
    for (const communityId of intact) {
      expect(logs.some((line) => line.communityId === communityId)).toBe(false);
      expect(await forCommunity(db, communityId).audit.verify()).toMatchObject({ ok: true, count: 4 });
    }
    const finished = logs.find((line) => line.msg === "cron.job_finished" && line.job === "verify_audit_chains");
    expect(finished).toMatchObject({ communities: 3, verified: 2, broken: 1, failed: 0, complete: true });
  });
});
