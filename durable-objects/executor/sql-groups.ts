/**
 * A Durable Object's SQL statement binds at most 100 parameters, so a write of many rows goes in groups of as many
 * rows as fit: fewer statements than one a row, each value still bound exactly as it is.
 */
export function inGroupsOf<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}
