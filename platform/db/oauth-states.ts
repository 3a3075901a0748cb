import { and, eq, isNull } from "drizzle-orm";
import { sha256Hex } from "../../shared/crypto/constant-time";
import { oauthStates } from "../../shared/db/schema";
import type { Database } from "./client";

export type OAuthStateRow = typeof oauthStates.$inferSelect;

/** Why a callback's state was refused (for logs and the audit; the browser gets one answer). */
export type StateProblem = "state_unknown" | "state_reused" | "state_expired" | "state_other_browser";

/**
 * OAuth2 authorization requests in flight. Rows are found by the SHA-256 of their `state`, never the state itself,
 * and claimed once: the claim is one conditional UPDATE, so two callbacks racing with one state cannot both win.
 */
export function oauthStateStore(db: Database) {
  return {
    async create(input: {
      state: string;
      provider: string;
      browserHash: string;
      returnTo: string;
      ttlMs: number;
      userId?: string | null;
      communityId?: string | null;
      now?: number;
    }): Promise<void> {
      const now = input.now ?? Date.now();
      await db
        .insert(oauthStates)
        .values({
          id: await sha256Hex(input.state),
          provider: input.provider,
          browserHash: input.browserHash,
          returnTo: input.returnTo,
          userId: input.userId ?? null,
          communityId: input.communityId ?? null,
          createdAt: now,
          expiresAt: now + input.ttlMs,
        })
        .run();
    },

    /**
     * Uses a state up: the row when this call claimed it and it is unexpired and from the same browser and
     * provider, otherwise the problem. A claimed state is spent whatever the outcome, so it cannot be tried again.
     */
    async claim(input: {
      state: string;
      provider: string;
      browserHash: string | null;
      now?: number;
    }): Promise<{ ok: true; row: OAuthStateRow } | { ok: false; problem: StateProblem }> {
      const now = input.now ?? Date.now();
      const id = await sha256Hex(input.state);
      const row = await db
        .update(oauthStates)
        .set({ usedAt: now })
        .where(and(eq(oauthStates.id, id), eq(oauthStates.provider, input.provider), isNull(oauthStates.usedAt)))
        .returning()
        .get();
      if (!row) {
        const known = await db.select({ id: oauthStates.id }).from(oauthStates).where(eq(oauthStates.id, id)).get();
        return { ok: false, problem: known ? "state_reused" : "state_unknown" };
      }
      if (row.expiresAt <= now) return { ok: false, problem: "state_expired" };
      if (input.browserHash === null || input.browserHash !== row.browserHash) {
        return { ok: false, problem: "state_other_browser" };
      }
      return { ok: true, row };
    },
  };
}
