import fc from "fast-check";
import { formatSignal } from "../../../shared/signals/format";
import { formatDecimal } from "../../../shared/signals/numbers";
import {
  MAX_AMOUNT,
  MIN_PRICE,
  type NormalizedSignal,
  NormalizedSignalSchema,
  ORDER_TYPES,
  SIGNAL_ACTIONS,
  TIMES_IN_FORCE,
  type TrailDistance,
} from "../../../shared/signals/schema";
import { CRYPTO_QUOTES } from "../../../shared/signals/symbols";

/**
 * fast-check arbitraries for valid normalized signals (every one satisfies NormalizedSignalSchema) and for
 * hostile texts. Shared by the property tests and scripts/fuzz-signals.ts.
 */

/** Prices of every scale the schema allows: round numbers, cents, satoshi-sized, and raw doubles. */
const priceArb = fc.oneof(
  fc.integer({ min: 1, max: 100_000 }),
  fc.integer({ min: 1, max: 10_000_000 }).map((cents) => cents / 100),
  fc.integer({ min: 1, max: 1_000_000 }).map((n) => n / 1e8),
  fc.double({ min: MIN_PRICE, max: 1e9, noNaN: true, noDefaultInfinity: true }),
);

/** Plain objects only: the parser returns ordinary objects, and deep equality checks prototypes. */
const plain = { noNullPrototype: true } as const;

const ratioBelow = fc.double({ min: 0.01, max: 0.999, noNaN: true });
const ratioAbove = fc.double({ min: 1.001, max: 20, noNaN: true });

const equitySymbolArb = fc.oneof(
  fc.constantFrom(
    "AAPL",
    "TSLA",
    "F",
    "BRK.B",
    "SPY",
    "ON",
    "AI",
    "NOW",
    "LTC",
    "SOL",
    "OPUSD",
    "SL",
    "TP",
    "DAY",
    "CALL",
  ),
  fc.stringMatching(/^[A-Z]{1,5}(\.[A-Z]{1,2})?$/),
);
const cryptoSymbolArb = fc
  .tuple(
    fc.oneof(
      fc.constantFrom("BTC", "ETH", "SOL", "DOGE", "PEPE", "ON", "TP1", "USDT"),
      fc.stringMatching(/^[A-Z][A-Z0-9]{1,9}$/),
    ),
    fc.constantFrom(...CRYPTO_QUOTES),
  )
  .filter(([base, quote]) => base !== quote)
  .map(([base, quote]) => `${base}/${quote}`);

const isoDateArb = fc
  .date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2040-12-31T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

const percentArb = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0.01, max: 100, noNaN: true }));
/** A trailing stop: a percent under 100, or an amount. */
const trailArb: fc.Arbitrary<TrailDistance> = fc.oneof(
  fc.oneof(fc.integer({ min: 1, max: 99 }), fc.double({ min: 0.01, max: 99.99, noNaN: true })).map((percent) => ({
    percent,
  })),
  priceArb.map((amount) => ({ amount })),
);

interface Frame {
  action: NormalizedSignal["action"];
  assetClass: NormalizedSignal["assetClass"];
  symbol: string;
  option: NormalizedSignal["option"];
}

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    action: fc.constantFrom(...SIGNAL_ACTIONS),
    assetClass: fc.constant("equity" as const),
    symbol: equitySymbolArb,
    option: fc.constant(null),
  }),
  fc.record({
    action: fc.constantFrom(...SIGNAL_ACTIONS),
    assetClass: fc.constant("crypto" as const),
    symbol: cryptoSymbolArb,
    option: fc.constant(null),
  }),
  fc
    .record({
      action: fc.constantFrom(...SIGNAL_ACTIONS),
      symbol: equitySymbolArb,
      expiration: isoDateArb,
      strike: priceArb,
      right: fc.constantFrom("call" as const, "put" as const),
    })
    .map(({ action, symbol, expiration, strike, right }) => ({
      action,
      assetClass: "option" as const,
      symbol,
      option: { underlying: symbol, expiration, strike, right },
    })),
);

const entryArb = (orderType: NormalizedSignal["orderType"]) =>
  orderType === "market"
    ? fc.constant(null)
    : orderType === "limit"
      ? fc.oneof(
          priceArb.map((price) => ({ price })),
          fc.tuple(priceArb, ratioAbove).map(([low, r]) => ({ low, high: low * r })),
        )
      : priceArb.map((price) => ({ price }));

/** Stop and targets on the right side of the entry for an entry order; none on an exit. */
function protectionArb(action: NormalizedSignal["action"], entry: NormalizedSignal["entry"]) {
  if (action !== "buy" && action !== "short") {
    return fc.constant({ stopLoss: null, trailingStop: null, takeProfits: [] as NormalizedSignal["takeProfits"] });
  }
  const long = action === "buy";
  const checked = entry !== null && (action === "buy" || action === "short");
  const low = entry === null ? 0 : "price" in entry ? entry.price : entry.low;
  const high = entry === null ? 0 : "price" in entry ? entry.price : entry.high;
  const stopArb = checked ? (long ? ratioBelow.map((r) => low * r) : ratioAbove.map((r) => high * r)) : priceArb;
  const targetPriceArb = checked ? (long ? ratioAbove.map((r) => high * r) : ratioBelow.map((r) => low * r)) : priceArb;
  return fc.record({
    stopLoss: fc.option(stopArb, { nil: null }),
    trailingStop: fc.option(trailArb, { nil: null }),
    takeProfits: fc.array(fc.record({ price: targetPriceArb, percent: fc.option(percentArb, { nil: null }) }, plain), {
      maxLength: 6,
    }),
  });
}

/** Every generated value satisfies NormalizedSignalSchema (the few that do not are filtered out). */
export const validSignalArb: fc.Arbitrary<NormalizedSignal> = frameArb
  .chain((frame) =>
    fc.constantFrom(...ORDER_TYPES).chain((orderType) =>
      entryArb(orderType).chain((entry) =>
        fc
          .record({
            protection: protectionArb(frame.action, entry),
            sizing: sizingArb(frame),
            leverage:
              frame.assetClass === "crypto" && (frame.action === "buy" || frame.action === "short")
                ? fc.option(fc.integer({ min: 1, max: 125 }), { nil: null })
                : fc.constant(null),
            timeInForce: fc.option(fc.constantFrom(...TIMES_IN_FORCE), { nil: null }),
          })
          .map(({ protection, sizing, leverage, timeInForce }) => {
            const targets = protection.takeProfits;
            const total = targets.reduce((sum, t) => sum + (t.percent ?? 0), 0);
            const takeProfits = total > 100 ? targets.map((t) => ({ ...t, percent: null })) : targets;
            return {
              ...frame,
              orderType,
              entry,
              ...sizing,
              stopLoss: protection.stopLoss,
              // a fixed stop or a trailing stop, never both; absent when none (as the parser reads it)
              ...(protection.stopLoss === null && protection.trailingStop
                ? { trailingStop: protection.trailingStop }
                : {}),
              takeProfits,
              leverage,
              timeInForce,
            } satisfies NormalizedSignal;
          }),
      ),
    ),
  )
  .filter((signal) => NormalizedSignalSchema.safeParse(signal).success);

function sizingArb(frame: Frame) {
  const quantityArb =
    frame.assetClass === "option"
      ? fc.integer({ min: 1, max: 10_000 })
      : fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 1e-8, max: MAX_AMOUNT, noNaN: true }));
  const exit = frame.action !== "buy" && frame.action !== "short";
  return fc.oneof(
    fc.record({ quantity: fc.option(quantityArb, { nil: null }), quantityPercent: fc.constant(null) }),
    exit
      ? fc.record({ quantity: fc.constant(null), quantityPercent: percentArb })
      : fc.record({ quantity: fc.constant(null), quantityPercent: fc.constant(null) }),
  );
}

/** Words, numbers and decoration that signals are made of, to build texts that get deep into the parser. */
const PIECES = [
  "BUY",
  "sell",
  "SHORT",
  "cover",
  "close",
  "trim",
  "long",
  "BTO",
  "STC",
  "STO",
  "BTC",
  "buy to open",
  "sell short",
  "AAPL",
  "$TSLA",
  "BRK.B",
  "#BTC/USDT",
  "ETHUSDT",
  "BTC-USD",
  "SOL",
  "LINK",
  "NEAR",
  "$",
  "#",
  "the",
  "market",
  "@",
  "at",
  "entry",
  "Entry Zone:",
  "SL",
  "stop",
  "stop loss",
  "stop limit",
  "TP",
  "TP1",
  "targets",
  "Targets:",
  "leverage",
  "Cross",
  "10x",
  "x20",
  "2x",
  "qty",
  "shares",
  "contracts",
  "half",
  "50%",
  "150%",
  "(30%)",
  "-",
  "–",
  "Entries:",
  "Entry Targets:",
  "Stop Targets:",
  "(+2.6%)",
  "<@&123456>",
  "https://x.co/AAPL/1",
  "to",
  "and",
  "between",
  ",",
  "/",
  ":",
  "(",
  ")",
  "1)",
  "2.",
  "1️⃣",
  "12/20",
  "1/15/2027",
  "2026-12-18",
  "2/30",
  "Dec 20",
  "20DEC26",
  "0DTE",
  "5DTE",
  "190C",
  "450p",
  "500 call",
  "puts",
  "strike",
  "exp",
  "0",
  "-5",
  "1",
  "10",
  "190.50",
  "1,250.50",
  "65k",
  "63.5k",
  ".85",
  "$190",
  "0.00001234",
  "999999999999999",
  "1e5",
  "GTC",
  "day",
  "IOC",
  "fok",
  "MKT",
  "limit",
  "STOP ORDER",
  "STOCK",
  "risk",
  "4H",
  "10:30",
  "🚀",
  "**",
  "> ",
  "\n",
  "  ",
  "•",
  "`",
  "~~",
  "above",
  "below",
  "on break of",
  "breakout",
  "Target 1:",
  "TP #1",
  "(1)",
  "1:64000",
  "2:3",
  "target 2 at",
  "Stop Loss 1:",
  "don't",
  "no longer",
  "not yet",
  "cancel",
  "move SL to",
  "breakeven",
  "hit",
  "reached",
  "stopped out",
  "Profit:",
  "✅",
  "after",
  "if",
  "@everyone",
  "@Trader",
  "(swing trade)",
  ".P",
  "-PERP",
  "perp",
  "Leverage: Cross",
  "ЛОНГ",
  "ШОРТ",
  "Вход:",
  "ТП1:",
  "СЛ",
  "Плечо",
  "20х",
  "COMPRA",
  "VENTA",
  "VENDA",
  "ENTRADA",
  "OBJETIVO",
  "ALVO",
  "245․50",
  "good til cancelled",
  "MA",
  "ON",
];

export const signalishTextArb: fc.Arbitrary<string> = fc
  .array(fc.constantFrom(...PIECES), { maxLength: 30 })
  .chain((pieces) =>
    fc
      .array(fc.constantFrom(" ", "", "\n", " ", " "), { minLength: pieces.length, maxLength: pieces.length })
      .map((gaps) => pieces.map((p, i) => p + (gaps[i] ?? " ")).join("")),
  );

type Mutation =
  | { kind: "insert"; at: number; text: string }
  | { kind: "delete"; at: number; length: number }
  | { kind: "replace"; at: number; text: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom(...PIECES)),
  }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 6 }) }),
  fc.record({
    kind: fc.constant("replace" as const),
    at: fc.nat(),
    text: fc.string({ unit: "binary", minLength: 1, maxLength: 3 }),
  }),
);

function mutate(text: string, mutations: Mutation[]): string {
  let out = text;
  for (const m of mutations) {
    const at = m.at % (out.length + 1);
    if (m.kind === "insert") out = out.slice(0, at) + m.text + out.slice(at);
    else if (m.kind === "delete") out = out.slice(0, at) + out.slice(at + m.length);
    else out = out.slice(0, at) + m.text + out.slice(at + m.text.length);
  }
  return out;
}

/** A valid signal's canonical text, or a known realistic text, with a few random edits. */
export const mutatedSignalTextArb = (seeds: string[]): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.oneof(validSignalArb.map(formatSignal), fc.constantFrom(...seeds)),
      fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
    )
    .map(([text, mutations]) => mutate(text, mutations));

/** Any string at all, including lone surrogates and control characters. */
export const anyTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: "grapheme", maxLength: 100 }),
);

/** A copy-trading layout with numbered targets and stops, and the prices it was written from. */
export interface NumberedLayout {
  text: string;
  side: "buy" | "short";
  entry: number | null;
  stopLoss: number;
  targets: number[];
  /** Every item number is written with ":", ")", "#", "@" or "at", so the text can only mean one thing. */
  unambiguous: boolean;
}

/** How item n with price p is written; `weak` styles put only "-" or a space between number and price. */
const TARGET_STYLES: { write: (n: number, p: string) => string; weak: boolean; header?: string }[] = [
  { write: (n, p) => `Target ${n}: ${p}`, weak: false },
  { write: (n, p) => `TP ${n}: ${p}`, weak: false },
  { write: (n, p) => `PT ${n}: ${p}`, weak: false },
  { write: (n, p) => `Take-Profit ${n}: ${p}`, weak: false },
  { write: (n, p) => `TP #${n} ${p}`, weak: false },
  { write: (n, p) => `target ${n} at ${p}`, weak: false },
  // "2:3" could be a ratio, so a small price written this way may be refused
  { write: (n, p) => `Target ${n}:${p}`, weak: true },
  { write: (n, p) => `🎯 Target ${n} - ${p}`, weak: true },
  { write: (n, p) => `Target ${n} ${p}`, weak: true },
  { write: (n, p) => `(${n}) ${p}`, weak: false, header: "Targets:" },
  { write: (n, p) => `${n}) ${p}`, weak: false, header: "Targets:" },
  { write: (n, p) => `${n} - ${p}`, weak: true, header: "Targets:" },
  { write: (n, p) => `${n}. ${p}`, weak: false, header: "Take-Profit Targets:" },
  { write: (n, p) => `${n}\uFE0F\u20E3 ${p}`, weak: false, header: "🎯 Targets:" },
  { write: (n, p) => `TP${n} - ${p}`, weak: false },
  { write: (n, p) => `Alvo ${n}: ${p}`, weak: false },
  { write: (n, p) => `ТП${n}: ${p}`, weak: false },
];

const STOP_STYLES: { write: (p: string) => string; weak: boolean }[] = [
  { write: (p) => `SL: ${p}`, weak: false },
  { write: (p) => `Stop Loss 1: ${p}`, weak: false },
  { write: (p) => `SL 1: ${p}`, weak: false },
  { write: (p) => `Stop 1 - ${p}`, weak: true },
  { write: (p) => `Stop Targets:\n1) ${p}`, weak: false },
];

const ENTRY_STYLES: { write: (p: string) => string; weak: boolean }[] = [
  { write: (p) => `Entry: ${p}`, weak: false },
  { write: (p) => `Entry 1: ${p}`, weak: false },
  { write: (p) => `@ ${p}`, weak: false },
];

/** Prices of every scale, including the small ones a list number could be confused with. */
const layoutPriceArb = fc.oneof(
  fc.integer({ min: 1, max: 30 }),
  fc.integer({ min: 1, max: 100_000 }),
  fc.integer({ min: 1, max: 10_000_000 }).map((cents) => cents / 100),
  fc.integer({ min: 1, max: 100_000 }).map((n) => n / 1e6),
);

export const numberedLayoutArb: fc.Arbitrary<NumberedLayout> = fc
  .record({
    side: fc.constantFrom("buy" as const, "short" as const),
    pair: fc.constantFrom("BTC/USDT", "ETH/USDT", "SOL/USDT", "DOGE/USDT", "$AAPL", "TSLA"),
    entry: layoutPriceArb,
    stopRatio: fc.double({ min: 0.5, max: 0.99, noNaN: true }),
    targetRatios: fc.array(fc.double({ min: 1.01, max: 3, noNaN: true }), { minLength: 1, maxLength: 5 }),
    withEntry: fc.boolean(),
    targetStyle: fc.constantFrom(...TARGET_STYLES),
    stopStyle: fc.constantFrom(...STOP_STYLES),
    entryStyle: fc.constantFrom(...ENTRY_STYLES),
    separator: fc.constantFrom("\n", "\n", ", ", " "),
    percents: fc.boolean(),
  })
  .map((draw) => {
    const long = draw.side === "buy";
    const price = (value: number) => Number(value.toPrecision(6));
    const entry = price(draw.entry);
    const stopLoss = price(long ? entry * draw.stopRatio : entry / draw.stopRatio);
    const targets = draw.targetRatios.map((r) => price(long ? entry * r : entry / r));
    const ordered = [...new Set(targets)].sort((a, b) => (long ? a - b : b - a));
    const share = Math.floor(100 / ordered.length);
    const items = ordered.map((p, index) => {
      const written = draw.targetStyle.write(index + 1, formatDecimal(p));
      return draw.percents && !draw.targetStyle.weak ? `${written} - ${share}%` : written;
    });
    const header = draw.targetStyle.header;
    // a line-start style needs each item on its own line
    const separator = header ? "\n" : draw.separator;
    const lines = [
      `${draw.side === "buy" ? "LONG" : "SHORT"} ${draw.pair}`,
      ...(draw.withEntry ? [draw.entryStyle.write(formatDecimal(entry))] : []),
      [header, ...items].filter((x) => x !== undefined).join(header ? "\n" : separator),
      draw.stopStyle.write(formatDecimal(stopLoss)),
    ];
    return {
      text: lines.join("\n"),
      side: draw.side,
      entry: draw.withEntry ? entry : null,
      stopLoss,
      targets: ordered,
      unambiguous: !draw.targetStyle.weak && !draw.stopStyle.weak,
    } satisfies NumberedLayout;
  })
  .filter((layout) => layout.stopLoss > 0 && layout.targets.every((t) => t > 0));
