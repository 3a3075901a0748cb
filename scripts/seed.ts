import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DEMO_COMMUNITY, DEMO_USERS, seedSql } from "./lib/seed-data.ts";
import { runWranglerOrThrow } from "./lib/wrangler.ts";

/**
 * `npm run seed [-- --persist-to <dir>]`: seeds the demo community into the
 * local D1 database. Idempotent; run the migrations first (`npm start` does).
 */
export async function seedLocal(options: { persistTo?: string; quiet?: boolean } = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "dte-seed-"));
  const file = join(dir, "seed.sql");
  try {
    writeFileSync(file, await seedSql());
    const args = ["d1", "execute", "DB", "--local", "--yes", "--file", file];
    if (options.persistTo) args.push("--persist-to", options.persistTo);
    await runWranglerOrThrow(args, { capture: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (options.quiet) return;
  const roles = DEMO_USERS.map((u) => `${u.username} (${u.role})`).join(", ");
  console.log(
    `[seed] Demo community ${DEMO_COMMUNITY.id} (guild ${DEMO_COMMUNITY.guildId}) present, with ${roles}. Rows that already existed were left as they were.`,
  );
}

function parseArgs(argv: string[]): { persistTo?: string } {
  const at = argv.indexOf("--persist-to");
  const persistTo = at >= 0 ? argv[at + 1] : undefined;
  return persistTo ? { persistTo } : {};
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  seedLocal(parseArgs(process.argv.slice(2))).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
