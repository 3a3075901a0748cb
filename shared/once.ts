/** `make`'s value, made on the first call and the same one after (a prepared query built only when first used). */
export function once<T>(make: () => T): () => T {
  let made: { value: T } | null = null;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}
