import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type OrderFlowContext, sendQueuedOrder } from "../../durable-objects/executor/order-flow";
import { breakerStates } from "../../platform/execution/broker-breakers";
import { brokerGuard } from "../../platform/execution/broker-guard";
import { hubEventSink } from "../../platform/execution/event-sink";
import { AlpacaAdapter } from "../../shared/brokers/alpaca";
import type { NewOrder, OrderRow } from "../../shared/execution/orders";
import type { OrderSubmissionOutcome } from "../../shared/execution/outcomes";
import { rootLogger } from "../../shared/logging";
import { backoffDelayMs } from "../../shared/orders/backoff";
import { clientOrderId } from "../../shared/orders/client-order-id";
import { isTerminal, type OrderStatus } from "../../shared/orders/state-machine";
import { addFollowersInBulk, communityWithFollowers, type TestCommunity } from "../../tests/support/execution";
import { FakeAlpaca } from "../../tests/support/fake-alpaca";
import {
  benchVar,
  emitFigures,
  latencyFigures,
  muteEngineLogsDuringRun,
  progress,
  seededRandom,
  sleep,
} from "./support/bench";

/**
 * Benchmark 3 of issue 7: 1,000 live market orders through the engine's
 * `sendQueuedOrder` and the real AlpacaAdapter, against a fake Alpaca at the
 * HTTP boundary that fails 30% of calls with 503, 10% with a timeout after
 * accepting the order, and 5% with 429 + Retry-After. The queue is simulated:
 * an order whose outcome is `retry` is delivered again with attempt + 1 (its
 * delay is recorded, not waited, except a circuit-breaker hold, whose clock is
 * real), up to wrangler.toml's max_retries, then dead-lettered as
 * `orderDeadLettered` does (queued → failed). Counted at the fake broker by
 * client order id: placements (must be ≤ 1), resends it deduplicated, lookups.
 */

const SEED = Number(benchVar("BENCH_SEED", "1"));
const ORDERS = Number(benchVar("BENCH_STORM_ORDERS", "1000"));
const CONCURRENCY = Number(benchVar("BENCH_STORM_CONCURRENCY", "50"));
/** wrangler.toml: [[queues.consumers]] order-submissions max_retries. Attempts = 1 + retries. */
const MAX_RETRIES = 10;
const FAULTS = { "5xx": 0.3, timeout_after_accept: 0.1, "429": 0.05 } as const;
const ADAPTER_TIMEOUT_MS = 200;
const HANG_MS = 400;
const RETRY_AFTER_SECONDS = 2;

muteEngineLogsDuringRun();

/** What the fake broker saw per client order id. */
interface BrokerTally {
  posts: number;
  /** Placements sent for an id the broker already had (answered 422 and looked up, never a second order). */
  resendsDeduplicated: number;
  lookups: number;
}

function instrumented(broker: FakeAlpaca) {
  const tally = new Map<string, BrokerTally>();
  const of = (id: string) => {
    let entry = tally.get(id);
    if (!entry) {
      entry = { posts: 0, resendsDeduplicated: 0, lookups: 0 };
      tally.set(id, entry);
    }
    return entry;
  };
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    if (method === "POST" && url.pathname === "/v2/orders" && typeof init?.body === "string") {
      const id = String((JSON.parse(init.body) as { client_order_id?: string }).client_order_id ?? "");
      const entry = of(id);
      entry.posts += 1;
      if (broker.orders.has(id)) entry.resendsDeduplicated += 1;
    } else if (url.pathname === "/v2/orders:by_client_order_id") {
      of(url.searchParams.get("client_order_id") ?? "").lookups += 1;
    }
    return broker.fetch(input, init);
  };
  return { tally, fetch };
}

async function liveOrders(community: TestCommunity): Promise<NewOrder[]> {
  return Promise.all(
    community.followerIds.map(async (userId, i) => {
      const id = crypto.randomUUID();
      return {
        id,
        signalId: null,
        userId,
        accountRef: `alpaca-${i}`,
        broker: "alpaca" as const,
        clientOrderId: await clientOrderId({
          communityId: community.communityId,
          signalId: id,
          followerId: userId,
          leg: "entry",
        }),
        leg: "entry",
        parentOrderId: null,
        symbol: "AAPL",
        assetClass: "equity" as const,
        intent: {
          leg: "entry",
          side: "buy",
          positionEffect: "open",
          assetClass: "equity",
          symbol: "AAPL",
          option: null,
          orderType: "market",
          quantity: 10,
          limitPrice: null,
          stopPrice: null,
          timeInForce: "day",
          nativeBracket: false,
          placeAfterFill: false,
          exits: [],
        },
        side: "buy" as const,
        orderType: "market" as const,
        quantity: 10,
        limitPrice: null,
        stopPrice: null,
        cause: "signal",
      };
    }),
  );
}

interface StormResult {
  seed: number;
  wallMs: number;
  statuses: Record<string, number>;
  attempts: number[];
  retryDelaysSeconds: number[];
  retryReasons: Record<string, number>;
  heldByBreaker: number;
  breakerWaitMs: number;
  thrown: number;
  deadLettered: number;
  /** Dead-lettered orders that had spent at least one attempt waiting out a breaker hold. */
  deadLetteredAfterHolds: number;
  notices: number;
}

async function storm(seed: number, guarded: boolean) {
  const community = await communityWithFollowers(0);
  await addFollowersInBulk(community, ORDERS);
  const broker = new FakeAlpaca({
    random: FAULTS,
    hangMs: HANG_MS,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    rng: seededRandom(seed),
  });
  const { tally, fetch } = instrumented(broker);
  const adapter = new AlpacaAdapter({
    baseUrl: "https://paper-api.alpaca.markets",
    credentials: { kind: "api_key", keyId: "PKBENCH", secretKey: "bench-secret" },
    fetch,
    timeoutMs: ADAPTER_TIMEOUT_MS,
  });
  const orders = await liveOrders(community);
  await community.tenant.execution.insertOrders(orders);
  const accountOf = new Map(orders.map((o) => [o.id, o.accountRef]));

  const result: StormResult = {
    seed,
    wallMs: 0,
    statuses: {},
    attempts: [],
    retryDelaysSeconds: [],
    retryReasons: {},
    heldByBreaker: 0,
    breakerWaitMs: 0,
    thrown: 0,
    deadLettered: 0,
    deadLetteredAfterHolds: 0,
    notices: 0,
  };
  const sink = hubEventSink({ env, logger: rootLogger });
  const flowFor = (order: OrderRow): OrderFlowContext => ({
    communityId: community.communityId,
    tenant: community.tenant,
    adapter,
    guard: guarded
      ? brokerGuard(env, "alpaca", accountOf.get(order.id) ?? order.accountRef, adapter.capabilities)
      : null,
    logger: rootLogger,
    sink,
    release: () => {},
    track: () => {},
    untrack: () => {},
    enqueue: async () => {},
    notifyMember: async () => {
      result.notices += 1;
    },
    now: () => Date.now(),
  });

  // The queue: deliveries waiting, and a count of those in a consumer or waiting out a breaker hold.
  const deliveries: { orderId: string; attempt: number }[] = orders.map((o) => ({ orderId: o.id, attempt: 1 }));
  let busy = 0;
  const holds = new Set<string>();
  const deliver = async ({ orderId, attempt }: { orderId: string; attempt: number }) => {
    const order = await community.tenant.execution.getOrder(orderId);
    if (!order) throw new Error(`order ${orderId} vanished`);
    // As CommunityExecutor.submitOrder: a delivery for an order no longer queued is acknowledged.
    if (order.status !== "queued") return;
    let outcome: OrderSubmissionOutcome;
    try {
      outcome = await sendQueuedOrder(flowFor(order), order, attempt);
    } catch (error) {
      // As the consumer: an exception is retried with backoff.
      result.thrown += 1;
      outcome = {
        outcome: "retry",
        delaySeconds: Math.ceil(backoffDelayMs(attempt, {}) / 1000),
        reason: String((error as Error)?.message ?? error),
      };
    }
    if (outcome.outcome === "done") {
      result.attempts.push(attempt);
      return;
    }
    result.retryDelaysSeconds.push(outcome.delaySeconds);
    const reason = outcome.reason === "circuit_open" || outcome.reason === "throttled" ? outcome.reason : "broker";
    result.retryReasons[reason] = (result.retryReasons[reason] ?? 0) + 1;
    if (attempt >= MAX_RETRIES + 1) {
      // The DLQ consumer's path for an order (CommunityExecutor.orderDeadLettered): queued → failed.
      const failed = await community.tenant.execution.transition(orderId, {
        from: ["queued"],
        to: "failed",
        cause: "dead_lettered",
        data: { lastError: outcome.reason },
        patch: { statusReason: outcome.reason },
      });
      if (failed) {
        result.deadLettered += 1;
        if (holds.has(orderId)) result.deadLetteredAfterHolds += 1;
      }
      result.attempts.push(attempt);
      return;
    }
    if (reason === "broker") {
      deliveries.push({ orderId, attempt: attempt + 1 });
      return;
    }
    // A breaker (or throttle) hold: its clock is real, so the redelivery really waits.
    result.heldByBreaker += 1;
    holds.add(orderId);
    result.breakerWaitMs += outcome.delaySeconds * 1000;
    busy += 1;
    setTimeout(() => {
      deliveries.push({ orderId, attempt: attempt + 1 });
      busy -= 1;
    }, outcome.delaySeconds * 1000);
  };

  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (deliveries.length > 0 || busy > 0) {
        const next = deliveries.shift();
        if (!next) {
          await sleep(20);
          continue;
        }
        busy += 1;
        try {
          await deliver(next);
        } finally {
          busy -= 1;
        }
      }
    }),
  );
  result.wallMs = Date.now() - started;

  const final = await finalOrders(community.communityId);
  for (const order of final) result.statuses[order.status] = (result.statuses[order.status] ?? 0) + 1;
  const atBroker = (o: FinalOrder) => broker.orders.has(o.clientOrderId);
  const placements = [...broker.placements.values()];
  const tallies = [...tally.values()];
  const lost = final.filter((o) => !isTerminal(o.status)).length + (orders.length - final.length);
  return {
    community,
    breaker: guarded ? (await breakerStates(env)).find((b) => b.broker === "alpaca")?.state : undefined,
    figures: {
      seed,
      orders: orders.length,
      concurrency: CONCURRENCY,
      wallMs: result.wallMs,
      statuses: result.statuses,
      lost,
      placedTwice: placements.filter((n) => n > 1).length,
      maxPlacementsPerClientId: Math.max(0, ...placements),
      // Our record and the broker's must agree: a failed or rejected order the broker has would be a lost position.
      failedOrRejectedButAtBroker: final.filter(
        (o) => (o.status === "failed" || o.status === "rejected") && atBroker(o),
      ).length,
      filledButNotAtBroker: final.filter((o) => o.status === "filled" && !atBroker(o)).length,
      attempts: {
        mean: Math.round((result.attempts.reduce((s, a) => s + a, 0) / (result.attempts.length || 1)) * 100) / 100,
        max: Math.max(0, ...result.attempts),
        histogram: histogram(result.attempts),
      },
      needingLookup: tallies.filter((t) => t.lookups > 0).length,
      lookups: tallies.reduce((s, t) => s + t.lookups, 0),
      resendsDeduplicatedByBroker: tallies.reduce((s, t) => s + t.resendsDeduplicated, 0),
      brokerCalls: broker.calls.length,
      deadLettered: result.deadLettered,
      thrown: result.thrown,
      retries: result.retryDelaysSeconds.length,
      retryReasons: result.retryReasons,
      retryDelaySeconds: {
        sum: result.retryDelaysSeconds.reduce((s, d) => s + d, 0),
        max: Math.max(0, ...result.retryDelaysSeconds),
        ...pick(latencyFigures(result.retryDelaysSeconds.map((d) => d * 1000)), ["p50Ms", "p99Ms"]),
      },
      notices: result.notices,
      ...(guarded
        ? {
            heldByBreaker: result.heldByBreaker,
            ordersHeld: holds.size,
            deadLetteredAfterHolds: result.deadLetteredAfterHolds,
            breakerWaitSeconds: Math.round(result.breakerWaitMs / 1000),
          }
        : {}),
    },
  };
}

interface FinalOrder {
  id: string;
  status: OrderStatus;
  clientOrderId: string;
}

/** Every order of the storm's community, in one query. */
async function finalOrders(communityId: string): Promise<FinalOrder[]> {
  const { results } = await env.DB.prepare(
    "select id, status, client_order_id as clientOrderId from orders where community_id = ?",
  )
    .bind(communityId)
    .all<FinalOrder>();
  return results;
}

function histogram(values: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}

function pick<T extends object, K extends keyof T>(value: T, keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, value[k]])) as Pick<T, K>;
}

describe("broker fault storm", () => {
  it("sends every order exactly once through a failing broker", async () => {
    const { figures } = await storm(SEED, false);
    progress(`fault storm: ${JSON.stringify(figures)}`);
    emitFigures("faultStorm", { faults: FAULTS, adapterTimeoutMs: ADAPTER_TIMEOUT_MS, hangMs: HANG_MS, ...figures });
    expect(figures.lost).toBe(0);
    expect(figures.placedTwice).toBe(0);
  });

  it("holds sends back while the circuit breaker is open", async () => {
    const { figures, breaker } = await storm(SEED + 1, true);
    progress(`fault storm with breaker: ${JSON.stringify(figures)} breaker ${JSON.stringify(breaker)}`);
    emitFigures("faultStormBreaker", {
      faults: FAULTS,
      adapterTimeoutMs: ADAPTER_TIMEOUT_MS,
      hangMs: HANG_MS,
      ...figures,
      breakerTrips: breaker?.trips ?? null,
      breakerPhaseAtEnd: breaker?.phase ?? null,
    });
    expect(figures.lost).toBe(0);
    expect(figures.placedTwice).toBe(0);
  });
});
