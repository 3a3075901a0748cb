import { and, asc, eq, gt, gte, lt, or, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { fills, orders, signals, users } from "../../../shared/db/schema";
import type { AccountMode } from "../../../shared/discord/badge";
import type { TradeFill } from "../../../shared/execution/trade-history";
import type { OptionContract } from "../../../shared/quotes/instrument";
import type { TenantScope } from "./scope";

/**
 * One community's trade history: its fills, oldest first, each with the facts of its order (side, instrument, leg,
 * account), its signal's provider and the Discord ids of the people involved.
 */

/** Where a page starts: after this fill (fills are ordered by time, then id). */
export interface TradeCursor {
  filledAt: number;
  id: string;
}

export interface TradeSearch {
  userId?: string;
  /** An order's symbol as stored (an option's underlying, a crypto pair as BASE/QUOTE). */
  symbol?: string;
  /** Epoch milliseconds: `from` inclusive, `to` exclusive. */
  from?: number;
  to?: number;
}

export interface TradePage {
  fills: TradeFill[];
  /** Pass as `after` for the next page; null on the last one. */
  next: TradeCursor | null;
}

export function tradeRepository(scope: TenantScope) {
  const { db, communityId } = scope;
  const member = alias(users, "member");
  const provider = alias(users, "provider");

  function whereOf(search: TradeSearch, after: TradeCursor | undefined): SQL | undefined {
    const conditions: (SQL | undefined)[] = [eq(fills.communityId, communityId)];
    if (search.userId !== undefined) conditions.push(eq(fills.userId, search.userId));
    if (search.symbol !== undefined) conditions.push(eq(orders.symbol, search.symbol));
    if (search.from !== undefined) conditions.push(gte(fills.filledAt, search.from));
    if (search.to !== undefined) conditions.push(lt(fills.filledAt, search.to));
    if (after) {
      conditions.push(
        or(gt(fills.filledAt, after.filledAt), and(eq(fills.filledAt, after.filledAt), gt(fills.id, after.id))),
      );
    }
    return and(...conditions);
  }

  return {
    /** Up to `limit` fills matching `search`, oldest first, after `after`. */
    async page(search: TradeSearch, limit: number, after?: TradeCursor): Promise<TradePage> {
      const rows = await db
        .select({
          id: fills.id,
          filledAt: fills.filledAt,
          orderId: fills.orderId,
          executionId: fills.executionId,
          userId: fills.userId,
          discordUserId: member.discordId,
          broker: orders.broker,
          accountMode: sql<AccountMode | null>`json_extract(${orders.intent}, '$.accountMode')`,
          symbol: orders.symbol,
          assetClass: orders.assetClass,
          option: sql<string | null>`json_extract(${orders.intent}, '$.option')`,
          side: orders.side,
          orderType: orders.orderType,
          leg: orders.leg,
          signalId: orders.signalId,
          providerUserId: signals.providerUserId,
          providerDiscordId: provider.discordId,
          quantity: fills.quantity,
          price: fills.price,
          quoteSource: fills.quoteSource,
          quoteTimestamp: fills.quoteTimestamp,
          delayed: fills.delayed,
        })
        .from(fills)
        .innerJoin(orders, and(eq(orders.communityId, fills.communityId), eq(orders.id, fills.orderId)))
        .leftJoin(signals, and(eq(signals.communityId, orders.communityId), eq(signals.id, orders.signalId)))
        .leftJoin(member, eq(member.id, fills.userId))
        .leftJoin(provider, eq(provider.id, signals.providerUserId))
        .where(whereOf(search, after))
        .orderBy(asc(fills.filledAt), asc(fills.id))
        .limit(limit + 1)
        .all();
      const page = rows.slice(0, limit).map(({ option, ...row }) => ({
        ...row,
        option: option === null ? null : (JSON.parse(option) as OptionContract),
      }));
      const last = page.at(-1);
      return { fills: page, next: rows.length > limit && last ? { filledAt: last.filledAt, id: last.id } : null };
    },

    /**
     * Where a download capped at `cap` fills stops short: the cursor of its last fill when more match after it,
     * null when the cap holds every match. One index walk, no rows read.
     */
    async cutoff(search: TradeSearch, cap: number, after?: TradeCursor): Promise<TradeCursor | null> {
      const rows = await db
        .select({ filledAt: fills.filledAt, id: fills.id })
        .from(fills)
        .innerJoin(orders, and(eq(orders.communityId, fills.communityId), eq(orders.id, fills.orderId)))
        .where(whereOf(search, after))
        .orderBy(asc(fills.filledAt), asc(fills.id))
        .limit(2)
        .offset(cap - 1)
        .all();
      return rows.length === 2 && rows[0] ? rows[0] : null;
    },
  };
}
