import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { billingContext } from "../../platform/billing/context";
import { configFor } from "../../shared/config";
import { rootLogger } from "../../shared/logging";
import type { NormalizedSignal } from "../../shared/signals/schema";
import { subscriptionReply } from "../../workers/discord/commands/subscription";
import { fakeDiscordApi } from "../support/discord";
import {
  AAPL_LONG,
  communityWithFollowers,
  executorOf,
  settle,
  storedSignal,
  submit,
  type TestCommunity,
} from "../support/execution";
import { interceptOrderQueue } from "../support/order-queue";

const RESTING_BUY = { ...AAPL_LONG, entry: { price: 1 }, stopLoss: null, takeProfits: [] } satisfies NormalizedSignal;

let discord: ReturnType<typeof fakeDiscordApi>;
beforeEach(() => {
  discord = fakeDiscordApi();
});
afterEach(() => discord.restore());

async function signalsLine(community: TestCommunity): Promise<string | undefined> {
  const config = configFor(env);
  if (!config.ok) throw new Error("test config invalid");
  const reply = await subscriptionReply(billingContext(env, config.config, rootLogger), {
    communityId: community.communityId,
    userId: community.providerId,
    showCommunity: true,
  });
  return reply.content.match(/Signals today \d+\/\d+/)?.[0];
}

/** A member's own confirmed /trade, stored and handed over as the Discord side does. */
async function ownTrade(community: TestCommunity, userId: string, symbol: string) {
  const { signalId, signal, sourceId, sourceTimestamp } = await storedSignal(
    community,
    { ...RESTING_BUY, symbol },
    { providerUserId: userId },
  );
  return executorOf(community.communityId).submitManualTrade({
    signalId,
    communityId: community.communityId,
    userId,
    signal,
    sourceId,
    sourceTimestamp,
  });
}

describe("signals per day", () => {
  it("Scenario: The signals-per-day counter counts provider signals only, and /subscription shows it", async () => {
    const community = await communityWithFollowers(1);
    const [member = ""] = community.followerIds;
    await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
      state.storage.sql.exec(
        "insert into counters (day, key, value) values (?, 'signals', 48)",
        new Date().toISOString().slice(0, 10),
      );
    });
    const queue = interceptOrderQueue();
    try {
      expect(await ownTrade(community, member, "MSFT")).toMatchObject({ status: "accepted" });
      expect(await ownTrade(community, member, "NVDA")).toMatchObject({ status: "accepted" });
      expect(await signalsLine(community)).toBe("Signals today 48/50");

      const results = await Promise.all(
        ["AAPL", "AMZN", "GOOG"].map((symbol) => submit(community, { ...RESTING_BUY, symbol })),
      );
      const statuses = results.map((r) => r.summary.status).sort();
      expect(statuses).toEqual(["accepted", "accepted", "refused"]);
      expect(results.find((r) => r.summary.status === "refused")?.summary.code).toBe("SIGNAL_LIMIT_REACHED");
      expect(await signalsLine(community)).toBe("Signals today 50/50");
    } finally {
      queue.restore();
    }
    await settle(community);
  });
});
