import { and, desc, eq, gte, lt, or, type SQL, sql } from "drizzle-orm";
import { type SignalSource, type SignalStatus, signals } from "../../../shared/db/schema";
import type { TradePreview } from "../../../shared/execution/trade-preview";
import type { NormalizedSignal } from "../../../shared/signals/schema";
import type { TenantScope } from "./scope";

/**
 * One community's signals. (community, source id) is unique, so storing a
 * redelivered interaction or message returns the row already there and
 * writes nothing new. Manual /trade orders wait here for the member's
 * confirmation (status `received`, status_reason `awaiting_confirmation`).
 */

export type SignalRow = typeof signals.$inferSelect;

export interface NewSignal {
  providerUserId: string;
  source: SignalSource;
  sourceId: string;
  sourceTimestamp: number;
  channelId: string | null;
  rawText: string | null;
  normalized: NormalizedSignal;
  statusReason?: string | null;
}

export const AWAITING_CONFIRMATION = "awaiting_confirmation";

export function signalRepository(scope: TenantScope) {
  const { db, communityId } = scope;
  const inCommunity = eq(signals.communityId, communityId);
  const byId = (id: string) => and(inCommunity, eq(signals.id, id));
  /** The newest of the community's signals matching `where` (by source time, then storage). */
  const newest = async (where: SQL | undefined): Promise<SignalRow | null> =>
    (await db
      .select()
      .from(signals)
      .where(and(inCommunity, where))
      .orderBy(desc(signals.sourceTimestamp), desc(signals.createdAt))
      .limit(1)
      .get()) ?? null;

  const repository = {
    /** Stores a signal once per source id. `created` is false when the source id was already stored. */
    async store(input: NewSignal): Promise<{ signal: SignalRow; created: boolean }> {
      const now = Date.now();
      const inserted = await db
        .insert(signals)
        .values({
          id: crypto.randomUUID(),
          communityId,
          providerUserId: input.providerUserId,
          source: input.source,
          sourceId: input.sourceId,
          sourceTimestamp: input.sourceTimestamp,
          channelId: input.channelId,
          rawText: input.rawText,
          normalized: input.normalized,
          status: "received",
          statusReason: input.statusReason ?? null,
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing({ target: [signals.communityId, signals.sourceId] })
        .returning()
        .get();
      if (inserted) return { signal: inserted, created: true };
      const existing = await repository.getBySourceId(input.sourceId);
      if (!existing) throw new Error(`Signal with source id ${input.sourceId} vanished after a conflict.`);
      return { signal: existing, created: false };
    },

    async get(id: string): Promise<SignalRow | null> {
      return (await db.select().from(signals).where(byId(id)).get()) ?? null;
    },

    async getBySourceId(sourceId: string): Promise<SignalRow | null> {
      return (
        (await db
          .select()
          .from(signals)
          .where(and(inCommunity, eq(signals.sourceId, sourceId)))
          .get()) ?? null
      );
    },

    /**
     * The newest signal a channel message gave: stored under the message id
     * when posted (or executed with "Execute as signal"), or under
     * `<message id>:edit:<edit time>` when an edit replaced it.
     */
    async latestOfMessage(messageId: string): Promise<SignalRow | null> {
      const edits = `${messageId}:edit:`;
      return newest(
        or(
          eq(signals.sourceId, messageId),
          and(gte(signals.sourceId, edits), lt(signals.sourceId, `${messageId}:edit;`)),
        ),
      );
    },

    /**
     * A provider's accepted entry signals (buy or short) on a symbol (or an option's underlying), newest first: the
     * trades a management message that names the symbol without replying may manage (the executor keeps the open
     * ones and refuses when that is not exactly one).
     */
    async entriesOn(providerUserId: string, symbol: string, limit: number): Promise<SignalRow[]> {
      const upper = symbol.toUpperCase();
      return db
        .select()
        .from(signals)
        .where(
          and(
            inCommunity,
            eq(signals.providerUserId, providerUserId),
            eq(signals.status, "accepted" satisfies SignalStatus),
            sql`json_extract(${signals.normalized}, '$.action') in ('buy', 'short')`,
            or(
              sql`upper(json_extract(${signals.normalized}, '$.symbol')) = ${upper}`,
              sql`json_extract(${signals.normalized}, '$.option.underlying') = ${upper}`,
            ),
          ),
        )
        .orderBy(desc(signals.sourceTimestamp), desc(signals.createdAt))
        .limit(limit)
        .all();
    },

    /** Records why a signal did not reach (or was not taken by) the executor. */
    async markFailed(id: string, reason: string): Promise<void> {
      await db
        .update(signals)
        .set({ status: "failed" satisfies SignalStatus, statusReason: reason, updatedAt: Date.now() })
        .where(and(byId(id), eq(signals.status, "received")));
    },

    /**
     * A pending manual trade's preview: what would be placed is kept in its summary (Confirm compares the placed
     * quantity with it); a refusal settles it as refused with the reason, so no button is left to press.
     */
    async settlePreview(id: string, preview: TradePreview): Promise<void> {
      await db
        .update(signals)
        .set(
          preview.status === "refused"
            ? { status: "refused" satisfies SignalStatus, statusReason: preview.message, updatedAt: Date.now() }
            : { summary: { preview: { quantity: preview.quantity, order: preview.order } }, updatedAt: Date.now() },
        )
        .where(and(byId(id), eq(signals.status, "received"), eq(signals.statusReason, AWAITING_CONFIRMATION)));
    },

    /**
     * Takes a pending manual trade for its owner, once: the first Confirm or
     * Cancel wins, a second press (or another member) gets false.
     */
    async settlePendingTrade(id: string, ownerUserId: string, decision: "confirmed" | "canceled"): Promise<boolean> {
      const result = await db
        .update(signals)
        .set({
          status: decision === "canceled" ? "refused" : "received",
          statusReason: decision === "canceled" ? "canceled_by_member" : "confirmed_by_member",
          updatedAt: Date.now(),
        })
        .where(
          and(
            byId(id),
            eq(signals.providerUserId, ownerUserId),
            eq(signals.status, "received"),
            eq(signals.statusReason, AWAITING_CONFIRMATION),
          ),
        );
      return result.meta.changes === 1;
    },

    /** Symbols this community has signalled, most recent first, for autocomplete. */
    async tradedSymbols(prefix: string, limit = 25): Promise<string[]> {
      const symbol = sql<string>`json_extract(${signals.normalized}, '$.symbol')`;
      const rows = await db
        .select({ symbol, last: sql<number>`max(${signals.createdAt})` })
        .from(signals)
        .where(
          and(
            inCommunity,
            sql`${symbol} is not null`,
            sql`upper(${symbol}) like ${`${escapeLike(prefix.toUpperCase())}%`} escape '\\'`,
          ),
        )
        .groupBy(symbol)
        .orderBy(desc(sql`max(${signals.createdAt})`))
        .limit(limit)
        .all();
      return rows.map((r) => r.symbol);
    },
  };
  return repository;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
