/**
 * Does a community's executor agree with D1? The executor keeps the kill switch in its own storage and the
 * built-in paper broker's accounts (with their open orders); D1 keeps the community's halted flag and every order's
 * status. After a restore of D1 (or any incident) the two must agree, or the engine would trade on a state that the
 * database does not show. Live brokers' orders are counted, not compared: checking them means calling the broker.
 */

export interface OrderRef {
  clientOrderId: string;
}

export interface ExecutorConsistency {
  ok: boolean;
  killSwitch: { executor: boolean; d1: boolean; agree: boolean };
  openOrders: {
    /** D1's open paper orders (submitted or partially filled). */
    d1: number;
    /** Open orders in the executor's paper accounts. */
    executor: number;
    /** Open in D1, but not open at the paper broker (client order ids). */
    onlyInD1: string[];
    /** Open at the paper broker, but not open in D1. */
    onlyInExecutor: string[];
    /** Open orders at live brokers, which this check does not call. */
    liveNotCompared: number;
  };
}

/** At most this many ids of each kind are listed; the counts are always complete. */
const MAX_LISTED_IDS = 50;

export function compareExecutorWithD1(input: {
  executorHalted: boolean;
  d1Halted: boolean;
  d1OpenPaperOrders: readonly OrderRef[];
  executorOpenOrders: readonly OrderRef[];
  liveOpenOrders: number;
}): ExecutorConsistency {
  const inD1 = new Set(input.d1OpenPaperOrders.map((o) => o.clientOrderId));
  const inExecutor = new Set(input.executorOpenOrders.map((o) => o.clientOrderId));
  const onlyInD1 = [...inD1].filter((id) => !inExecutor.has(id)).sort();
  const onlyInExecutor = [...inExecutor].filter((id) => !inD1.has(id)).sort();
  const agree = input.executorHalted === input.d1Halted;
  return {
    ok: agree && onlyInD1.length === 0 && onlyInExecutor.length === 0,
    killSwitch: { executor: input.executorHalted, d1: input.d1Halted, agree },
    openOrders: {
      d1: inD1.size,
      executor: inExecutor.size,
      onlyInD1: onlyInD1.slice(0, MAX_LISTED_IDS),
      onlyInExecutor: onlyInExecutor.slice(0, MAX_LISTED_IDS),
      liveNotCompared: input.liveOpenOrders,
    },
  };
}
