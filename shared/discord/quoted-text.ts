/**
 * A member's own text shown back in a Discord embed, with chosen words highlighted, and read back exactly when a
 * button on that message is pressed (Edit & resend, Post as a new signal). Every markdown character of the text is
 * escaped, so the only unescaped `__**`/`**__` are the highlight marks, and decoding gives the original text.
 */

const MARKDOWN = /[\\*_~`|>#\-[\]()<:]/g;
const OPEN = "__**";
const CLOSE = "**__";

export interface TextSpan {
  start: number;
  end: number;
}

const escapeMarkdown = (text: string) => text.replace(MARKDOWN, (char) => `\\${char}`);

/**
 * The text with each span highlighted (merged where they overlap). A span that covers most of the text points at no
 * word in particular ("no symbol" in the whole message) and is not highlighted.
 */
export function quoteWithHighlights(text: string, spans: readonly TextSpan[] = []): string {
  const meaningful = text.trim().length;
  const marked = spans
    .map((span) => ({ start: Math.max(0, span.start), end: Math.min(text.length, span.end) }))
    .filter((span) => {
      const words = text.slice(span.start, span.end).trim().length;
      return words > 0 && words < meaningful * 0.6;
    })
    .sort((a, b) => a.start - b.start);
  const merged: TextSpan[] = [];
  for (const span of marked) {
    const last = merged.at(-1);
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  let out = "";
  let at = 0;
  for (const span of merged) {
    // Marks around the words only: leading and trailing spaces stay outside, or Discord would not render them.
    const inner = text.slice(span.start, span.end);
    const lead = inner.length - inner.trimStart().length;
    const trail = inner.length - inner.trimEnd().length;
    out += escapeMarkdown(text.slice(at, span.start + lead));
    out += `${OPEN}${escapeMarkdown(inner.trim())}${CLOSE}`;
    at = span.end - trail;
  }
  return out + escapeMarkdown(text.slice(at));
}

/** The original text of a `quoteWithHighlights` result. */
export function textOfQuote(quote: string): string {
  let out = "";
  for (let i = 0; i < quote.length; i++) {
    const char = quote[i] as string;
    if (char === "\\" && i + 1 < quote.length) {
      out += quote[++i];
    } else if (quote.startsWith(OPEN, i) || quote.startsWith(CLOSE, i)) {
      i += OPEN.length - 1;
    } else {
      out += char;
    }
  }
  return out;
}
