/** Exact conversions between decimal text and numbers (no float arithmetic on the digits). */

/**
 * The number written by `integer`.`fraction` digits, times 10^shift (shift 3 for a `k` suffix).
 * Shifting the decimal point in the text keeps "63.5k" exactly 63500.
 */
export function decimalValue(integer: string, fraction: string, shift = 0): number {
  const digits = `${integer}${fraction}`;
  const point = integer.length + shift;
  const text =
    point >= digits.length
      ? digits + "0".repeat(point - digits.length)
      : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return Number(text);
}

/**
 * Plain decimal text for a finite number, never exponent notation: the shortest digits that read back as
 * the same number (JavaScript's own), with the point moved by hand. 1.5e-7 → "0.00000015".
 */
export function formatDecimal(value: number): string {
  const text = String(value);
  const exponentAt = text.search(/e/i);
  if (exponentAt < 0) return text;
  const negative = text.startsWith("-");
  const mantissa = text.slice(negative ? 1 : 0, exponentAt);
  const exponent = Number(text.slice(exponentAt + 1));
  const [integer = "", fraction = ""] = mantissa.split(".");
  const digits = integer + fraction;
  const point = integer.length + exponent;
  let plain: string;
  if (point <= 0) plain = `0.${"0".repeat(-point)}${digits}`;
  else if (point >= digits.length) plain = digits + "0".repeat(point - digits.length);
  else plain = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${plain}` : plain;
}
