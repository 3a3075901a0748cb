import type { SignalAction } from "./schema";

/** The words the parser knows, all lower case. Words not listed here may be tickers. */

/** A lookup table without a prototype, so a word such as "constructor" finds nothing. */
function table<T>(entries: Record<string, T>): Readonly<Record<string, T | undefined>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

export interface SideWord {
  action: SignalAction;
  /** The word itself says "option" (BTO, STC, ...). */
  option: boolean;
  /** "trim" needs an amount: a percent or a quantity. */
  partial?: boolean;
}

export const SIDE_WORDS = table<SideWord>({
  buy: { action: "buy", option: false },
  buying: { action: "buy", option: false },
  bought: { action: "buy", option: false },
  long: { action: "buy", option: false },
  longing: { action: "buy", option: false },
  bto: { action: "buy", option: true },
  "buy-to-open": { action: "buy", option: true },
  sell: { action: "sell", option: false },
  selling: { action: "sell", option: false },
  sold: { action: "sell", option: false },
  stc: { action: "sell", option: true },
  "sell-to-close": { action: "sell", option: true },
  short: { action: "short", option: false },
  shorting: { action: "short", option: false },
  shorted: { action: "short", option: false },
  sto: { action: "short", option: true },
  "sell-to-open": { action: "short", option: true },
  cover: { action: "cover", option: false },
  covering: { action: "cover", option: false },
  covered: { action: "cover", option: false },
  "buy-to-close": { action: "cover", option: true },
  close: { action: "close", option: false },
  closing: { action: "close", option: false },
  closed: { action: "close", option: false },
  exit: { action: "close", option: false },
  exiting: { action: "close", option: false },
  exited: { action: "close", option: false },
  trim: { action: "close", option: false, partial: true },
  trimming: { action: "close", option: false, partial: true },
  trimmed: { action: "close", option: false, partial: true },
  // Russian, Spanish and Portuguese crypto groups (the spec lists them)
  лонг: { action: "buy", option: false },
  покупка: { action: "buy", option: false },
  шорт: { action: "short", option: false },
  продажа: { action: "sell", option: false },
  compra: { action: "buy", option: false },
  venta: { action: "sell", option: false },
  venda: { action: "sell", option: false },
});

/** "buy to open" written as three words: first word → second → third → meaning. */
export const SIDE_PHRASES = table<SideWord>({
  "buy to open": SIDE_WORDS["buy-to-open"] as SideWord,
  "buy to close": SIDE_WORDS["buy-to-close"] as SideWord,
  "sell to open": SIDE_WORDS["sell-to-open"] as SideWord,
  "sell to close": SIDE_WORDS["sell-to-close"] as SideWord,
  "sell short": SIDE_WORDS.short as SideWord,
  "selling short": SIDE_WORDS.short as SideWord,
  "sold short": SIDE_WORDS.short as SideWord,
});

/** "BTC" is Bitcoin unless it opens an option order (buy to close); resolved with the whole message. */
export const BUY_TO_CLOSE_ABBREVIATION = "btc";

/** Label words and the value they introduce. */
export type LabelKind =
  | "entry"
  | "entries"
  | "stop"
  | "targets"
  | "leverage"
  | "quantity"
  | "risk"
  | "direction"
  | "strike"
  | "expiration";

const LABELS: Record<string, LabelKind> = {
  entry: "entry",
  entries: "entries",
  "entry-targets": "entries",
  "entry-zone": "entry",
  "entry-price": "entry",
  "entry-range": "entry",
  "entry-area": "entry",
  "buy-zone": "entry",
  "sell-zone": "entry",
  zone: "entry",
  price: "entry",
  at: "entry",
  around: "entry",
  near: "entry",
  between: "entry",
  sl: "stop",
  stop: "stop",
  stops: "stop",
  stoploss: "stop",
  "stop-loss": "stop",
  invalidation: "stop",
  targets: "targets",
  target: "targets",
  tp: "targets",
  tps: "targets",
  pt: "targets",
  pts: "targets",
  tgt: "targets",
  tgts: "targets",
  takeprofit: "targets",
  "take-profit": "targets",
  "take-profits": "targets",
  leverage: "leverage",
  lev: "leverage",
  leveraged: "leverage",
  qty: "quantity",
  quantity: "quantity",
  size: "quantity",
  amount: "quantity",
  risk: "risk",
  rr: "risk",
  direction: "direction",
  side: "direction",
  bias: "direction",
  strike: "strike",
  exp: "expiration",
  expiry: "expiration",
  expiration: "expiration",
  expiring: "expiration",
  expires: "expiration",
  enter: "entry",
  // Russian
  вход: "entry",
  входа: "entry",
  тп: "targets",
  тейк: "targets",
  тейки: "targets",
  цель: "targets",
  цели: "targets",
  сл: "stop",
  стоп: "stop",
  плечо: "leverage",
  // Spanish and Portuguese
  entrada: "entry",
  objetivo: "targets",
  objetivos: "targets",
  alvo: "targets",
  alvos: "targets",
  apalancamiento: "leverage",
  alavancagem: "leverage",
  dirección: "direction",
  direccion: "direction",
  direção: "direction",
  direcao: "direction",
};

const NUMBERED_TARGET = /^(tp|pt|tgt|target|t|тп|alvo|objetivo)\d{1,2}$/;
const NUMBERED_STOP = /^(sl|сл)\d$/;

export function labelOf(lower: string): LabelKind | undefined {
  if (NUMBERED_TARGET.test(lower)) return "targets";
  if (NUMBERED_STOP.test(lower)) return "stop";
  return Object.hasOwn(LABELS, lower) ? LABELS[lower] : undefined;
}

/** Two-word labels: "stop loss", "take profit", "entry zone", "buy zone". */
export const LABEL_PHRASES = table<LabelKind>({
  "stop loss": "stop",
  "stop target": "stop",
  "stop targets": "stop",
  "take profit": "targets",
  "take profits": "targets",
  "profit target": "targets",
  "profit targets": "targets",
  "price target": "targets",
  "price targets": "targets",
  "buy zone": "entry",
  "buy range": "entry",
  "buy area": "entry",
  "buy price": "entry",
  "sell zone": "entry",
  "sell range": "entry",
  "sell area": "entry",
  "sell price": "entry",
  "entry zone": "entry",
  "entry targets": "entries",
  "entry points": "entries",
  "entry levels": "entries",
  "entry price": "entry",
  "limit price": "entry",
  // Cornix's "Amount per trade 5%" is sizing advice, read like "risk"
  "amount per": "risk",
});

/** Words that may sit between a label and its value without ending the label. */
export const LABEL_FILLER: Record<LabelKind, ReadonlySet<string>> = {
  entries: new Set(["at", "price", "prices", "are", "is", "of", "and", "then", "zone", "area", "level", "levels"]),
  entry: new Set([
    "zone",
    "area",
    "range",
    "price",
    "at",
    "around",
    "near",
    "between",
    "from",
    "is",
    "of",
    "limit",
    "lmt",
    "approx",
    "about",
    "level",
    "order",
  ]),
  stop: new Set(["loss", "at", "price", "below", "above", "under", "over", "is", "of", "level", "hard", "mental"]),
  targets: new Set([
    "at",
    "price",
    "prices",
    "is",
    "are",
    "of",
    "and",
    "then",
    "profit",
    "profits",
    "level",
    "levels",
    "zone",
    "area",
    "above",
    "below",
    "over",
    "under",
  ]),
  leverage: new Set([
    "cross",
    "isolated",
    "iso",
    "isolate",
    "max",
    "up",
    "to",
    "of",
    "is",
    "use",
    "margin",
    "cruzado",
    "cruzada",
    "aislado",
    "isolado",
    "isolada",
    "sugerido",
    "sugerida",
    "recomendado",
    "recomendada",
    "кросс",
    "изолированная",
  ]),
  quantity: new Set(["of", "is", "position"]),
  risk: new Set(["reward", "of", "is", "per", "trade"]),
  direction: new Set(["is"]),
  strike: new Set(["price", "at", "is", "of"]),
  expiration: new Set(["date", "on", "is", "of", "at"]),
};

/**
 * Breakout words: the entry triggers when the price crosses the level. Which order that is depends on the side
 * (parser.ts): buying above or selling below is a stop order, buying below or selling above a limit order.
 */
export type TriggerWord = "above" | "below" | "break";
export const TRIGGER_WORDS = table<TriggerWord>({
  above: "above",
  over: "above",
  below: "below",
  under: "below",
  break: "break",
  breaks: "break",
  breaking: "break",
  breakout: "break",
  breakdown: "break",
  "break-out": "break",
  "break-down": "break",
});

/** Words between a breakout word and its price: "on a break of 190", "breakout above the 190 level". */
export const TRIGGER_FILLER = new Set(["of", "the", "a", "at", "level", "above", "below", "over", "under", "to"]);

/** Words that negate a side written just after them ("don't short", "no longer long", "never buy"). */
export const NEGATORS = new Set([
  "don't",
  "dont",
  "not",
  "no",
  "never",
  "avoid",
  "avoiding",
  "wouldn't",
  "won't",
  "shouldn't",
  "can't",
  "cannot",
  "не",
  "nunca",
  "não",
  "nao",
]);

/** Words that may sit between a negator and the side it negates. */
export const NEGATION_FILLER = new Set([
  "longer",
  "more",
  "be",
  "go",
  "get",
  "going",
  "getting",
  "to",
  "a",
  "an",
  "the",
  "any",
  "want",
  "i",
  "we",
  "you",
  "it",
  "this",
  "that",
  "here",
  "ever",
  "even",
  "try",
  "trying",
  "do",
  "would",
  "should",
  "recommend",
]);

/** "not yet", "not now": hold off, whatever the rest says. */
export const NOT_NOW = new Set(["yet", "now"]);

/** After a negator, advice about how to trade, not a trade: "don't chase below 245". */
export const ADVICE_VERBS = new Set(["chase", "chasing", "fomo", "overleverage", "overtrade"]);

/** Instructions about a trade posted earlier (a later capability gives them a meaning; today they are refused). */
export const MANAGEMENT_WORDS = new Set([
  "cancel",
  "cancels",
  "cancelled",
  "canceled",
  "cancelling",
  "canceling",
  "cancellation",
  "update",
  "updated",
  "updating",
  "breakeven",
  "break-even",
  "отмена",
  "отменить",
  "отменяем",
  "безубыток",
  "cancelar",
  "cancelado",
  "cancelada",
  "cancelamos",
]);

/** Short labels of a trailing stop inside an entry: "TS 2%", "TSL 1.50" (read only where the layout makes them one). */
export const TRAIL_LABELS: ReadonlySet<string> = new Set(["ts", "tsl"]);
/** Words that open a trailing stop: "trailing stop 2%", "trail 2%". */
export const TRAIL_WORDS: ReadonlySet<string> = new Set(["trail", "trailing"]);

/** Verbs that change a stop or target when written beside one: "move SL to 188", "stop raised", "new stop". */
export const ADJUST_VERBS = new Set([
  "move",
  "moving",
  "moved",
  "raise",
  "raising",
  "raised",
  "lower",
  "lowering",
  "lowered",
  "adjust",
  "adjusting",
  "adjusted",
  "trail",
  "trailing",
  "trailed",
  "tighten",
  "tightening",
  "tightened",
  "new",
  "mover",
  "movemos",
  "переносим",
  "двигаем",
]);

/** Words that report what happened to a trade when written beside a level: "TP1 hit", "Entry filled". */
export const REPORT_VERBS = new Set([
  "hit",
  "hits",
  "reached",
  "reaching",
  "achieved",
  "done",
  "smashed",
  "filled",
  "triggered",
  "touched",
  "tagged",
  "completed",
  "secured",
  "booked",
  "alcanzado",
  "alcanzada",
  "atingido",
  "atingida",
  "достигнут",
  "достигнута",
  "взят",
  "взята",
]);

/** "stopped out": a result wherever it is written. */
export const STOPPED_WORDS = new Set(["stopped", "stopped-out"]);

/** "Profit: 69%", "Loss: 133.3%": a result line. */
export const RESULT_WORDS = new Set(["profit", "loss", "pnl", "lucro", "ganancia", "прибыль", "профит", "убыток"]);

/** Words that make the rest of their sentence a condition for later: "move SL to BE after TP1". */
export const CONDITIONAL_WORDS = new Set([
  "if",
  "once",
  "when",
  "after",
  "unless",
  "until",
  "si",
  "cuando",
  "quando",
  "después",
  "depois",
  "после",
  "если",
]);

/**
 * The non-English keywords (sides and labels): one of them in the symbol's place after a side ("BUY ALVO 10 @ 12")
 * may still be the ticker, where no other word is.
 */
export const FOREIGN_KEYWORDS: ReadonlySet<string> = new Set([
  "лонг",
  "покупка",
  "шорт",
  "продажа",
  "compra",
  "venta",
  "venda",
  "вход",
  "входа",
  "тп",
  "тейк",
  "тейки",
  "цель",
  "цели",
  "сл",
  "стоп",
  "плечо",
  "entrada",
  "objetivo",
  "objetivos",
  "alvo",
  "alvos",
  "apalancamiento",
  "alavancagem",
  "dirección",
  "direccion",
  "direção",
  "direcao",
]);

/**
 * Words often written in capitals right after a side that are not the symbol ("BUY MORE @ 185", "BUY NOW"): never
 * read as a ticker by the symbol-position fallback, even where one exists (tag it: $NOW).
 */
export const NOT_AFTER_SIDE_TICKERS = new Set([
  "more",
  "now",
  "here",
  "all",
  "again",
  "some",
  "back",
  "in",
  "out",
  "the",
  "it",
  "this",
  "that",
  "at",
  "and",
  "or",
  "a",
  "an",
  "every",
  "any",
  "asap",
  "today",
  "later",
  "soon",
  "too",
  "also",
  "only",
  "just",
  "half",
  "rest",
  "into",
  "up",
  "down",
  "big",
  "small",
  "order",
  "signal",
]);

/** "good til cancelled" spelled as words. */
export const UNTIL_WORDS = new Set(["til", "till", "until", "'til"]);

export type OrderTypeWord = "market" | "limit" | "stop" | "stop_limit";

export const ORDER_TYPE_WORDS = table<OrderTypeWord>({
  market: "market",
  mkt: "market",
  cmp: "market",
  limit: "limit",
  lmt: "limit",
  "stop-limit": "stop_limit",
  stoplimit: "stop_limit",
  "stp-lmt": "stop_limit",
});

export const TIME_IN_FORCE_WORDS = table<"day" | "gtc" | "ioc" | "fok">({
  gtc: "gtc",
  "good-til-canceled": "gtc",
  "good-till-canceled": "gtc",
  "good-til-cancelled": "gtc",
  "good-till-cancelled": "gtc",
  ioc: "ioc",
  fok: "fok",
  day: "day",
});

/** "day" is a time in force unless these words around it say it is something else ("day trade"). */
export const DAY_NOT_TIF_NEXT = new Set([
  "trade",
  "trades",
  "trading",
  "trader",
  "traders",
  "swing",
  "play",
  "plays",
  "chart",
  "candle",
  "high",
  "low",
  "ago",
  "move",
  "one",
  "two",
  "after",
  "before",
]);
export const DAY_NOT_TIF_PREVIOUS = new Set([
  "swing",
  "the",
  "a",
  "per",
  "this",
  "that",
  "every",
  "each",
  "next",
  "last",
  "one",
  "same",
  "all",
  "today",
  "intra",
  "first",
  "good",
  "great",
  "big",
  "red",
  "green",
]);

export const RIGHT_WORDS = table<"call" | "put">({ call: "call", calls: "call", put: "put", puts: "put" });

/** After a number: what it counts. "100 shares", "2 contracts". */
export const UNIT_WORDS = new Set([
  "shares",
  "share",
  "contracts",
  "contract",
  "cons",
  "units",
  "unit",
  "coins",
  "coin",
  "lots",
  "lot",
  "tokens",
]);

/** Words that say the symbol is a stock even if it looks like a coin ("buy 10 shares of SOL"). */
export const EQUITY_HINT_WORDS = new Set(["stock", "stocks", "shares", "share", "equity", "equities"]);

/** Words that say the message is about options even without a contract ("AAPL calls"). */
export const OPTION_HINT_WORDS = new Set(["contracts", "contract", "cons", "option", "options", "0dte"]);

export const FULL_MONTHS = table<number>({
  jan: 1,
  january: 1,
  feb: 2,
  february: 2,
  mar: 3,
  march: 3,
  apr: 4,
  april: 4,
  may: 5,
  jun: 6,
  june: 6,
  jul: 7,
  july: 7,
  aug: 8,
  august: 8,
  sep: 9,
  sept: 9,
  september: 9,
  oct: 10,
  october: 10,
  nov: 11,
  november: 11,
  dec: 12,
  december: 12,
});

/**
 * Common English words and chat/trading jargon of ticker length. Written untagged they are never a ticker
 * ("I think the market looks bullish today" has no symbol); `$ON` or `#ON` still is one.
 */
const STOPWORD_TEXT = `
a i r am an as at be by do go he if in is it me my no of oh ok on or so to up us we ya yo ye
all and any are ask bad big bit but buy can cut day did dip dm dms eod eow etc ever far few fly for fun
get got had has her hey him his hit hot how its jk let lol lot low mad man may mid new nfa not now off old
one our out own pay per put ran red run sad saw say see set she sit six so sub sum ten the too top try two
use via was way web who why win won yes yet you
able also away back bear bell best bull buys call came cash chat come cool dear does done down drop dump
each easy else even ever eyes face fact fast feel fell fill fine fire flat flip foot form free from full
gain gave gets give glad goes going gone good grab gray great green guys had half hand hard has have head
hear held help here high hint hits hold home hope hour huge idea into just keep kind knew know last late
lead left less like line lmao load long look lose loss lost lots love made main make many mark mean meme
mind miss mode moon more most move much must name near need news next nice none note once only onto open
over pain part past path peak play plan plus post pull pump push puts quit rate read real rest ride rips
risk road rock room rule runs safe said same save seen sell sent ship shit shot show side sign size slow
soft some soon spot stay step stop such sure swap take talk team tell test than that them then they
thin this time tiny told took tops true turn type upon very view wait walk want week well went were what
when whom wide will wish with word work wrap yeah year your zero
about above after again agree ahead alert alpha among angry apply asked avoid based basic begin being
below bench bests blast block board bonus break bring broke brown build built calls catch cause chart
cheap check chill chop claim class clean clear climb close comes could count cover crazy cross cycle daily
dirty doing doubt early easy entry equal every exact extra faith false field final first flash float floor
focus force fresh front funds games given going goods great greed gonna guess guide happy heavy hedge hello
hence highs holds hours house ideas image index inner issue items later learn least level light likes
limit lines local looks lower lucky lunch major maybe means meant media might minor money month moved moves
music never night noise north noted offer often order other ought owner paper party peace phase piece place
plain plans plays point power press price prime prior proof proud quick quiet quite raise rally range ratio
reach ready right rocky round route rules ruled scalp scale score sells sense setup seven share sharp shift
short shown sides since sized sizes skill sleep small smart solid sorry sound south space speak speed spend
spent split stand start state stays steal steam still stock stops store story study stuff style super
swing table taken takes taste teach thank their theme there these thick thing think third those three
throw tight timer times today token total touch tough trade trend trial tried tries truly trust truth twice
under until upper upset usual valid value video views visit voice volume waste watch water weird wheel
where which while white whole whose woman women world worry worse worst worth would write wrong young
yours youre
ah am pm bc btw fyi gg gl glta gm gn hodl idk imo imho irl lfg lmk nft ngl omg pls plz rn tbh thx ty wagmi
ngmi wen ser fren fomo fud hype yolo ez tf ta fa dd dyor ath atl otm itm atm dte iv rr eps cpi fed fomc gdp
ppi nfp etf ipo ceo cfo sec nyse usa uk eu ama tba tbd psa asap tldr pnl roi apy apr tvl dca kyc defi dex
cex lp ct sma ema rsi macd vwap ob fvg bos choch htf ltf ma bb hod lod pdh pdl ah rth vip pro lotto
signal trades alerts update recap watchlist idea ideas spot perp perps futures swap swaps margin pair
ticker symbol coin coins usdt usdc busd usd eur gbp dai fdusd tusd isolated cross note notes tf timeframe
h1 h4 m15 m5 d1 w1
life live lives lived love loved hate feel felt think thought know knew seem seems seemed look looks
looked keep kept give gave find found tell told asks said says came come make made take took goes went
wait watch want wants need needs like liked likes hope hoped try tried tries work works
play played move moved moves pay paid stay turn stand stood sit sat lie lay
kid kids baby boy boys girl girls guy mom dad son wife man men lady folks fam bro bros dude team
job jobs boss home house room car cars city town world earth land sea sky sun moon star stars fire water
food meal eat ate drink beer wine tea milk bread cake pizza game games sport song songs movie show shows
book books story news word words name names page post posts link links site text email phone calls
thing stuff bits part parts piece side sides area place spot point end ends start begin stop step steps
line lines list lists level test tests check note notes plan plans idea ideas goal goals rule rules
today night day days week weeks month year years hour hours min mins sec secs time times soon later
early late never ever again still maybe sure yes yeah yep nope nah okay fine well good great best
better worse worst nice cool sweet neat bad poor rich cheap dear free full empty open shut big small
huge tiny long short tall wide deep high low fast slow quick easy hard heavy light dark bright clean
dirty new old young fresh hot cold warm wet dry safe risky wild crazy weird funny happy sad angry calm
glad proud sorry tired sick alive dead real fake true false right wrong left next last first second
third other same such only just even also too very much many more most less least few lot lots some
any all none both each every own this that these those there here where when what why how who whom
whose which while since until after before above below under over into onto from with about
around along among near far away back down up out off on in at to for of
by as if or and but nor so yet than then once twice
me my mine we us our ours you your yours he him his she her hers it its they them their
is am are was were be been have has had do does did done can could will would shall should may
might must ought let lets get gets got go goes going gone see seen saw
win wins won lose loses lost gain gains loss bag bags pump pumps dump dumps rip rips
bull bulls bear bears bleed red green chop dead ready
please thanks thank cheers hello hi hey yo sup hf rofl haha hehe omg wow dope
lit based cope shill ape apes degen rekt
til till
`;

export const STOPWORDS: ReadonlySet<string> = new Set(STOPWORD_TEXT.split(/\s+/).filter((word) => word !== ""));
