import { runInDurableObject } from "cloudflare:test";
import { createPaperAccount, type PaperAccountState } from "../../shared/brokers/paper/engine";
import { executorOf, type TestCommunity } from "./execution";

interface SeededPosition {
  symbol: string;
  /** Signed: negative for a short. */
  quantity: number;
  averageCost: number;
  lastPrice: number;
}

export interface SeededAccount {
  cash: number;
  realizedPnl?: number;
  positions?: SeededPosition[];
  /** The paper broker's own start of day (null: it has not rolled a day yet). */
  day: { date: string; startEquity: number } | null;
  /** When the positions were last marked. */
  markedAt?: number;
}

export const utcDate = (at: number) => new Date(at).toISOString().slice(0, 10);

/** Writes a member's paper account into the executor's storage, as if these trades had happened. */
export async function seedPaperAccount(community: TestCommunity, userId: string, seed: SeededAccount): Promise<void> {
  const markedAt = new Date(seed.markedAt ?? Date.now()).toISOString();
  const account: PaperAccountState = {
    ...createPaperAccount({ startingCash: 100_000 }, Date.parse(markedAt)),
    cash: seed.cash,
    realizedPnl: seed.realizedPnl ?? 0,
    day: seed.day,
    positions: Object.fromEntries(
      (seed.positions ?? []).map((p) => [
        p.symbol,
        {
          key: p.symbol,
          assetClass: "equity",
          symbol: p.symbol,
          option: null,
          quantity: p.quantity,
          averageCost: p.averageCost,
          lastPrice: p.lastPrice,
          lastPriceAt: markedAt,
          lastPriceSource: "test",
        },
      ]),
    ),
  };
  await runInDurableObject(executorOf(community.communityId), async (_instance, state) => {
    state.storage.sql.exec(
      "insert into paper_accounts (user_id, state, updated_at) values (?, ?, ?) on conflict(user_id) do update set state = excluded.state",
      userId,
      JSON.stringify(account),
      Date.now(),
    );
  });
}
