import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../platform/db/client";
import { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import { setUpCommunity, snowflake } from "../../tests/support/discord";
import { fakeDiscord } from "../../tests/support/fake-discord";
import { createWebhook, postSignal, type TestWebhook } from "../../tests/support/signal-webhooks";
import {
  benchTicker,
  benchVar,
  emitFigures,
  latencyFigures,
  muteEngineLogsDuringRun,
  type ProfiledSpan,
  profileEnds,
  profileStarts,
  progress,
  quietOrders,
} from "./support/bench";
import { autoFollowers, roomForEveryCopy } from "./support/intake-community";

/**
 * Webhook signal to `signal.accepted` (issue 16), inside workerd: a provider's
 * alert as TradingView sends it (TradersPost JSON with `time`) posted to
 * `POST /webhooks/signals/:providerKey` through the Worker's entry module, one
 * at a time, with no wrangler dev proxy or Node HTTP server in the path. The
 * 202 is written after the executor stored the signal as accepted and
 * published `signal.accepted`, so the round trip bounds that time from above;
 * the signal row's own clock splits it. D1, the executor, the queues and the
 * paper followers are real. Like the message intake bench, each alert waits
 * until the last one's orders stop changing: in production the queue
 * consumers run in their own invocations, not on the intake's cores.
 */

const SIGNALS = Number(benchVar("BENCH_WEBHOOK_SIGNALS", "200"));
const FOLLOWERS = Number(benchVar("BENCH_WEBHOOK_FOLLOWERS", "10"));
/** 1: each alert carries `x-signature`, so the Worker opens the signing secret through the credential vault. */
const SIGNED = benchVar("BENCH_WEBHOOK_SIGNED", "0") === "1";
const WARM_UP = 10;
/** A webhook takes 60 alerts a minute: the alerts go round several providers' webhooks to stay inside it. */
const ALERTS_PER_WEBHOOK = 50;

muteEngineLogsDuringRun();

describe("webhook signal", () => {
  it("takes a provider's alerts from the webhook to signal.accepted", async () => {
    const db = database(env.DB);
    const community = await setUpCommunity({ aroundTheClock: true });
    await roomForEveryCopy(community.communityId);
    const tenant = forCommunity(db, community.communityId);
    // Members' notices go to the fake Discord API instead of retrying into the dead-letter queue.
    await fakeDiscord();
    const webhooks: TestWebhook[] = [];
    for (let p = 0; p < Math.ceil((WARM_UP + SIGNALS) / ALERTS_PER_WEBHOOK); p++) {
      const provider = await upsertUser(db, { discordId: snowflake(), username: `provider-${p}` });
      await tenant.memberships.upsert(provider.id, "provider");
      await autoFollowers(db, tenant, provider.id, FOLLOWERS, String(p));
      webhooks.push(await createWebhook(community.communityId, provider.id));
    }

    const roundTrip: number[] = [];
    const toStored: number[] = [];
    const storedToAccepted: number[] = [];
    const outcomes: Record<string, number> = {};
    /** Orders the measured alerts queued: a run whose copies were all skipped measured the skip path, not this one. */
    let ordersQueued = 0;
    const spans: ProfiledSpan[] = [];
    /** Every measured alert, for the slowest few: when in the run they came and which half was slow. */
    const alerts: {
      alert: number;
      atS: number;
      roundTripMs: number;
      toStoredMs: number;
      storedToAcceptedMs: number;
    }[] = [];
    let measuredFrom = 0;
    for (let n = 0; n < WARM_UP + SIGNALS; n++) {
      const webhook = webhooks[n % webhooks.length] as TestWebhook;
      const sent = Date.now();
      const res = await postSignal(
        webhook.path,
        {
          ticker: benchTicker("W", n),
          action: "buy",
          quantity: 1,
          // A limit buy (a bare `price` is a market order, sized at the paper quote, where 110 is no target).
          orderType: "limit",
          limitPrice: 100,
          stopLoss: { type: "stop", stopPrice: 95 },
          takeProfit: { limitPrice: 110 },
          time: new Date(sent).toISOString(),
        },
        SIGNED ? { signWith: webhook.secret } : {},
      );
      const answer = (await res.json()) as { signalId?: string; status?: string };
      const answered = Date.now();
      if (n < WARM_UP) {
        await quietOrders(community.communityId);
        if (n === WARM_UP - 1) await profileStarts();
        measuredFrom = Date.now();
        continue;
      }
      const outcome = `${res.status} ${answer.status ?? "(none)"}`;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      const signal = await env.DB.prepare("select status, created_at, updated_at from signals where id = ?")
        .bind(answer.signalId ?? "")
        .first<{ status: string; created_at: number; updated_at: number }>();
      if (res.status === 202 && signal?.status === "accepted") {
        roundTrip.push(answered - sent);
        toStored.push(signal.created_at - sent);
        spans.push({
          label: `alert ${n - WARM_UP} (stored after ${signal.created_at - sent} ms)`,
          from: sent,
          to: answered,
        });
        storedToAccepted.push(signal.updated_at - signal.created_at);
        alerts.push({
          alert: n - WARM_UP,
          atS: Math.round((sent - measuredFrom) / 100) / 10,
          roundTripMs: answered - sent,
          toStoredMs: signal.created_at - sent,
          storedToAcceptedMs: signal.updated_at - signal.created_at,
        });
        const orders = await env.DB.prepare("select count(*) as n from orders where signal_id = ?")
          .bind(answer.signalId ?? "")
          .first<{ n: number }>();
        ordersQueued += orders?.n ?? 0;
      }
      if ((n - WARM_UP + 1) % 50 === 0) progress(`webhook signal: ${n - WARM_UP + 1}/${SIGNALS}`);
      await quietOrders(community.communityId);
    }

    await profileEnds(spans);
    emitFigures("webhookSignal", {
      target: { p99Ms: 50 },
      measuredFrom: "the alert handed to the Worker's entry module (POST /webhooks/signals/:providerKey)",
      measuredTo: "the 202 read back, written after the executor stored the signal as accepted and published it",
      signals: SIGNALS,
      followers: FOLLOWERS,
      signed: SIGNED,
      webhooks: webhooks.length,
      outcomes,
      ordersQueued,
      roundTrip: latencyFigures(roundTrip),
      // The two halves: the Worker's side (key, budget, reading, the signal stored) and the executor's.
      sentToStored: latencyFigures(toStored),
      storedToAccepted: latencyFigures(storedToAccepted),
      // The p99 of 200 alerts is the second slowest: these show whether a few stalls or the whole tail set it.
      slowest: [...alerts].sort((a, b) => b.roundTripMs - a.roundTripMs).slice(0, 5),
    });
    expect(outcomes["202 accepted"]).toBe(SIGNALS);
    expect(ordersQueued).toBe(SIGNALS * FOLLOWERS);
  });
});
