import { env } from "cloudflare:workers";

const TRIGGERS = ["audit_log_no_update", "audit_log_no_delete"];

/**
 * Plays an attacker with raw database access: drops the append-only triggers,
 * runs `tamper`, then recreates them from the migration, so the next test in
 * the same file (storage is per file) sees the normal schema again.
 */
export async function asAttacker<T>(tamper: () => Promise<T>): Promise<T> {
  const recreate = env.TEST_MIGRATIONS.flatMap((migration) => migration.queries).filter((query) =>
    /\bCREATE TRIGGER\b[\s\S]*\bON\s+[`"]?audit_log\b/i.test(query),
  );
  if (recreate.length !== TRIGGERS.length)
    throw new Error("The append-only triggers were not found in the migrations.");
  await env.DB.batch(TRIGGERS.map((name) => env.DB.prepare(`DROP TRIGGER IF EXISTS ${name}`)));
  try {
    return await tamper();
  } finally {
    await env.DB.batch(recreate.map((query) => env.DB.prepare(query)));
  }
}

/** Raw SQL as an attacker would run it (call inside asAttacker to get past the triggers). */
export function tamperSql(sql: string, ...params: unknown[]) {
  return env.DB.prepare(sql)
    .bind(...params)
    .run();
}
