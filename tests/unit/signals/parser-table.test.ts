import { describe, expect, it } from "vitest";
import { SIGNAL_ERROR_CODES } from "../../../shared/signals/errors";
import { parseSignal } from "../../../shared/signals/parser";
import { NormalizedSignalSchema } from "../../../shared/signals/schema";
import { ALL_CASES, CRYPTO_CASES, ERROR_CASES, NOW, OPTION_CASES, STOCK_CASES } from "./cases";

/** The layouts of real channels (channel-cases.ts), each family with its own cases. */
const CHANNEL_FAMILIES = [
  "list-label",
  "exit",
  "breakout",
  "refusal",
  "layout",
  "shares-abbreviation",
  "noise",
  "perpetual",
  "russian",
  "spanish",
  "portuguese",
];

describe("signal parser table", () => {
  it("has at least 300 cases covering every family and every error code", () => {
    expect(ALL_CASES.length).toBeGreaterThanOrEqual(300);
    for (const family of [STOCK_CASES, OPTION_CASES, CRYPTO_CASES, ERROR_CASES])
      expect(family.length).toBeGreaterThan(25);
    for (const family of CHANNEL_FAMILIES) {
      expect(ALL_CASES.filter((c) => c.family === family).length, family).toBeGreaterThanOrEqual(3);
    }
    const codes = new Set(ALL_CASES.flatMap((c) => ("errors" in c ? c.errors : [])));
    expect([...SIGNAL_ERROR_CODES].filter((code) => !codes.has(code))).toEqual([]);
  });

  it.each(
    ALL_CASES.map(
      (c) => [c.family, JSON.stringify(c.text.length > 120 ? `${c.text.slice(0, 117)}...` : c.text), c] as const,
    ),
  )("%s: %s", (_family, _title, testCase) => {
    const result = parseSignal(testCase.text, { now: NOW });
    if ("signal" in testCase) {
      expect(result).toEqual({ ok: true, signal: testCase.signal });
      if (result.ok) expect(NormalizedSignalSchema.safeParse(result.signal).success).toBe(true);
    } else {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect([...new Set(result.errors.map((e) => e.code))].sort()).toEqual([...testCase.errors].sort());
      for (const error of result.errors) {
        expect(error.start).toBeGreaterThanOrEqual(0);
        expect(error.end).toBeGreaterThanOrEqual(error.start);
        expect(error.end).toBeLessThanOrEqual(testCase.text.length);
        expect(error.message.length).toBeGreaterThan(0);
      }
    }
  });
});
