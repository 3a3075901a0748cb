import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PAPER_RISK_CAPABILITIES } from "../../../shared/brokers/paper/engine";
import {
  allocateTakeProfits,
  decide,
  fromLots,
  lotStep,
  type RiskSignal,
  type Sizing,
  toLots,
  unitMultiplier,
} from "../../../shared/risk";
import { input, limits, paperAccount, position, signal } from "./fixtures";

const sizingArb: fc.Arbitrary<Sizing | null> = fc.oneof(
  fc.constant(null),
  fc.record({
    mode: fc.constant("fixed_quantity" as const),
    quantity: fc.double({ min: 0.001, max: 100_000, noNaN: true }),
  }),
  fc.record({
    mode: fc.constant("fixed_notional" as const),
    notional: fc.double({ min: 1, max: 10_000_000, noNaN: true }),
  }),
  fc.record({
    mode: fc.constant("percent_of_equity" as const),
    percent: fc.double({ min: 0.01, max: 100, noNaN: true }),
  }),
  fc.record({ mode: fc.constant("risk_percent" as const), percent: fc.double({ min: 0.01, max: 10, noNaN: true }) }),
  fc.record({ mode: fc.constant("multiplier" as const), multiplier: fc.double({ min: 0.01, max: 50, noNaN: true }) }),
);

describe("risk engine: properties", () => {
  it("a decided quantity never exceeds any limit, sits on the lot grid, and its take-profits never over-allocate", () => {
    let placedCount = 0;
    fc.assert(
      fc.property(
        fc.record({
          assetClass: fc.constantFrom("equity" as const, "option" as const, "crypto" as const),
          direction: fc.constantFrom("buy" as const, "short" as const),
          price: fc.integer({ min: 100, max: 500_000 }).map((cents) => cents / 100),
          stopDistance: fc.option(fc.double({ min: 0.001, max: 0.5, noNaN: true })),
          equity: fc.integer({ min: 200, max: 5_000_000 }),
          buyingPower: fc.integer({ min: 0, max: 10_000_000 }),
          maxPositionPercent: fc.double({ min: 0.1, max: 100, noNaN: true }),
          maxNotional: fc.option(fc.double({ min: 10, max: 1_000_000, noNaN: true })),
          heldUnits: fc.option(fc.double({ min: 0.01, max: 50, noNaN: true })),
          fractional: fc.boolean(),
          sizing: sizingArb,
          providerQuantity: fc.option(fc.double({ min: 0.01, max: 1_000, noNaN: true })),
          targets: fc.array(fc.option(fc.integer({ min: 1, max: 100 })), { maxLength: 4 }),
        }),
        (c) => {
          const long = c.direction === "buy";
          const stopLoss = c.stopDistance === null ? null : c.price * (long ? 1 - c.stopDistance : 1 + c.stopDistance);
          const takeProfits = c.targets.map((percent, i) => ({
            price: c.price * (long ? 1.1 + i / 10 : 0.9 - i / 10),
            percent,
          }));
          const option: RiskSignal["option"] =
            c.assetClass === "option"
              ? { underlying: "AAPL", expiration: "2026-06-19", strike: 200, right: "call" }
              : null;
          const held =
            c.heldUnits === null
              ? []
              : [
                  position({
                    assetClass: c.assetClass,
                    option,
                    quantity: c.heldUnits,
                    marketPrice: c.price,
                    direction: long ? "long" : "short",
                  }),
                ];
          const account = paperAccount(
            { capabilities: { ...PAPER_RISK_CAPABILITIES, fractional: c.fractional } },
            { equity: c.equity, startOfDayEquity: c.equity, buyingPower: c.buyingPower, positions: held },
          );
          const decision = decide(
            input({
              signal: signal({
                action: c.direction,
                assetClass: c.assetClass,
                option,
                entry: { price: c.price },
                stopLoss,
                takeProfits,
                quantity: c.providerQuantity,
              }),
              sizing: c.sizing,
              limits: limits({
                maxPositionPercent: c.maxPositionPercent,
                maxNotionalPerPosition: c.maxNotional,
                maxPositionsPerSymbol: 2,
              }),
              accounts: [account],
              quotePrice: c.price,
            }),
          );
          if (decision.kind === "skip") return;
          placedCount += 1;

          const entry = decision.intents[0];
          if (!entry) throw new Error("no entry");
          const multiplier = unitMultiplier(c.assetClass);
          const notional = entry.quantity * c.price * multiplier;
          const heldNotional = (c.heldUnits ?? 0) * c.price * multiplier;
          const tolerance = 1e-6 * Math.max(1, notional);
          expect(entry.quantity).toBeGreaterThan(0);
          expect(notional).toBeLessThanOrEqual((c.equity * c.maxPositionPercent) / 100 - heldNotional + tolerance);
          if (c.maxNotional !== null) expect(notional).toBeLessThanOrEqual(c.maxNotional - heldNotional + tolerance);
          expect(notional).toBeLessThanOrEqual(c.buyingPower + tolerance);

          // On the lot grid exactly: the quantity is the decimal its whole lots spell, with no float dust.
          const step = lotStep(c.assetClass, { fractional: c.fractional });
          expect(fromLots(toLots(entry.quantity, step), step)).toBe(entry.quantity);
          for (const intent of decision.intents)
            expect(fromLots(toLots(intent.quantity, step), step)).toBe(intent.quantity);

          const tpTotal = decision.intents
            .filter((i) => i.leg.startsWith("tp"))
            .reduce((sum, i) => sum + i.quantity, 0);
          expect(tpTotal).toBeLessThanOrEqual(entry.quantity + 1e-9);
          for (const intent of decision.intents.slice(1)) expect(intent.quantity).toBeLessThanOrEqual(entry.quantity);
        },
      ),
      { numRuns: 500 },
    );
    // The property is only worth something if many cases are placed (and reduced).
    expect(placedCount).toBeGreaterThan(150);
  });

  it("take-profit allocations add up to the entry when the targets cover all of it, and never exceed it", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.option(fc.double({ min: 0, max: 150, noNaN: true })), { minLength: 1, maxLength: 6 }),
        (lots, percents) => {
          const allocated = allocateTakeProfits(lots, percents);
          expect(allocated).toHaveLength(percents.length);
          for (const n of allocated) expect(Number.isInteger(n) && n >= 0).toBe(true);
          const total = allocated.reduce((sum, n) => sum + n, 0);
          expect(total).toBeLessThanOrEqual(lots);
          const given = percents.reduce<number>((sum, p) => sum + (p ?? 0), 0);
          const coversAll = given >= 100 || (percents.includes(null) && given <= 100);
          if (coversAll) expect(total).toBe(lots);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
