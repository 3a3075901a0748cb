import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "../../shared/db/schema";

export type Database = DrizzleD1Database<typeof schema> & { $client: D1Database };

/** The drizzle handle over D1. Tenant tables are reached only through forCommunity() (./tenant/for-community.ts). */
export function database(d1: D1Database): Database {
  return drizzle(d1, { schema });
}
