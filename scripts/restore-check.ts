/**
 * `npm run restore:check`: the backup and restore drill, on the demo data, in about a minute.
 *
 * 1. Runs the platform (a private `wrangler dev`, migrated and seeded) and sends a demo signal, so there are fills,
 *    resting exit orders, paper accounts in the executor's storage and audit entries.
 * 2. Exports the local D1 with `wrangler d1 export` (what an operator keeps off-platform), then restores it into a
 *    fresh local database with `wrangler d1 execute --file`, next to the executors' storage as it was.
 * 3. Proves the restore: exporting the restored database gives the same SQL; the migrations count as applied; and,
 *    with the platform running on the restored database, `GET /api/v1/ops/consistency` says every audit chain
 *    verifies and no executor disagrees with D1 on the kill switch or open orders.
 *
 * Exit 0 when all of that holds. Nothing outside a temporary folder is touched.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sendDemoSignal, waitForOrders } from "./lib/demo-signal.ts";
import { DEMO_COMMUNITY } from "./lib/seed-data.ts";
import { REPO_ROOT, runWranglerOrThrow } from "./lib/wrangler.ts";
import { startWranglerDev } from "./lib/wrangler-dev.ts";

const log = (message: string) => console.log(`[restore-check] ${message}`);

interface ConsistencyReport {
  ok: boolean;
  checked: number;
  communities: Array<{ communityId: string; ok: boolean; openOrders?: { d1: number; executor: number } }>;
}

async function main(): Promise<void> {
  const started = performance.now();
  const root = mkdtempSync(join(tmpdir(), "dte-restore-"));
  // `wrangler d1 export --local` has no --persist-to: it reads <config dir>/.wrangler/state. So each database lives
  // beside its own copy of wrangler.toml, and every command names that copy.
  const original = localProject(join(root, "original"));
  const restored = localProject(join(root, "restored"));
  const backup = join(root, "backup.sql");
  const reExport = join(root, "restored.sql");
  try {
    // 1. Activity on the original database.
    const server = await startWranglerDev({ seed: true, persistTo: original.state });
    const vars = server.vars;
    try {
      const sent = await sendDemoSignal({
        baseUrl: server.baseUrl,
        text: "BUY 10 AAPL MKT",
        privateKeyJwk: server.keys.discord.privateKeyJwk,
        applicationId: vars.DISCORD_APPLICATION_ID ?? "",
      });
      if (sent.status !== 200) throw new Error(`the demo signal was answered ${sent.status}`);
      // The entries fill and each gets its engine-placed exits (a stop and a take-profit), which rest at the broker.
      const orders = await waitForOrders(
        server.baseUrl,
        vars.OPS_TOKEN ?? "",
        (all) => all.filter((o) => o.leg !== "entry" && o.status === "submitted").length >= 3,
      );
      const resting = orders.filter((o) => o.status === "submitted").length;
      if (resting === 0) throw new Error(`no resting orders: ${JSON.stringify(orders.map((o) => [o.leg, o.status]))}`);
      log(`original: ${orders.length} orders, ${resting} resting at the paper broker`);
    } finally {
      await server.stop();
    }

    // 2. Back up D1, restore it into a fresh database beside the executors' storage as it was.
    await runWranglerOrThrow(["d1", "export", "DB", "--local", "--config", original.config, "--output", backup], {
      capture: true,
    });
    const objects = join(original.state, "v3", "do");
    if (!existsSync(objects)) throw new Error(`no Durable Object storage under ${objects}`);
    mkdirSync(join(restored.state, "v3"), { recursive: true });
    cpSync(objects, join(restored.state, "v3", "do"), { recursive: true });
    await runWranglerOrThrow(["d1", "execute", "DB", "--local", "--config", restored.config, "--file", backup], {
      capture: true,
    });
    log(`backup: ${Math.round(readFileSync(backup).length / 1024)} KiB of SQL, restored into a fresh database`);

    // 3a. The restored database exports to the same SQL as the backup.
    await runWranglerOrThrow(["d1", "export", "DB", "--local", "--config", restored.config, "--output", reExport], {
      capture: true,
    });
    if (readFileSync(reExport, "utf8") !== readFileSync(backup, "utf8")) {
      throw new Error(`the restored database exports differently from the backup (compare ${backup} and ${reExport})`);
    }
    for (const trigger of ["audit_log_no_update", "audit_log_no_delete"]) {
      if (!readFileSync(reExport, "utf8").includes(trigger)) throw new Error(`the restore lost the ${trigger} trigger`);
    }
    log("restored database exports the same SQL as the backup, append-only triggers included");

    // 3b. The platform on the restored database (migrations must count as applied), with the same secrets.
    const again = await startWranglerDev({ persistTo: restored.state, vars });
    try {
      const res = await fetch(`${again.baseUrl}/api/v1/ops/consistency`, {
        headers: { authorization: `Bearer ${vars.OPS_TOKEN}` },
      });
      const report = (await res.json()) as ConsistencyReport;
      if (res.status !== 200 || !report.ok)
        throw new Error(`consistency check: ${res.status} ${JSON.stringify(report)}`);
      const demo = report.communities.find((c) => c.communityId === DEMO_COMMUNITY.id);
      if (!demo?.openOrders || demo.openOrders.d1 === 0) throw new Error(`demo community: ${JSON.stringify(demo)}`);
      log(
        `consistency: ${report.checked} communities ok (audit chains verify; kill switch and ${demo.openOrders.d1} open orders agree)`,
      );
    } finally {
      await again.stop();
    }
    log(`passed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A folder holding a copy of wrangler.toml; its local state is <folder>/.wrangler/state, where wrangler looks. */
function localProject(folder: string): { config: string; state: string } {
  mkdirSync(folder, { recursive: true });
  const config = join(folder, "wrangler.toml");
  copyFileSync(join(REPO_ROOT, "wrangler.toml"), config);
  return { config, state: join(folder, ".wrangler", "state") };
}

main().catch((error) => {
  console.error(`[restore-check] FAILED: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
