import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "../../shared/db/schema";

export type Database = DrizzleD1Database<typeof schema> & { $client: D1Database };

/** One handle per D1 binding: building drizzle's schema-aware client is not free, and it holds no request state. */
const handles = new WeakMap<D1Database, Database>();

/** The drizzle handle over D1. Tenant tables are reached only through forCommunity() (./tenant/for-community.ts). */
export function database(d1: D1Database): Database {
  let handle = handles.get(d1);
  if (!handle) {
    handle = drizzle(d1, { schema });
    handles.set(d1, handle);
  }
  return handle;
}
