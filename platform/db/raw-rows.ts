import { type Column, getTableColumns, type InferSelectModel, type Table } from "drizzle-orm";

/**
 * Rows of statements written as SQL text rather than built by drizzle (the hottest writes: building their queries was
 * a large share of the executor's CPU in the webhook intake bench's profile), mapped exactly as drizzle maps its own:
 * columns by field name, each value through its column's mapping (JSON text parsed), null kept null.
 */

const columnsOf = new WeakMap<Table, Map<string, Column>>();

/** The table's columns by field name, read once. */
function fieldsOf(table: Table): Map<string, Column> {
  let fields = columnsOf.get(table);
  if (!fields) {
    fields = new Map(Object.entries(getTableColumns(table)));
    columnsOf.set(table, fields);
  }
  return fields;
}

/** A row D1 answered (`returning *`), keyed by column name, as drizzle's select of `table` would give it. */
export function rowOf<T extends Table>(table: T, raw: Record<string, unknown>): InferSelectModel<T> {
  const row: Record<string, unknown> = {};
  for (const [field, column] of fieldsOf(table)) {
    const value = raw[column.name];
    row[field] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as InferSelectModel<T>;
}

/**
 * `set a = ?, b = ?` for the fields of `values` that are not undefined (as drizzle's `.set()` leaves those out), with
 * each value as its column stores it.
 */
export function setClauseOf(table: Table, values: Record<string, unknown>): { sql: string; params: unknown[] } {
  const columns = fieldsOf(table);
  const assignments: string[] = [];
  const params: unknown[] = [];
  for (const [field, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const column = columns.get(field);
    if (!column) throw new Error(`No column for the field ${field}.`);
    assignments.push(`"${column.name}" = ?`);
    params.push(value === null ? null : column.mapToDriverValue(value));
  }
  return { sql: assignments.join(", "), params };
}
