import { realtimeHubStats } from "../../shared/db/schema";
import { type HubStats, HubStatsSchema } from "../../shared/realtime/stats";
import type { Database } from "./client";

/** One hub's last report. */
export interface HubReport {
  communityId: string;
  reportedAt: number;
  stats: HubStats;
}

/** Each RealtimeHub's last reported figures (`realtime_hub_stats`), for the operator metrics. */
export function realtimeStatsStore(db: Database) {
  return {
    async report(communityId: string, stats: HubStats, now = Date.now()): Promise<void> {
      await db
        .insert(realtimeHubStats)
        .values({ communityId, connections: stats.connections, stats, reportedAt: now })
        .onConflictDoUpdate({
          target: realtimeHubStats.communityId,
          set: { connections: stats.connections, stats, reportedAt: now },
        })
        .run();
    },

    /** Every hub's last report (one row per community that ever had a socket; rows that do not parse are skipped). */
    async all(): Promise<HubReport[]> {
      const rows = await db.select().from(realtimeHubStats).all();
      return rows.flatMap((row) => {
        const stats = HubStatsSchema.safeParse(row.stats);
        return stats.success ? [{ communityId: row.communityId, reportedAt: row.reportedAt, stats: stats.data }] : [];
      });
    },
  };
}
