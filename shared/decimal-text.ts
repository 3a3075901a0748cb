/**
 * Numbers as exact decimal text for files people add up (a trade history, an accountant's spreadsheet): never
 * exponent notation, never float noise (1.0000000002), and products computed on the decimals shown, in integers, so
 * a row's notional is exactly its quantity times its price.
 */

/** Places beyond which a stored quantity or price is float noise (the engine counts lots of at most 8 decimals). */
export const MAX_DECIMALS = 8;

/** `value` rounded to `maxDecimals`, trailing zeros dropped but at least `minDecimals` kept: 190.1 → "190.10" (2). */
export function decimalText(value: number, minDecimals = 0, maxDecimals = MAX_DECIMALS): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  const fixed = (Object.is(value, -0) ? 0 : value).toFixed(maxDecimals);
  return withMinDecimals(trimZeros(fixed), minDecimals);
}

/** The exact product of decimal texts (as `decimalText` writes them), with at least `minDecimals` places. */
export function decimalProduct(factors: readonly string[], minDecimals = 0): string {
  let units = 1n;
  let places = 0;
  for (const factor of factors) {
    const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(factor);
    if (!match) throw new RangeError(`not a decimal: ${factor}`);
    const [, sign = "", whole = "", fraction = ""] = match;
    units *= BigInt(`${sign}${whole}${fraction}`);
    places += fraction.length;
  }
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(places + 1, "0");
  const text = places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`;
  return withMinDecimals(trimZeros(`${negative ? "-" : ""}${text}`), minDecimals);
}

function trimZeros(text: string): string {
  const trimmed = text.includes(".") ? text.replace(/\.?0+$/, "") : text;
  return trimmed === "-0" ? "0" : trimmed;
}

function withMinDecimals(text: string, minDecimals: number): string {
  const [whole, fraction = ""] = text.split(".");
  if (fraction.length >= minDecimals) return text;
  return `${whole}.${fraction.padEnd(minDecimals, "0")}`;
}
