import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { database } from "../../platform/db/client";
import type { FollowInput } from "../../platform/db/tenant/follows";
import type { forCommunity } from "../../platform/db/tenant/for-community";
import { upsertUser } from "../../platform/db/users";
import { executorFor } from "../../platform/objects";
import type { SubmitSignalInput } from "../../shared/execution/submit";
import type { NormalizedSignal } from "../../shared/signals/schema";
import { newCommunity } from "./communities";
import { snowflake } from "./discord";
import { runBatch } from "./queues";
import { AROUND_THE_CLOCK, setCommunityRiskDefaults } from "./risk-defaults";

export const db = database(env.DB);

export interface TestCommunity {
  communityId: string;
  providerId: string;
  followerIds: string[];
  tenant: ReturnType<typeof forCommunity>;
}

/** A community with one provider and `followers` members following them (auto mode, default sizing). */
export async function communityWithFollowers(
  followers: number,
  follow: Partial<Omit<FollowInput, "followerUserId" | "providerUserId">> = {},
  riskDefaults: Record<string, unknown> = AROUND_THE_CLOCK,
): Promise<TestCommunity> {
  const { communityId, tenant } = await newCommunity();
  await setCommunityRiskDefaults(communityId, riskDefaults);
  const provider = await upsertUser(db, { discordId: snowflake(), username: "provider" });
  await tenant.memberships.upsert(provider.id, "provider");
  const followerIds: string[] = [];
  for (let i = 0; i < followers; i++) {
    const user = await upsertUser(db, { discordId: snowflake(), username: `follower-${i}` });
    await tenant.memberships.upsert(user.id, "trader");
    await tenant.follows.upsert({
      followerUserId: user.id,
      providerUserId: provider.id,
      sizingMode: null,
      amount: null,
      mode: "auto",
      ...follow,
    });
    followerIds.push(user.id);
  }
  return { communityId, providerId: provider.id, followerIds, tenant };
}

export function executorOf(communityId: string) {
  return executorFor(env, communityId);
}

export const AAPL_LONG: NormalizedSignal = {
  action: "buy",
  assetClass: "equity",
  symbol: "AAPL",
  option: null,
  orderType: "limit",
  entry: { price: 190 },
  quantity: 10,
  quantityPercent: null,
  stopLoss: 185,
  takeProfits: [{ price: 195, percent: null }],
  leverage: null,
  timeInForce: null,
};

/** AAPL_LONG at market, without stop or targets: the paper broker fills it, then the engine adds the default exits. */
export const AAPL_MARKET_BUY: NormalizedSignal = {
  ...AAPL_LONG,
  orderType: "market",
  entry: null,
  stopLoss: null,
  takeProfits: [],
};

/** The provider closes the whole AAPL position at market; override action, quantity or percent for partial exits. */
export const AAPL_SELL_ALL: NormalizedSignal = {
  ...AAPL_MARKET_BUY,
  action: "sell",
  quantity: null,
  quantityPercent: null,
};

/** Stores a signal as a provider's slash command would, and returns the executor's input for it. */
export async function storedSignal(
  community: TestCommunity,
  signal: NormalizedSignal = AAPL_LONG,
  source: Partial<Pick<SubmitSignalInput, "sourceId" | "sourceTimestamp" | "providerUserId">> = {},
): Promise<SubmitSignalInput> {
  const sourceId = source.sourceId ?? snowflake(source.sourceTimestamp);
  const sourceTimestamp = source.sourceTimestamp ?? Date.now();
  const providerUserId = source.providerUserId ?? community.providerId;
  const { signal: row } = await community.tenant.signals.store({
    providerUserId,
    source: "slash",
    sourceId,
    sourceTimestamp,
    channelId: null,
    rawText: null,
    normalized: signal,
  });
  return {
    signalId: row.id,
    communityId: community.communityId,
    providerUserId,
    signal,
    source: "slash",
    sourceId,
    sourceTimestamp,
  };
}

/** Stores a signal as a provider's slash command would, and submits it to the executor. */
export async function submit(
  community: TestCommunity,
  signal: NormalizedSignal = AAPL_LONG,
  source: Partial<Pick<SubmitSignalInput, "sourceId" | "sourceTimestamp" | "providerUserId">> = {},
) {
  const input = await storedSignal(community, signal, source);
  const summary = await executorOf(community.communityId).submitSignal(input);
  return { summary, signalId: input.signalId, sourceId: input.sourceId };
}

/** Delivers messages to a queue consumer, as the Queues runtime would, and answers its verdict (`runBatch`'s result). */
export async function deliver(queue: string, bodies: unknown[], attempts = 1) {
  return (await runBatch(queue, bodies, { attempts })).result;
}

/** Order submission messages for every queued order of a community (what the executor sent). */
export async function queuedMessages(community: Pick<TestCommunity, "communityId" | "tenant">) {
  const queued = await community.tenant.execution.listOrders({ status: "queued", limit: 1000 });
  return queued.map((o) => ({ communityId: community.communityId, orderId: o.id, clientOrderId: o.clientOrderId }));
}

/**
 * Waits until the community's orders stop changing (the real queue delivers
 * engine-placed exits a moment later), then clears the executor's alarm so
 * nothing runs after the test.
 */
export async function settle(
  community: Pick<TestCommunity, "communityId" | "tenant"> & Partial<TestCommunity>,
  quietMs = 300,
  maxMs = 5000,
) {
  const started = Date.now();
  let last = "";
  let stableSince = Date.now();
  while (Date.now() - started < maxMs) {
    const snapshot = JSON.stringify(
      (await community.tenant.execution.listOrders({ limit: 1000 })).map((o) => [o.id, o.status, o.filledQuantity]),
    );
    if (snapshot !== last) {
      last = snapshot;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
    await state.storage.deleteAlarm();
  });
}

/**
 * Adds `count` followers (users, trader memberships, auto-mode follows with
 * default sizing) in three statements, for tests and benchmarks: creating 10,000 through the repository would take minutes.
 */
export async function addFollowersInBulk(community: TestCommunity, count: number): Promise<void> {
  for (let added = 0; added < count; added += BULK_FOLLOWERS) {
    await addFollowerChunk(community, Math.min(BULK_FOLLOWERS, count - added));
  }
}

/** Followers per statement: keeps each bound JSON parameter well under D1's 2 MB value limit. */
const BULK_FOLLOWERS = 2_000;

async function addFollowerChunk(community: TestCommunity, count: number): Promise<void> {
  const now = Date.now();
  const users = Array.from({ length: count }, () => ({ id: crypto.randomUUID(), discordId: snowflake() }));
  const payload = JSON.stringify(users);
  await env.DB.batch([
    env.DB.prepare(
      "insert into users (id, discord_id, username, created_at, updated_at) select j.value ->> 'id', j.value ->> 'discordId', 'bulk', ?2, ?2 from json_each(?1) j",
    ).bind(payload, now),
    env.DB.prepare(
      "insert into memberships (community_id, user_id, role, created_at, updated_at) select ?3, j.value ->> 'id', 'trader', ?2, ?2 from json_each(?1) j",
    ).bind(payload, now, community.communityId),
    env.DB.prepare(
      "insert into follows (community_id, follower_user_id, provider_user_id, mode, enabled, created_at, updated_at) select ?3, j.value ->> 'id', ?4, 'auto', 1, ?2, ?2 from json_each(?1) j",
    ).bind(payload, now, community.communityId, community.providerId),
  ]);
  community.followerIds.push(...users.map((u) => u.id));
}
