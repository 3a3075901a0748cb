import type { ParseResult, SignalError } from "./errors";

/**
 * One signal per message. A text whose whole is refused, but in which two or
 * more items (numbered or bulleted list items, or else lines) each read alone
 * as a complete signal on different instruments, holds several signals. It is
 * refused as a whole with SEVERAL_SIGNALS: each signal must be its own
 * message, so that it is executed, edited, replied to and reacted to on its
 * own. This never turns a refusal into a trade; it only names the reason.
 */

/** `1)`, `1.`, `(1)`, `#1`, `1:` or a bullet at the start of a line, followed by a space. */
const ITEM_HEAD = /^[ \t]*(?:\(?#?\d{1,2}[.):]|[-•*▪●◦])[ \t]+/;

interface Item {
  start: number;
  end: number;
  /** The item's text without its number or bullet. */
  body: string;
}

export function severalSignals(text: string, parseOne: (text: string) => ParseResult): SignalError | null {
  const { listItems, lines } = splitItems(text);
  for (const items of [listItems, lines]) {
    if (items.length < 2) continue;
    const signals = items.flatMap((item) => {
      const result = parseOne(item.body);
      return result.ok ? [{ item, symbol: result.signal.option?.underlying ?? result.signal.symbol }] : [];
    });
    if (signals.length < 2 || new Set(signals.map((s) => s.symbol)).size < 2) continue;
    const second = signals[1]?.item ?? items[1];
    return {
      code: "SEVERAL_SIGNALS",
      message: `This message holds ${signals.length} signals (${signals.map((s) => s.symbol).join(", ")}). Post each signal as its own message, so that each is executed, edited and replied to on its own.`,
      start: second?.start ?? 0,
      end: second?.end ?? text.length,
    };
  }
  return null;
}

/** The list items (a line with a head starts one, the lines after it continue it) and the non-empty lines. */
function splitItems(text: string): { listItems: Item[]; lines: Item[] } {
  const listItems: Item[] = [];
  const lines: Item[] = [];
  let offset = 0;
  for (const line of text.split("\n")) {
    const start = offset;
    const end = start + line.length;
    offset = end + 1;
    if (line.trim() === "") continue;
    lines.push({ start, end, body: line });
    const head = ITEM_HEAD.exec(line);
    const last = listItems.at(-1);
    if (head) listItems.push({ start, end, body: line.slice(head[0].length) });
    else if (last) {
      last.end = end;
      last.body = `${last.body}\n${line}`;
    }
  }
  return { listItems, lines };
}
