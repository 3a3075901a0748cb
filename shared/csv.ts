/**
 * CSV as RFC 4180 writes it: comma-separated, CRLF line ends, and a field in double quotes (inner quotes doubled)
 * when it holds a comma, a quote or a line break. A text cell that a spreadsheet would run as a formula (it starts
 * with =, +, -, @, a tab or a carriage return) gets a leading apostrophe, so an exported file cannot execute
 * anything when opened.
 */

export type CsvValue = string | number | boolean | null | undefined;

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r]/;

function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}
