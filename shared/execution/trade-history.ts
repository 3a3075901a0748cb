import { type CsvValue, csvLine } from "../csv";
import { decimalProduct, decimalText } from "../decimal-text";
import { type AccountMode, accountModeOf } from "../discord/badge";
import { priceCurrency } from "../discord/format";
import { type AssetClass, contractMultiplier, instrumentKey, type OptionContract } from "../quotes/instrument";

/**
 * A member's trade history: one record per fill, with what its order, its signal and its member say about it, as
 * `GET /api/v1/communities/:communityId/trades` answers it in JSON and CSV (openspec/specs/trade-history). The
 * column names are contract: add new ones at the end, never rename or reorder.
 */

/** A fill as stored, with the facts of its order, its signal and the people involved (the repository's row). */
export interface TradeFill {
  id: string;
  filledAt: number;
  orderId: string;
  executionId: string;
  userId: string;
  discordUserId: string | null;
  broker: string;
  accountMode: AccountMode | null;
  symbol: string;
  assetClass: string;
  option: OptionContract | null;
  side: string;
  orderType: string;
  leg: string;
  signalId: string | null;
  providerUserId: string | null;
  providerDiscordId: string | null;
  quantity: number;
  price: number;
  quoteSource: string | null;
  quoteTimestamp: number | null;
  delayed: boolean;
}

/** What an order's leg did, in one word of a short list (its stored `leg` may carry a suffix: `stop@123`, `tp1:5`). */
export const LEG_KINDS = ["entry", "stop_loss", "take_profit", "exit", "flatten", "other"] as const;
export type LegKind = (typeof LEG_KINDS)[number];

export function legKind(leg: string): LegKind {
  const base = leg.split(/[@:]/)[0] ?? leg;
  if (base === "entry") return "entry";
  if (base === "stop") return "stop_loss";
  if (/^tp\d+$/.test(base)) return "take_profit";
  if (base === "exit" || base === "close_now") return "exit";
  if (base.startsWith("flatten")) return "flatten";
  return "other";
}

/** One row of the history. Quantities, prices and notionals are exact decimal texts; times are ISO 8601 UTC. */
export interface TradeRecord {
  filledAt: string;
  orderId: string;
  executionId: string;
  userId: string;
  discordUserId: string | null;
  account: AccountMode;
  broker: string;
  symbol: string;
  instrument: string;
  assetClass: string;
  optionUnderlying: string | null;
  optionExpiration: string | null;
  optionStrike: string | null;
  optionRight: "call" | "put" | null;
  side: string;
  quantity: string;
  price: string;
  currency: string;
  multiplier: number;
  notional: string;
  orderType: string;
  leg: string;
  legKind: LegKind;
  signalId: string | null;
  providerUserId: string | null;
  providerDiscordId: string | null;
  quoteSource: string | null;
  quoteAt: string | null;
  delayed: boolean;
}

const PRICE_DECIMALS = 2;

export function tradeRecord(fill: TradeFill): TradeRecord {
  const instrument = { assetClass: fill.assetClass as AssetClass, symbol: fill.symbol, option: fill.option };
  const multiplier = contractMultiplier(instrument);
  const quantity = decimalText(fill.quantity);
  const price = decimalText(fill.price, PRICE_DECIMALS);
  return {
    filledAt: new Date(fill.filledAt).toISOString(),
    orderId: fill.orderId,
    executionId: fill.executionId,
    userId: fill.userId,
    discordUserId: fill.discordUserId,
    account: accountModeOf({ broker: fill.broker, intent: { accountMode: fill.accountMode ?? undefined } }),
    broker: fill.broker,
    symbol: fill.symbol,
    instrument: instrumentKey(instrument),
    assetClass: fill.assetClass,
    optionUnderlying: fill.option?.underlying ?? null,
    optionExpiration: fill.option?.expiration ?? null,
    optionStrike: fill.option ? decimalText(fill.option.strike) : null,
    optionRight: fill.option?.right ?? null,
    side: fill.side,
    quantity,
    price,
    currency: priceCurrency(instrument),
    multiplier,
    notional: decimalProduct([quantity, price, String(multiplier)], PRICE_DECIMALS),
    orderType: fill.orderType,
    leg: fill.leg,
    legKind: legKind(fill.leg),
    signalId: fill.signalId,
    providerUserId: fill.providerUserId,
    providerDiscordId: fill.providerDiscordId,
    quoteSource: fill.quoteSource,
    quoteAt: fill.quoteTimestamp === null ? null : new Date(fill.quoteTimestamp).toISOString(),
    delayed: fill.delayed,
  };
}

/** The CSV's columns in order, each with the record field it shows. */
const TRADE_CSV_COLUMNS = [
  ["filled_at", "filledAt"],
  ["order_id", "orderId"],
  ["execution_id", "executionId"],
  ["user_id", "userId"],
  ["discord_user_id", "discordUserId"],
  ["account", "account"],
  ["broker", "broker"],
  ["symbol", "symbol"],
  ["instrument", "instrument"],
  ["asset_class", "assetClass"],
  ["option_underlying", "optionUnderlying"],
  ["option_expiration", "optionExpiration"],
  ["option_strike", "optionStrike"],
  ["option_right", "optionRight"],
  ["side", "side"],
  ["quantity", "quantity"],
  ["price", "price"],
  ["currency", "currency"],
  ["multiplier", "multiplier"],
  ["notional", "notional"],
  ["order_type", "orderType"],
  ["leg", "leg"],
  ["leg_kind", "legKind"],
  ["signal_id", "signalId"],
  ["provider_user_id", "providerUserId"],
  ["provider_discord_id", "providerDiscordId"],
  ["quote_source", "quoteSource"],
  ["quote_at", "quoteAt"],
  ["delayed", "delayed"],
] as const satisfies readonly (readonly [string, keyof TradeRecord])[];

export const TRADE_CSV_HEADER = csvLine(TRADE_CSV_COLUMNS.map(([name]) => name));

export function tradeCsvRow(record: TradeRecord): string {
  return csvLine(TRADE_CSV_COLUMNS.map(([, field]): CsvValue => record[field]));
}
