/**
 * Keeps specs and tests in step: every `#### Scenario:` in openspec/specs has a test titled
 * "Scenario: <name>", and every such test names a scenario that exists. Run by .ci/run.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

function walk(dir: string, accept: (file: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return walk(full, accept);
    return accept(full) ? [full] : [];
  });
}

const scenarios = new Map<string, string>();
for (const file of walk(path.join(root, "openspec/specs"), (f) => f.endsWith("spec.md"))) {
  for (const match of readFileSync(file, "utf8").matchAll(/^#### Scenario: (.+)$/gm)) {
    scenarios.set((match[1] ?? "").trim(), path.relative(root, file));
  }
}

const tested = new Map<string, string>();
for (const file of walk(path.join(root, "tests"), (f) => f.endsWith(".test.ts"))) {
  const source = readFileSync(file, "utf8");
  for (const match of source.matchAll(/\bit(?:\.each\([^)]*\))?\(\s*(["'`])Scenario: (.+?)\1/g)) {
    tested.set((match[2] ?? "").trim(), path.relative(root, file));
  }
}

const untested = [...scenarios].filter(([name]) => !tested.has(name));
const unknown = [...tested].filter(([name]) => !scenarios.has(name));
for (const [name, file] of untested) console.error(`scenario without a test: "${name}" (${file})`);
for (const [name, file] of unknown) console.error(`test names a scenario no spec has: "${name}" (${file})`);
console.log(
  `scenarios: ${scenarios.size} in specs, ${tested.size} tested, ${untested.length + unknown.length} mismatched`,
);
process.exit(untested.length + unknown.length > 0 ? 1 : 0);
