import { packJsonAttachment } from "../notifications/attachment";
import { MAX_ATTACHMENT_BASE64_CHARS, type NotificationAttachment } from "../notifications/message";

/**
 * A `/privacy export` document as the files that carry it. One file when it fits one queue message; otherwise parts
 * that each do: part 1 holds every field with the record lists (orders, fills, audit entries...) emptied and an index
 * of where each list went; each further part holds one slice of one list, in order. Every part names the document it
 * belongs to (`format`, `exportedAt`, `community`) and is valid JSON alone, so a member can read any of them.
 */

/** More parts than this is more follow-ups than a member should have to collect: refused in words instead. */
export const MAX_EXPORT_PARTS = 20;

export type ExportFiles =
  | { ok: true; files: NotificationAttachment[]; jsonBytes: number }
  | { ok: false; jsonBytes: number; reason: "too_many_parts" | "record_too_large" };

interface Limits {
  maxChars: number;
  maxParts: number;
}

type ExportDocument = Record<string, unknown> & { format: unknown; version: unknown; exportedAt: unknown };

/** A slice of one list, and where it starts in that list. */
interface Slice {
  section: string;
  from: number;
  items: unknown[];
}

const jsonSize = (value: unknown) => JSON.stringify(value, null, 2).length;

export async function packExportFiles(
  base: string,
  document: ExportDocument,
  limits: Limits = { maxChars: MAX_ATTACHMENT_BASE64_CHARS, maxParts: MAX_EXPORT_PARTS },
): Promise<ExportFiles> {
  const whole = await packJsonAttachment(`${base}.json`, document, limits.maxChars);
  if (whole.ok) return { ok: true, files: [whole.attachment], jsonBytes: whole.jsonBytes };
  const refused = (reason: "too_many_parts" | "record_too_large"): ExportFiles => ({
    ok: false,
    jsonBytes: whole.jsonBytes,
    reason,
  });

  const partOf = (slice: Slice, part: number, total: number) => ({
    format: document.format,
    version: document.version,
    exportedAt: document.exportedAt,
    community: document.community,
    part,
    of: total,
    section: slice.section,
    from: slice.from,
    items: slice.items,
  });
  // Sized from this document's own compression, then checked packed (numbered as widely as a part can be): a slice
  // still too large is halved until each half fits.
  const budget = Math.floor(((limits.maxChars * whole.jsonBytes) / whole.packedChars) * 0.8);
  const pending = Object.entries(document)
    .filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]) && entry[1].length > 0)
    .flatMap(([section, items]) => sliceBySize(section, items, budget));
  const slices: Slice[] = [];
  for (let slice = pending.shift(); slice; slice = pending.shift()) {
    if (1 + slices.length + 1 > limits.maxParts) return refused("too_many_parts");
    const check = await packJsonAttachment(
      "part.json",
      partOf(slice, limits.maxParts, limits.maxParts),
      limits.maxChars,
    );
    if (check.ok) {
      slices.push(slice);
    } else if (slice.items.length > 1) {
      const half = Math.ceil(slice.items.length / 2);
      pending.unshift(
        { section: slice.section, from: slice.from, items: slice.items.slice(0, half) },
        { section: slice.section, from: slice.from + half, items: slice.items.slice(half) },
      );
    } else {
      return refused("record_too_large");
    }
  }

  const total = 1 + slices.length;
  const name = (part: number) => `${base}-part-${part}-of-${total}.json`;
  const lists: Record<string, { count: number; parts: number[] }> = {};
  slices.forEach((slice, i) => {
    const entry = lists[slice.section] ?? { count: 0, parts: [] };
    entry.count += slice.items.length;
    entry.parts.push(i + 2);
    lists[slice.section] = entry;
  });
  const head = Object.fromEntries(
    Object.entries(document).map(([key, value]) => [key, Array.isArray(value) && value.length > 0 ? [] : value]),
  );
  const files: NotificationAttachment[] = [];
  for (const [part, value] of [
    [1, { ...head, parts: { total, lists } }] as const,
    ...slices.map((slice, i) => [i + 2, partOf(slice, i + 2, total)] as const),
  ]) {
    const packed = await packJsonAttachment(name(part), value, limits.maxChars);
    if (!packed.ok) return refused("record_too_large");
    files.push(packed.attachment);
  }
  return { ok: true, files, jsonBytes: whole.jsonBytes };
}

/** Consecutive slices of a list, each about `budget` bytes of JSON (at least one item each). */
function sliceBySize(section: string, items: readonly unknown[], budget: number): Slice[] {
  const slices: Slice[] = [];
  let from = 0;
  let size = 0;
  items.forEach((item, i) => {
    const itemSize = jsonSize(item);
    if (i > from && size + itemSize > budget) {
      slices.push({ section, from, items: items.slice(from, i) });
      from = i;
      size = 0;
    }
    size += itemSize;
  });
  slices.push({ section, from, items: items.slice(from) });
  return slices;
}
