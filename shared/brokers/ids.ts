/**
 * Every broker a member can name, as the contract spells them (`/broker connect broker:<…>`, the API's `broker`
 * fields, stored connections). `paper` is the built-in simulator every member has; the others are live brokerages.
 */
export const BROKER_IDS = ["alpaca", "schwab", "etrade", "ibkr", "coinbase", "binance", "kraken", "paper"] as const;
export type BrokerId = (typeof BROKER_IDS)[number];
