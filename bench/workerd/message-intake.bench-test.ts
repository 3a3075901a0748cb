import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import { snowflakeTime } from "../../shared/execution/submit";
import { setUpCommunity, snowflake } from "../../tests/support/discord";
import { fakeDiscord, gatewayOf, messageCreate, testShard, waitForStatus } from "../../tests/support/fake-discord";
import {
  benchTicker,
  benchVar,
  emitFigures,
  latencyFigures,
  muteEngineLogsDuringRun,
  progress,
  quietOrders,
  sleep,
} from "./support/bench";
import { autoFollowers, roomForEveryCopy } from "./support/intake-community";

/**
 * Message intake (issue 16): a provider's signal posted in a signal channel,
 * from the MESSAGE_CREATE frame arriving at the DiscordGateway object (the
 * time its inbox records the dispatch) to `signal.accepted` (the executor
 * stores the signal as accepted, then publishes the event), one message at a
 * time. The object is connected to the fake Discord Gateway; D1, the
 * executor, the queues and the paper followers are real. Each message names
 * its own ticker, so none is a double post or an add to another.
 */

const MESSAGES = Number(benchVar("BENCH_INTAKE_MESSAGES", "200"));
const FOLLOWERS = Number(benchVar("BENCH_INTAKE_FOLLOWERS", "10"));
const WARM_UP = 10;
const POLL_MS = 50;
const MESSAGES_PER_PROVIDER = 50;

muteEngineLogsDuringRun();

describe("message intake", () => {
  it("takes a provider's messages from MESSAGE_CREATE to signal.accepted", async () => {
    const db = database(env.DB);
    const community = await setUpCommunity({ aroundTheClock: true });
    await roomForEveryCopy(community.communityId);
    const tenant = forCommunity(db, community.communityId);
    // One provider per 50 messages, each with their own followers, so a follower's positions stay within the limits.
    const providers: ReturnType<typeof community.provider>[] = [];
    for (let p = 0; p < Math.ceil((WARM_UP + MESSAGES) / MESSAGES_PER_PROVIDER); p++) {
      const provider = community.provider();
      providers.push(provider);
      const providerUser = await upsertUser(db, { discordId: provider.id, username: provider.username });
      await autoFollowers(db, tenant, providerUser.id, FOLLOWERS, String(p));
    }
    const discord = await fakeDiscord();
    const shard = testShard();
    await gatewayOf(shard).start();
    await waitForStatus(shard, (status) => expect(status.connected).toBe(true));

    const toAccepted: number[] = [];
    const toStored: number[] = [];
    const storedToAccepted: number[] = [];
    const observed: number[] = [];
    const statuses: Record<string, number> = {};
    /** Orders the measured messages queued: a run whose copies were all skipped measured the skip path, not this one. */
    let ordersQueued = 0;
    for (let n = 0; n < WARM_UP + MESSAGES; n++) {
      const provider = providers[n % providers.length] as (typeof providers)[number];
      const id = snowflake();
      const sent = Date.now();
      await discord.dispatch(
        "MESSAGE_CREATE",
        messageCreate({
          id,
          channel_id: community.signalChannelId,
          guild_id: community.at.guildId,
          content: `BUY $${benchTicker("Q", n)} 1 @ 100 SL 95 TP 110`,
          timestamp: new Date(snowflakeTime(id)).toISOString(),
          author: { id: provider.id, username: provider.username, discriminator: "0", global_name: null, avatar: null },
          member: { roles: provider.roles, joined_at: "2026-01-01T00:00:00.000000+00:00", deaf: false, mute: false },
        }),
      );
      // Polled coarsely, and in D1 rather than the watcher: the figures come from the objects' own clocks, and a
      // tight poll would compete with the intake it measures.
      let signal: { id: string; status: string; created_at: number; updated_at: number } | null = null;
      for (let waited = 0; waited < 30_000; waited += POLL_MS) {
        await sleep(POLL_MS);
        signal = await env.DB.prepare(
          "select id, status, created_at, updated_at from signals where community_id = ? and source_id = ?",
        )
          .bind(community.communityId, id)
          .first<{ id: string; status: string; created_at: number; updated_at: number }>();
        if (signal && signal.status !== "received") break;
      }
      const seen = Date.now();
      const dispatch = (await gatewayOf(shard).status()).dispatches.recent.find((d) => d.subjectId === id);
      const receivedAt = dispatch?.receivedAt ?? null;
      const status = signal?.status ?? "missing";
      if (n < WARM_UP) continue;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === "accepted" && signal && receivedAt !== null) {
        toAccepted.push(signal.updated_at - receivedAt);
        toStored.push(signal.created_at - receivedAt);
        storedToAccepted.push(signal.updated_at - signal.created_at);
        observed.push(seen - sent);
        const orders = await env.DB.prepare("select count(*) as n from orders where signal_id = ?")
          .bind(signal.id)
          .first<{ n: number }>();
        ordersQueued += orders?.n ?? 0;
      }
      if ((n - WARM_UP + 1) % 50 === 0) progress(`message intake: ${n - WARM_UP + 1}/${MESSAGES}`);
      await quietOrders(community.communityId);
    }
    await gatewayOf(shard).stop("bench finished");

    const figures = latencyFigures(toAccepted);
    emitFigures("messageIntake", {
      target: { p99Ms: 50 },
      measuredFrom: "the MESSAGE_CREATE frame recorded by the DiscordGateway object's inbox",
      measuredTo: "the signal stored as accepted by the executor, just before it publishes signal.accepted",
      messages: MESSAGES,
      followers: FOLLOWERS,
      providers: providers.length,
      statuses,
      ordersQueued,
      receivedToAccepted: figures,
      // The two halves: the watcher's side (who posted where, the signal stored) and the executor's (gates, fan-out).
      receivedToStored: latencyFigures(toStored),
      storedToAccepted: latencyFigures(storedToAccepted),
      sendToAcceptedObserved: latencyFigures(observed),
    });
    expect(statuses.accepted).toBe(MESSAGES);
    expect(ordersQueued).toBe(MESSAGES * FOLLOWERS);
  });
});
