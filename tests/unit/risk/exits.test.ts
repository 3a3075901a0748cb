import { describe, expect, it } from "vitest";
import { PAPER_RISK_CAPABILITIES } from "../../../shared/brokers/paper/engine";
import { allocateTakeProfits, decide } from "../../../shared/risk";
import { input, leg, limits, paperAccount, placed, signal } from "./fixtures";

const bracketBroker = [
  paperAccount({ capabilities: { ...PAPER_RISK_CAPABILITIES, fractional: false, brackets: true } }),
];
const bare = { stopLoss: null, takeProfits: [] };

describe("risk engine: exits", () => {
  it("Scenario: Signals without exits get a default stop and take-profit on the right side", () => {
    const long = placed(decide(input({ signal: signal(bare) })));
    expect(long.intents.map((intent) => intent.leg)).toEqual(["entry", "stop", "tp1"]);
    expect(leg(long, "entry")).toMatchObject({ side: "buy", quantity: 20 });
    expect(leg(long, "stop")).toMatchObject({
      side: "sell",
      orderType: "stop",
      stopPrice: 98,
      quantity: 20,
      timeInForce: "gtc",
    });
    expect(leg(long, "tp1")).toMatchObject({ side: "sell", orderType: "limit", limitPrice: 104, quantity: 20 });
    expect(long.notes).toEqual(
      expect.arrayContaining([
        "The signal has no stop: default stop 2% below the entry, at 98.00.",
        "The signal has no target: default take-profit 4% at 104.00.",
      ]),
    );

    const short = placed(decide(input({ signal: signal({ ...bare, action: "short" }) })));
    expect(leg(short, "entry")).toMatchObject({ side: "sell_short", quantity: 20 });
    expect(leg(short, "stop")).toMatchObject({ side: "buy_to_cover", positionEffect: "close", stopPrice: 102 });
    expect(leg(short, "tp1")).toMatchObject({ side: "buy_to_cover", limitPrice: 96 });

    // A signal's own stop and targets win over the defaults.
    const own = placed(
      decide(input({ signal: signal({ stopLoss: 97, takeProfits: [{ price: 103, percent: null }] }) })),
    );
    expect(leg(own, "stop").stopPrice).toBe(97);
    expect(leg(own, "tp1").limitPrice).toBe(103);
  });

  it("Scenario: A member changes or turns off the default exits", () => {
    const changed = placed(
      decide(input({ signal: signal(bare), limits: limits({ defaultStopPercent: 5, defaultTakeProfitPercent: 10 }) })),
    );
    expect(leg(changed, "stop").stopPrice).toBe(95);
    expect(leg(changed, "tp1").limitPrice).toBe(110);

    const noStop = placed(decide(input({ signal: signal(bare), limits: limits({ defaultStopPercent: null }) })));
    expect(noStop.intents.map((intent) => intent.leg)).toEqual(["entry", "tp1"]);

    const none = placed(
      decide(
        input({ signal: signal(bare), limits: limits({ defaultStopPercent: null, defaultTakeProfitPercent: null }) }),
      ),
    );
    expect(none.intents.map((intent) => intent.leg)).toEqual(["entry"]);
    expect(none.orderClass).toBe("simple");
    expect(leg(none, "entry").placeAfterFill).toBe(false);
  });

  it("Scenario: Take-profit quantities follow the signal's percents without over-allocating", () => {
    const split = (takeProfits: { price: number; percent: number | null }[], quantity: number) =>
      placed(decide(input({ signal: signal({ takeProfits }), sizing: { mode: "fixed_quantity", quantity } })))
        .intents.filter((intent) => intent.leg.startsWith("tp"))
        .map((intent) => [intent.leg, intent.quantity]);

    // 50/30/20 of 7 shares: 3.5 → 3, 2.1 → 2, and the last takes what is left (2).
    expect(
      split(
        [
          { price: 101, percent: 50 },
          { price: 102, percent: 30 },
          { price: 103, percent: 20 },
        ],
        7,
      ),
    ).toEqual([
      ["tp1", 3],
      ["tp2", 2],
      ["tp3", 2],
    ]);
    // Without percents: evenly, the leftover to the last.
    const even = [101, 102, 103].map((price) => ({ price, percent: null }));
    expect(split(even, 10)).toEqual([
      ["tp1", 3],
      ["tp2", 3],
      ["tp3", 4],
    ]);
    // 50% at one target: the other half stays open under the stop.
    expect(split([{ price: 105, percent: 50 }], 10)).toEqual([["tp1", 5]]);
    // One share cannot be split three ways: only the last target gets it, and the decision says so.
    const tiny = placed(
      decide(input({ signal: signal({ takeProfits: even }), sizing: { mode: "fixed_quantity", quantity: 1 } })),
    );
    expect(tiny.intents.map((intent) => [intent.leg, intent.quantity])).toEqual([
      ["entry", 1],
      ["stop", 1],
      ["tp3", 1],
    ]);
    expect(tiny.notes.join(" ")).toMatch(/2 take-profit\(s\) got no quantity/);
    // Crypto splits in lots of its step.
    expect(allocateTakeProfits(166, [null, null, null])).toEqual([55, 55, 56]);
    expect(allocateTakeProfits(10, [70, 70])).toEqual([5, 5]);
  });

  it("Scenario: One take-profit with a bracket-capable broker is sent as a native bracket", () => {
    const bracket = placed(decide(input({ accounts: bracketBroker })));
    expect(bracket.orderClass).toBe("bracket");
    expect(bracket.intents.map((intent) => [intent.leg, intent.nativeBracket, intent.placeAfterFill])).toEqual([
      ["entry", true, false],
      ["stop", true, false],
      ["tp1", true, false],
    ]);

    const oto = placed(
      decide(
        input({
          accounts: bracketBroker,
          signal: signal({ takeProfits: [] }),
          limits: limits({ defaultTakeProfitPercent: null }),
        }),
      ),
    );
    expect(oto.orderClass).toBe("oto");
    expect(oto.intents.map((intent) => intent.leg)).toEqual(["entry", "stop"]);
    expect(oto.intents.every((intent) => intent.nativeBracket)).toBe(true);
  });

  it("Scenario: Several take-profits are placed by the engine after the fill", () => {
    const targets = [
      { price: 105, percent: 50 },
      { price: 110, percent: 50 },
    ];
    for (const accounts of [bracketBroker, [paperAccount()]]) {
      const decision = placed(decide(input({ accounts, signal: signal({ takeProfits: targets }) })));
      expect(decision.orderClass).toBe("engine");
      expect(decision.intents.map((intent) => [intent.leg, intent.nativeBracket, intent.placeAfterFill])).toEqual([
        ["entry", false, false],
        ["stop", false, true],
        ["tp1", false, true],
        ["tp2", false, true],
      ]);
    }
    // A broker without brackets gets even a single take-profit from the engine.
    const single = placed(decide(input({ accounts: [paperAccount()] })));
    expect(single.orderClass).toBe("engine");
    expect(leg(single, "tp1").placeAfterFill).toBe(true);
    // A partial take-profit cannot ride on a native bracket (it must cover the whole entry).
    const partial = placed(
      decide(input({ accounts: bracketBroker, signal: signal({ takeProfits: [{ price: 110, percent: 50 }] }) })),
    );
    expect(partial.orderClass).toBe("engine");
    expect(partial.notes.join(" ")).toMatch(/engine places them after the fill/);
  });
});
