import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `npm run bench [-- <name> ...]`: runs every bench/*.ts (or only the named
 * ones) one after another, each in its own Node process. Each must print
 * exactly one JSON line on stdout; run-all re-prints those lines, so stdout is
 * one JSON line per benchmark. Logs go to stderr. Exits 1 if any bench failed.
 */

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
/** Tools beside the benches, not benches: this runner, the workerd profiler and the collector-stall finder. */
const NOT_BENCHES = new Set(["run-all.ts", "profile-workerd.ts", "gc-stalls.ts"]);
const ROOT = dirname(BENCH_DIR);

function benchFiles(only: string[]): string[] {
  const all = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(".ts") && !NOT_BENCHES.has(f))
    .sort();
  if (only.length === 0) return all;
  const wanted = new Set(only.map((n) => n.replace(/\.ts$/, "")));
  const picked = all.filter((f) => wanted.has(f.replace(/\.ts$/, "")));
  if (picked.length !== wanted.size) throw new Error(`unknown bench; have: ${all.join(", ")}`);
  return picked;
}

function runOne(file: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(BENCH_DIR, file)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout }));
  });
}

async function main(): Promise<void> {
  const files = benchFiles(process.argv.slice(2));
  let failed = 0;
  for (const file of files) {
    const started = performance.now();
    console.error(`[bench] ${file}`);
    const { code, stdout } = await runOne(file);
    const lines = stdout.split("\n").filter((line) => line.trim() !== "");
    const line = lines.length === 1 ? lines[0] : undefined;
    let valid = false;
    try {
      valid = line !== undefined && typeof JSON.parse(line) === "object";
    } catch {
      valid = false;
    }
    if (line && valid) console.log(line);
    if (code !== 0 || !valid) {
      failed++;
      console.error(
        `[bench] ${file} failed (exit ${code}, ${lines.length} stdout lines, JSON ${valid ? "ok" : "missing"})`,
      );
      if (!valid && lines.length > 0) console.error(lines.join("\n"));
    }
    console.error(`[bench] ${file} took ${Math.round((performance.now() - started) / 1000)} s`);
  }
  if (failed > 0) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(`[bench] ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
