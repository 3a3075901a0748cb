import { z } from "zod";

/**
 * A RealtimeHub's figures. Counters are cumulative over the hub's life (kept
 * in its storage, so hibernation and restarts do not reset them); latency is a
 * histogram of publish-to-send times (from the event's `at`, set by the
 * publisher, to the hub handing the frame to its sockets) over fixed buckets,
 * so the figures of many hubs add up exactly.
 */

/** Upper bounds (ms) of the latency buckets; one more bucket counts everything slower. */
export const REALTIME_LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

export const HUB_COUNTERS = [
  "connectionsOpened",
  "messagesIn",
  "bytesIn",
  "messagesOut",
  "bytesOut",
  "eventsPublished",
  "closedSlowConsumer",
  "closedRateLimited",
  "closedOversize",
  "closedSessionEnded",
  "wakes",
] as const;
export type HubCounter = (typeof HUB_COUNTERS)[number];
export type HubCounters = Record<HubCounter, number>;

const HubFiguresSchema = z.object({
  connections: z.number().int().nonnegative(),
  counters: z.record(z.enum(HUB_COUNTERS), z.number().nonnegative()),
  latencyBuckets: z.array(z.number().int().nonnegative()).length(REALTIME_LATENCY_BUCKETS_MS.length + 1),
});
/** Figures that add up across hubs. */
export type HubFigures = z.infer<typeof HubFiguresSchema>;

export const HubStatsSchema = HubFiguresSchema.extend({ latestSeq: z.number().int().nonnegative() });
/** One hub's figures, with the sequence number of its latest event. */
export type HubStats = z.infer<typeof HubStatsSchema>;

export const emptyCounters = (): HubCounters =>
  Object.fromEntries(HUB_COUNTERS.map((name) => [name, 0])) as HubCounters;

export const emptyLatencyBuckets = (): number[] => new Array(REALTIME_LATENCY_BUCKETS_MS.length + 1).fill(0);

export function latencyBucket(ms: number): number {
  const index = REALTIME_LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound);
  return index === -1 ? REALTIME_LATENCY_BUCKETS_MS.length : index;
}

/**
 * The bucket bound at or under which `p` percent of latencies fall (an upper
 * bound, as histograms give); null without samples, and `overMs` when the
 * percentile lies beyond the last bound.
 */
export function latencyPercentile(
  buckets: readonly number[],
  p: number,
): { atMostMs: number | null; overMs?: number } | null {
  const total = buckets.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i] ?? 0;
    if (seen >= rank) {
      const bound = REALTIME_LATENCY_BUCKETS_MS[i];
      return bound === undefined ? { atMostMs: null, overMs: REALTIME_LATENCY_BUCKETS_MS.at(-1) } : { atMostMs: bound };
    }
  }
  return null;
}

/** Sums the figures of many hubs. */
export function addHubFigures(all: readonly HubFigures[]): HubFigures {
  const total: HubFigures = { connections: 0, counters: emptyCounters(), latencyBuckets: emptyLatencyBuckets() };
  for (const stats of all) {
    total.connections += stats.connections;
    for (const name of HUB_COUNTERS) total.counters[name] = (total.counters[name] ?? 0) + (stats.counters[name] ?? 0);
    stats.latencyBuckets.forEach((n, i) => {
      total.latencyBuckets[i] = (total.latencyBuckets[i] ?? 0) + n;
    });
  }
  return total;
}
