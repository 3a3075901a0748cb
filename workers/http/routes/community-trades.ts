import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../../platform/db/client";
import type { TradeCursor } from "../../../platform/db/tenant/trades";
import { internalUserId } from "../../../platform/db/users";
import { ForbiddenError } from "../../../shared/errors";
import { LEG_KINDS, TRADE_CSV_HEADER, tradeCsvRow, tradeRecord } from "../../../shared/execution/trade-history";
import { can, whoMay } from "../../../shared/rbac/matrix";
import { utcDay } from "../../../shared/risk/daily-loss";
import { COMMUNITY_ACCESS_RESPONSES, type CommunityPrincipal, communityAction, principalOf } from "../community-access";
import { communityFromRoute } from "../community-scope";
import type { App, AppContext } from "../context";
import { csvAttachmentHeaders, csvStream, fileNamePart, MAX_CSV_ROWS, truncatedDownloadHeaders } from "../csv-download";
import { dateRangeOf, InstantQuery, invalidQuery } from "../date-range";
import { CommunityParams, CsvDownloadHeaders, errorResponse, UserIdQuery } from "../schemas";

/**
 * A community's trade history, one record per fill, oldest first (openspec/specs/trade-history): a member's own
 * fills; every member's for owners, admins (`orders.view_all`) and operators. JSON in pages, or CSV to download.
 */

const MAX_PAGE = 500;
const DEFAULT_PAGE = 100;

const decimal = (description: string) => z.string().openapi({ description, example: "190.50" });
const isoTime = (description: string) => z.string().openapi({ description, example: "2026-12-04T14:30:00.000Z" });

const TradeSchema = z
  .object({
    filledAt: isoTime("When the fill happened, ISO 8601 UTC"),
    orderId: z.string(),
    executionId: z.string().openapi({ description: "The broker's execution id (the paper broker's own for paper)" }),
    userId: z.string().openapi({ description: "The member (internal user id)" }),
    discordUserId: z.string().nullable(),
    account: z.enum(["paper", "live"]),
    broker: z.string().openapi({ example: "paper" }),
    symbol: z.string().openapi({ description: "As ordered: an option's underlying, a crypto pair as BASE/QUOTE" }),
    instrument: z.string().openapi({ description: "The instrument traded: an option's OCC contract symbol" }),
    assetClass: z.string().openapi({ example: "equity" }),
    optionUnderlying: z.string().nullable(),
    optionExpiration: z.string().nullable().openapi({ description: "YYYY-MM-DD" }),
    optionStrike: z.string().nullable().openapi({ description: "Exact decimal" }),
    optionRight: z.enum(["call", "put"]).nullable(),
    side: z.string().openapi({ description: "buy, sell, sell_short or buy_to_cover" }),
    quantity: decimal("Exact decimal: shares, contracts or crypto units"),
    price: decimal("Exact decimal, per unit (per share for an option contract), in `currency`"),
    currency: z.string().openapi({ example: "USD" }),
    multiplier: z.number().int().openapi({ description: "Currency per unit of price: 100 for options, else 1" }),
    notional: decimal("quantity × price × multiplier, exactly"),
    orderType: z.string().openapi({ example: "market" }),
    leg: z.string().openapi({ description: "The order's leg as stored (entry, stop, tp1, exit, flatten-…)" }),
    legKind: z.enum(LEG_KINDS),
    signalId: z.string().nullable(),
    providerUserId: z.string().nullable().openapi({ description: "Whose signal it was (the member for their /trade)" }),
    providerDiscordId: z.string().nullable(),
    quoteSource: z.string().nullable().openapi({ description: "Where the paper fill's price came from" }),
    quoteAt: isoTime("The quote's time, ISO 8601 UTC").nullable(),
    delayed: z.boolean().openapi({ description: "The quote was delayed" }),
  })
  .openapi("Trade");

const TradePageSchema = z
  .object({
    trades: z.array(TradeSchema),
    nextCursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next page; null at the end" }),
  })
  .openapi("TradePage");

const TradesQuerySchema = z.object({
  format: z.enum(["json", "csv"]).default("json").openapi({ description: "csv: every matching fill as CSV" }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_CSV_ROWS)
    .optional()
    .openapi({
      description: `Page size, 1–${MAX_PAGE} (default ${DEFAULT_PAGE}); with format=csv, a cap on the rows (at most ${MAX_CSV_ROWS})`,
    }),
  cursor: z.string().max(100).optional().openapi({ description: "The previous page's `nextCursor`" }),
  from: InstantQuery.optional().openapi({ description: "Fills at or after this instant" }),
  to: InstantQuery.optional().openapi({ description: "Fills before this instant" }),
  symbol: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9./-]{0,31}$/, "A symbol: AAPL, BRK.B, BTC/USD (an option's underlying)")
    .transform((symbol) => symbol.toUpperCase())
    .optional()
    .openapi({ example: "AAPL" }),
  user_id: UserIdQuery.optional().openapi({
    description: "Owners, admins and operators: one member's fills (internal or Discord user id)",
  }),
});

const route = createRoute({
  ...communityAction("community.view"),
  method: "get",
  operationId: "listTrades",
  path: "/api/v1/communities/{communityId}/trades",
  tags: ["trades"],
  summary: "Trade history, one record per fill, oldest first: your own, or every member's for admins and operators",
  request: { params: CommunityParams, query: TradesQuerySchema },
  responses: {
    200: {
      description: "A page of fills, or (format=csv) every matching fill as a CSV attachment with a header row",
      headers: CsvDownloadHeaders,
      content: {
        "application/json": { schema: TradePageSchema },
        "text/csv": { schema: z.string().openapi({ example: TRADE_CSV_HEADER }) },
      },
    },
    ...COMMUNITY_ACCESS_RESPONSES,
    400: errorResponse("A query parameter is invalid: format, limit, cursor, a date, symbol or user id"),
    403: errorResponse(
      "The role does not grant community.view, or a member asked for another member's fills, which needs orders.view_all (FORBIDDEN)",
    ),
  },
});

export function registerCommunityTrades(app: App): void {
  app.openapi(route, async (c) => {
    const { communityId } = c.req.valid("param");
    const query = c.req.valid("query");
    if (query.format === "json" && (query.limit ?? 0) > MAX_PAGE) {
      throw invalidQuery("limit", `Too big: a page holds at most ${MAX_PAGE} trades.`);
    }
    const after = query.cursor === undefined ? undefined : parseTradeCursor(query.cursor);
    if (after === null) throw invalidQuery("cursor", "Not a cursor this API handed out.");
    const range = dateRangeOf(query);
    const tenant = await communityFromRoute(c, communityId);
    const userId = await whoseTrades(c, principalOf(c), query.user_id);
    const search = { ...range, userId, symbol: query.symbol };

    if (query.format === "csv") {
      const cap = query.limit ?? MAX_CSV_ROWS;
      const rows = csvStream(TRADE_CSV_HEADER, after, cap, async (cursor, limit) => {
        const page = await tenant.trades.page(search, limit, cursor);
        return {
          text: page.fills.map((fill) => tradeCsvRow(tradeRecord(fill))).join(""),
          rows: page.fills.length,
          next: page.next,
        };
      });
      const fileName = `trades-${fileNamePart(communityId)}-${utcDay(Date.now())}.csv`;
      const cutoff = await tenant.trades.cutoff(search, cap, after);
      return c.body(rows, 200, {
        ...csvAttachmentHeaders(fileName),
        ...(cutoff && truncatedDownloadHeaders(c.req.url, "cursor", tradeCursorText(cutoff))),
      });
    }

    const page = await tenant.trades.page(search, query.limit ?? DEFAULT_PAGE, after);
    return c.json({ trades: page.fills.map(tradeRecord), nextCursor: page.next && tradeCursorText(page.next) }, 200);
  });
}

/**
 * The member whose fills to list (undefined: everyone's). A member without `orders.view_all` sees their own only,
 * and naming anyone else is a 403 whether or not that user exists, so the filter cannot probe for members.
 */
async function whoseTrades(
  c: AppContext,
  principal: CommunityPrincipal,
  named: string | undefined,
): Promise<string | undefined> {
  const userId = named === undefined ? undefined : await internalUserId(database(c.env.DB), named);
  if (principal.kind === "operator" || can(principal.role, "orders.view_all")) return userId;
  if (userId === undefined || userId === principal.userId) return principal.userId;
  throw new ForbiddenError(
    `Your role in this community (${principal.role}) shows your own trades only: every member's are for ${whoMay("orders.view_all")} (orders.view_all).`,
  );
}

function tradeCursorText(cursor: TradeCursor): string {
  return `${cursor.filledAt}.${cursor.id}`;
}

function parseTradeCursor(text: string): TradeCursor | null {
  const match = /^(\d{1,16})\.([A-Za-z0-9-]{1,64})$/.exec(text);
  if (!match?.[1] || !match[2]) return null;
  return { filledAt: Number(match[1]), id: match[2] };
}
