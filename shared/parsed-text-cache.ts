/**
 * JSON documents kept parsed beside the text they were parsed from, by key, within a budget of text characters
 * (least recently used first out). A read hands over the stored text: the kept value is returned only when that
 * text is the one it came from, so a write made anywhere else is seen, and parsing is skipped when nothing changed.
 * Every reader of a key shares its kept value, so readers must treat it as immutable. (Freezing it would enforce that,
 * but V8 then handles the large records slower: profiled, it cost about as much as the parsing it saves.)
 */
export class ParsedTextCache<T> {
  private readonly entries = new Map<string, { text: string; value: T }>();
  private size = 0;

  constructor(private readonly budgetChars: number) {}

  /** The value of `text`, parsed now or kept from the last time this key held exactly this text. */
  read(key: string, text: string): T {
    const kept = this.entries.get(key);
    if (kept?.text === text) {
      this.touch(key, kept);
      return kept.value;
    }
    return this.keep(key, text, JSON.parse(text) as T);
  }

  /** Keeps `value`, just written as `text` (its JSON), so the next read of this key does not parse it. */
  keep(key: string, text: string, value: T): T {
    this.forget(key);
    if (text.length <= this.budgetChars) {
      this.entries.set(key, { text, value });
      this.size += text.length;
      for (const [oldest, { text: oldText }] of this.entries) {
        if (this.size <= this.budgetChars) break;
        this.entries.delete(oldest);
        this.size -= oldText.length;
      }
    }
    return value;
  }

  forget(key: string): void {
    const kept = this.entries.get(key);
    if (!kept) return;
    this.entries.delete(key);
    this.size -= kept.text.length;
  }

  /** Characters of text kept (for tests). */
  get keptChars(): number {
    return this.size;
  }

  private touch(key: string, entry: { text: string; value: T }): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }
}
