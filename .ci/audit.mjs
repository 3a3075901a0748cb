// Dependency vulnerability check: `npm audit --omit=dev` at high severity, with an allow-list. `--omit=optional`
// too: @sentry/cloudflare names wrangler as an optional peer, which makes npm mark wrangler's whole tree (miniflare,
// workerd, esbuild) "devOptional", and --omit=dev alone would audit those build tools as if they shipped. What is left
// is exactly the production dependencies bundled into the Worker.
//
//   node .ci/audit.mjs                 audit the production dependencies through the registry
//   node .ci/audit.mjs --report FILE   judge a saved `npm audit --json` report instead
//   node .ci/audit.mjs --self-test     prove the judging on the fixtures in .ci/fixtures/
//
// Exit 0: no high or critical advisory outside .ci/audit-allowlist.json. Exit 1: an unlisted (or expired) one, or a
// malformed allow-list. Exit 2: the audit could not run (the registry's advisory endpoint did not answer); the
// message says so plainly, so an unreachable endpoint is never mistaken for a clean bill of health.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const ALLOWLIST = new URL("./audit-allowlist.json", import.meta.url);
const FAILING = new Set(["high", "critical"]);

export function advisoriesOf(report) {
  if (!report || typeof report !== "object" || !report.vulnerabilities) return null;
  const found = new Map();
  for (const [name, vulnerability] of Object.entries(report.vulnerabilities)) {
    for (const via of vulnerability.via ?? []) {
      if (typeof via !== "object") continue; // a string names another vulnerable package, reported on its own
      const id = /GHSA-[\w-]+/.exec(via.url ?? "")?.[0] ?? String(via.source);
      if (!FAILING.has(via.severity)) continue;
      found.set(`${id} ${via.name ?? name}`, {
        id,
        package: via.name ?? name,
        severity: via.severity,
        title: via.title,
      });
    }
  }
  return [...found.values()];
}

export function judge(report, allowlist, today = new Date().toISOString().slice(0, 10)) {
  const problems = [];
  for (const [i, entry] of allowlist.entries()) {
    if (!entry.id || !entry.package || !entry.reason?.trim() || !entry.expires)
      problems.push(`allow-list entry ${i} needs id, package, reason and expires`);
  }
  const advisories = advisoriesOf(report);
  if (advisories === null) return { unreachable: true, problems };
  const allowed = [];
  for (const advisory of advisories) {
    const entry = allowlist.find((e) => e.id === advisory.id && e.package === advisory.package);
    if (!entry)
      problems.push(`${advisory.severity} ${advisory.id} in ${advisory.package}: ${advisory.title} (not allow-listed)`);
    else if (entry.expires < today)
      problems.push(`${advisory.id} in ${advisory.package}: allow-listed until ${entry.expires}, expired`);
    else allowed.push(`${advisory.id} in ${advisory.package} (until ${entry.expires}: ${entry.reason})`);
  }
  return { unreachable: false, problems, allowed, advisories };
}

function runAudit() {
  try {
    return JSON.parse(
      execFileSync("npm", ["audit", "--omit=dev", "--omit=optional", "--json"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
  } catch (error) {
    // npm audit exits 1 when it finds anything; its JSON is still on stdout.
    try {
      return JSON.parse(error.stdout);
    } catch {
      return { error: { summary: String(error.stderr || error.message).trim() } };
    }
  }
}

function unreachableReason(report) {
  return report?.error?.summary || report?.message || (report?.statusCode ? `HTTP ${report.statusCode}` : "no answer");
}

function selfTest() {
  const fixture = (name) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
  const report = fixture("audit-high.json");
  const listed = [
    {
      id: "GHSA-aaaa-bbbb-cccc",
      package: "left-pad",
      reason: "test: not reachable from our code",
      expires: "2999-01-01",
    },
  ];
  const checks = [
    ["an unlisted high advisory fails", judge(report, []).problems.length === 1],
    ["an allow-listed one passes", judge(report, listed).problems.length === 0],
    ["an expired exception fails", judge(report, [{ ...listed[0], expires: "2000-01-01" }]).problems.length === 1],
    ["an exception without a reason fails", judge(report, [{ ...listed[0], reason: "" }]).problems.length === 1],
    ["moderate advisories pass", judge(fixture("audit-moderate.json"), []).problems.length === 0],
    ["an unreachable endpoint is not a pass", judge(fixture("audit-unreachable.json"), []).unreachable === true],
  ];
  for (const [name, ok] of checks) console.log(`${ok ? "ok  " : "FAIL"} ${name}`);
  return checks.every(([, ok]) => ok) ? 0 : 1;
}

function main(argv) {
  if (argv.includes("--self-test")) return selfTest();
  const reportAt = argv.indexOf("--report");
  const report = reportAt >= 0 ? JSON.parse(readFileSync(argv[reportAt + 1], "utf8")) : runAudit();
  const allowlist = JSON.parse(readFileSync(ALLOWLIST, "utf8"));
  const result = judge(report, allowlist);
  if (result.unreachable) {
    console.error(
      `dependency audit DID NOT RUN: the registry's advisory endpoint did not answer (${unreachableReason(report)}).`,
    );
    for (const problem of result.problems) console.error(`  ${problem}`);
    return 2;
  }
  for (const line of result.allowed) console.log(`allowed: ${line}`);
  if (result.problems.length > 0) {
    console.error(`dependency audit failed:\n  ${result.problems.join("\n  ")}`);
    console.error(
      "Upgrade the package, or add an entry with id, package, reason and expires to .ci/audit-allowlist.json.",
    );
    return 1;
  }
  console.log(
    `dependency audit: no high or critical advisory in the production dependencies outside the allow-list (${result.advisories.length} known, ${result.allowed.length} allowed)`,
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
