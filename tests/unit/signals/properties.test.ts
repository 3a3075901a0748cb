import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatSignal } from "../../../shared/signals/format";
import { parseSignal } from "../../../shared/signals/parser";
import {
  anyTextArb,
  mutatedSignalTextArb,
  type NumberedLayout,
  numberedLayoutArb,
  signalishTextArb,
  validSignalArb,
} from "./arbitraries";
import { ALL_CASES, NOW } from "./cases";
import { listLayoutProblem, wellFormedProblem } from "./well-formed";

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

  it("Scenario: A list item's number is never read as a price", () => {
    let parsed = 0;
    fc.assert(
      fc.property(numberedLayoutArb, (layout: NumberedLayout) => {
        const result = parseSignal(layout.text, { now: NOW });
        expect(listLayoutProblem(layout, result)).toBeNull();
        if (result.ok) parsed++;
      }),
      { numRuns: 3_000 },
    );
    // most layouts are read, not refused: the property is not met by refusing everything
    expect(parsed).toBeGreaterThan(2_000);
  });
});
