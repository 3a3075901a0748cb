import { describe, expect, it } from "vitest";
import {
  type CloseTarget,
  closeTargetCovers,
  closeTargetName,
  readCloseTarget,
} from "../../../shared/execution/member-close";
import type { Instrument } from "../../../shared/quotes/instrument";

const NOW = Date.UTC(2026, 11, 5, 15, 0, 0);

function target(typed: string): CloseTarget {
  const reading = readCloseTarget(typed, NOW);
  if (!reading.ok) throw new Error(reading.message);
  return reading.target;
}

const SHARES: Instrument = { assetClass: "equity", symbol: "AAPL", option: null };
const CALL: Instrument = {
  assetClass: "option",
  symbol: "AAPL",
  option: { underlying: "AAPL", expiration: "2026-12-20", strike: 190, right: "call" },
};
const PUT: Instrument = {
  ...CALL,
  option: { underlying: "AAPL", expiration: "2026-12-20", strike: 180, right: "put" },
};
const BTC_USD: Instrument = { assetClass: "crypto", symbol: "BTC/USD", option: null };
const BTC_USDT: Instrument = { assetClass: "crypto", symbol: "BTC/USDT", option: null };
const ALLSTATE: Instrument = { assetClass: "equity", symbol: "ALL", option: null };

describe("what /close covers", () => {
  it("reads symbols as /trade does, and the word all as every position", () => {
    expect(target("all")).toEqual({ kind: "all" });
    expect(target(" ALL ")).toEqual({ kind: "all" });
    expect(target("$ALL")).toMatchObject({ kind: "instrument", symbol: "ALL", assetClass: "equity" });
    expect(target("$aapl")).toMatchObject({ kind: "instrument", symbol: "AAPL", assetClass: "equity" });
    expect(target("btc")).toMatchObject({ symbol: "BTC/USD", assetClass: "crypto", anyQuote: true });
    expect(target("BTC/USDT")).toMatchObject({ symbol: "BTC/USDT", anyQuote: false });
    expect(readCloseTarget("12345", NOW)).toMatchObject({
      ok: false,
      message: expect.stringContaining("not a ticker"),
    });
  });

  it("a ticker covers its shares and its options; a contract only itself; a coin every pair, a pair only itself", () => {
    const covered = (typed: string) =>
      [SHARES, CALL, PUT, BTC_USD, BTC_USDT, ALLSTATE].filter((i) => closeTargetCovers(target(typed), i));
    expect(covered("AAPL")).toEqual([SHARES, CALL, PUT]);
    expect(covered("AAPL 12/20 190C")).toEqual([CALL]);
    expect(covered("btc")).toEqual([BTC_USD, BTC_USDT]);
    expect(covered("BTC/USDT")).toEqual([BTC_USDT]);
    expect(covered("$ALL")).toEqual([ALLSTATE]);
    expect(covered("all")).toHaveLength(6);
  });

  it("names the target as the member reads it", () => {
    expect(closeTargetName(target("aapl"))).toBe("AAPL");
    expect(closeTargetName(target("btc"))).toBe("BTC");
    expect(closeTargetName(target("BTC/USDT"))).toBe("BTC/USDT");
    expect(closeTargetName(target("AAPL 12/20 190C"))).toBe("AAPL 20 Dec 2026 $190 Call");
    expect(closeTargetName(target("all"))).toBeNull();
  });
});
