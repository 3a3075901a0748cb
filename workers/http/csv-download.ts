/**
 * CSV downloads (the audit log, the trade history): the header row, then the rows page by page as the client reads
 * them, so a long export is never held in memory at once. Rows are written with `shared/csv.ts` (RFC 4180, with
 * formula injection defused).
 */

/** Rows read per page while a download streams. */
export const CSV_PAGE_ROWS = 500;
/** The most rows one download holds; narrow the search (or page with the route's cursor) for more. */
export const MAX_CSV_ROWS = 100_000;

/** One page of a download: its rows as CSV text, how many, and where the next page starts (null: this was the last). */
export interface CsvPage<C> {
  text: string;
  rows: number;
  next: C | null;
}

/** Streams `header`, then pages from `start` (undefined: the beginning) until the last page or `maxRows` rows. */
export function csvStream<C>(
  header: string,
  start: C | undefined,
  maxRows: number,
  readPage: (cursor: C | undefined, limit: number) => Promise<CsvPage<C>>,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor = start;
  let remaining = maxRows;
  let headerSent = false;
  let done = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(header));
        return;
      }
      const want = Math.min(CSV_PAGE_ROWS, remaining);
      const page = done || want <= 0 ? null : await readPage(cursor, want);
      if (!page || page.rows === 0) {
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(page.text));
      remaining -= page.rows;
      if (page.next === null) done = true;
      else cursor = page.next;
    },
  });
}

/** The headers of a CSV attachment named `fileName`. */
export function csvAttachmentHeaders(fileName: string): Record<string, string> {
  return {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${fileName}"`,
  };
}

/**
 * The headers of a download that stopped at its row cap with more rows to come: `x-export-truncated: true`, the
 * cursor to continue from (`x-next-cursor`), and the same request continuing there as a `Link` with `rel="next"`.
 */
export function truncatedDownloadHeaders(
  requestUrl: string,
  cursorParam: string,
  cursor: string,
): Record<string, string> {
  const next = new URL(requestUrl);
  next.searchParams.set(cursorParam, cursor);
  return {
    "x-export-truncated": "true",
    "x-next-cursor": cursor,
    link: `<${next.pathname}${next.search}>; rel="next"`,
  };
}

/** A value (a community id) as part of a file name: anything but letters, digits, `-` and `_` becomes `_`. */
export function fileNamePart(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, "_");
}
