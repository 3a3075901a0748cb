import { and, eq, ne } from "drizzle-orm";
import { brokerConnections, riskProfiles, type TradingMode } from "../../../shared/db/schema";
import type { TenantScope } from "./scope";

/**
 * A member's trading mode (/paper) and own risk settings (/risk), and what
 * switching to live needs: an active connection to a real (non-paper) broker.
 */

export type RiskProfileRow = typeof riskProfiles.$inferSelect;

export function riskProfileRepository(scope: TenantScope) {
  const { db, communityId, auditedWrite } = scope;
  const profileOf = (userId: string) => and(eq(riskProfiles.communityId, communityId), eq(riskProfiles.userId, userId));

  const repository = {
    async get(userId: string): Promise<RiskProfileRow | null> {
      return (await db.select().from(riskProfiles).where(profileOf(userId)).get()) ?? null;
    },

    /** Switches paper/live (audited as risk.trading_mode_changed). Returns false when already in that mode. */
    async setTradingMode(userId: string, tradingMode: TradingMode, actorId: string | null): Promise<boolean> {
      const { result } = await auditedWrite<boolean>(async () => {
        const current = (await repository.get(userId))?.tradingMode ?? "paper";
        if (current === tradingMode) return { skip: false };
        const now = Date.now();
        return {
          entry: {
            event: "risk.trading_mode_changed",
            actorId,
            target: userId,
            data: { from: current, to: tradingMode },
          },
          statements: [
            db
              .insert(riskProfiles)
              .values({ communityId, userId, tradingMode, createdAt: now, updatedAt: now })
              .onConflictDoUpdate({
                target: [riskProfiles.communityId, riskProfiles.userId],
                set: { tradingMode, updatedAt: now },
              }),
          ],
          result: true,
        };
      });
      return result;
    },

    /** Replaces the member's own risk settings (already validated by the risk engine's validator). */
    async setSettings(userId: string, settings: Record<string, unknown>): Promise<RiskProfileRow> {
      const now = Date.now();
      const row = await db
        .insert(riskProfiles)
        .values({ communityId, userId, settings, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: [riskProfiles.communityId, riskProfiles.userId],
          set: { settings, updatedAt: now },
        })
        .returning()
        .get();
      if (!row) throw new Error("Saving risk settings returned no row.");
      return row;
    },

    /** Whether the member has an active connection to a real broker (live trading needs one). */
    async hasLiveBrokerConnection(userId: string): Promise<boolean> {
      const row = await db
        .select({ id: brokerConnections.id })
        .from(brokerConnections)
        .where(
          and(
            eq(brokerConnections.communityId, communityId),
            eq(brokerConnections.userId, userId),
            eq(brokerConnections.status, "active"),
            eq(brokerConnections.isPaper, false),
            ne(brokerConnections.broker, "paper"),
          ),
        )
        .get();
      return Boolean(row);
    },
  };
  return repository;
}
