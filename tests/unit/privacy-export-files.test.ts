import { describe, expect, it } from "vitest";
import { unpackAttachment } from "../../shared/notifications/attachment";
import { MAX_ATTACHMENT_BASE64_CHARS, type NotificationAttachment } from "../../shared/notifications/message";
import { MAX_EXPORT_PARTS, packExportFiles } from "../../shared/privacy/export-files";

/** Random text does not compress, so these lists cannot fit one queue message together. */
const noisy = (n: number, label: string) =>
  Array.from({ length: n }, (_, i) => ({ i, label, note: crypto.randomUUID() + crypto.randomUUID() }));

async function opened(file: NotificationAttachment) {
  return JSON.parse(new TextDecoder().decode(await unpackAttachment(file)));
}

describe("privacy export files", () => {
  it("Scenario: A large export comes in numbered parts that each fit one queue message", async () => {
    const document = {
      format: "discord-trade-executor/privacy-export",
      version: 1,
      exportedAt: "2026-12-05T20:00:00.000Z",
      community: { id: "c1", name: "Demo", discordGuildId: "100" },
      membership: { role: "trader" },
      follows: [],
      orders: noisy(2_500, "order"),
      fills: noisy(1_500, "fill"),
      notices: [{ title: "one small list stays in part 1's index too" }],
    };
    const packed = await packExportFiles("privacy-export-100-2026-12-05", document);
    expect(packed.ok).toBe(true);
    if (!packed.ok) return;
    const { files } = packed;
    expect(files.length).toBeGreaterThan(2);
    expect(files.length).toBeLessThanOrEqual(MAX_EXPORT_PARTS);
    for (const file of files) expect(file.gzipBase64.length).toBeLessThanOrEqual(MAX_ATTACHMENT_BASE64_CHARS);
    expect(files.map((file) => file.filename)).toEqual(
      files.map((_, i) => `privacy-export-100-2026-12-05-part-${i + 1}-of-${files.length}.json`),
    );

    const [first, ...rest] = await Promise.all(files.map(opened));
    expect(first).toMatchObject({
      format: document.format,
      exportedAt: document.exportedAt,
      membership: { role: "trader" },
      follows: [],
      orders: [],
      fills: [],
      notices: [],
      parts: { total: files.length },
    });
    const lists = first.parts.lists as Record<string, { count: number; parts: number[] }>;
    expect(lists.orders?.count).toBe(2_500);
    expect(lists.fills?.count).toBe(1_500);
    expect(lists.notices).toEqual({ count: 1, parts: [expect.any(Number)] });
    for (const part of rest) {
      expect(part).toMatchObject({ format: document.format, exportedAt: document.exportedAt, of: files.length });
      expect(part.community).toEqual(document.community);
    }
    for (const section of ["orders", "fills", "notices"] as const) {
      const slices = rest
        .filter((part) => part.section === section)
        .sort((a, b) => a.from - b.from)
        .flatMap((part) => part.items);
      expect(slices).toEqual(document[section]);
      expect(rest.filter((part) => part.section === section).map((part) => part.part)).toEqual(lists[section]?.parts);
    }

    const refused = await packExportFiles("x", document, { maxChars: MAX_ATTACHMENT_BASE64_CHARS, maxParts: 3 });
    expect(refused).toMatchObject({ ok: false, reason: "too_many_parts" });
    const small = await packExportFiles("small", { ...document, orders: noisy(3, "o"), fills: [] });
    expect(small.ok && small.files.map((file) => file.filename)).toEqual(["small.json"]);
  });
});
