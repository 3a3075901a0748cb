/**
 * Bounded fuzzing of the signal parser, for CI: `npx tsx scripts/fuzz-signals.ts [--seconds 20] [--seed N]`.
 * Hammers parseSignal with random, signal-like and mutated texts (it must never throw and must always
 * answer a well-formed result), checks that every generated valid signal survives formatSignal →
 * parseSignal unchanged, and that no numbered-list layout has an item's number read as a price. Exits 1 on
 * the first failure, printing the seed and the counterexample.
 */
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { formatSignal } from "../shared/signals/format.ts";
import { parseSignal } from "../shared/signals/parser.ts";
import {
  anyTextArb,
  mutatedSignalTextArb,
  numberedLayoutArb,
  signalishTextArb,
  validSignalArb,
} from "../tests/unit/signals/arbitraries.ts";
import { ALL_CASES, NOW } from "../tests/unit/signals/cases.ts";
import { listLayoutProblem, wellFormedProblem } from "../tests/unit/signals/well-formed.ts";

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const seconds = Number(argument("seconds") ?? 20);
const seed = Number(argument("seed") ?? Math.floor(Math.random() * 2 ** 31));
if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isInteger(seed)) {
  console.error("usage: tsx scripts/fuzz-signals.ts [--seconds 20] [--seed N]");
  process.exit(2);
}

const seeds = ALL_CASES.map((c) => c.text);
const runs = { totality: 0, "round-trip": 0, "list-labels": 0 };

const totality = fc.property(fc.oneof(anyTextArb, signalishTextArb, mutatedSignalTextArb(seeds)), (text) => {
  runs.totality++;
  const problem = wellFormedProblem(text, parseSignal(text, { now: NOW }));
  if (problem) throw new Error(`${problem} for ${JSON.stringify(text)}`);
});
const roundTrip = fc.property(validSignalArb, (signal) => {
  runs["round-trip"]++;
  const text = formatSignal(signal);
  const result = parseSignal(text);
  if (!result.ok || !isDeepStrictEqual(result.signal, signal)) {
    throw new Error(`round trip failed for ${JSON.stringify(text)}: ${JSON.stringify(result)}`);
  }
});

const listLabels = fc.property(numberedLayoutArb, (layout) => {
  runs["list-labels"]++;
  const problem = listLayoutProblem(layout, parseSignal(layout.text, { now: NOW }));
  if (problem) throw new Error(`${problem} for ${JSON.stringify(layout.text)}`);
});

function run<T>(name: keyof typeof runs, property: fc.IProperty<[T]>, budgetMs: number): void {
  const details = fc.check(property, {
    seed,
    numRuns: Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: budgetMs,
    markInterruptAsFailure: false,
  });
  if (details.failed) {
    const error =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    console.error(`[fuzz-signals] ${name} FAILED (seed ${seed}, path ${details.counterexamplePath})`);
    console.error(`[fuzz-signals] counterexample: ${JSON.stringify(details.counterexample)}`);
    console.error(`[fuzz-signals] ${error}`);
    console.error(`[fuzz-signals] reproduce: npx tsx scripts/fuzz-signals.ts --seed ${seed} --seconds ${seconds}`);
    process.exit(1);
  }
  console.log(`[fuzz-signals] ${name}: ${runs[name]} inputs, no failure`);
}

console.log(`[fuzz-signals] seed ${seed}, ${seconds} s`);
run("totality", totality, (seconds * 1000) / 2);
run("round-trip", roundTrip, seconds * 1000 * 0.3);
run("list-labels", listLabels, seconds * 1000 * 0.2);
