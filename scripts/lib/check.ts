/** A check of the product from outside (smoke test, browser check) that did not hold; its message says what was seen. */
export class CheckFailed extends Error {}

export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}
