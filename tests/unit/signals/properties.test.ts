import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatSignal } from "../../../shared/signals/format";
import { parseSignal } from "../../../shared/signals/parser";
import { anyTextArb, mutatedSignalTextArb, signalishTextArb, validSignalArb } from "./arbitraries";
import { ALL_CASES, NOW } from "./cases";
import { wellFormedProblem } from "./well-formed";

const seeds = ALL_CASES.map((c) => c.text).filter((t) => t.length <= 2_000);

describe("signal parser properties", () => {
  it("Scenario: The parser is total", () => {
    fc.assert(
      fc.property(fc.oneof(anyTextArb, signalishTextArb, mutatedSignalTextArb(seeds)), (text) => {
        expect(wellFormedProblem(text, parseSignal(text, { now: NOW }))).toBeNull();
      }),
      { numRuns: 3_000 },
    );
  });

  it("Scenario: Formatting then parsing gives the same signal", () => {
    fc.assert(
      fc.property(validSignalArb, (signal) => {
        const text = formatSignal(signal);
        expect(parseSignal(text)).toEqual({ ok: true, signal });
      }),
      { numRuns: 2_000 },
    );
  });
});
