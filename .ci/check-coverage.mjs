// Coverage floor for shared/ and durable-objects/: reads the summary `npm test -- --coverage` wrote and fails when
// a folder's figure is below its floor. The floor only rises: the one in force is the highest ever committed in
// .ci/coverage-floor.json (git history), so lowering the file does not lower it.
//
//   node .ci/check-coverage.mjs            check (CI)
//   node .ci/check-coverage.mjs --update   raise the floor to today's figures, in whole percent
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";

const ROOT = resolve(new URL("..", import.meta.url).pathname);
const SUMMARY = resolve(ROOT, ".ci/results/coverage/coverage-summary.json");
const FLOOR_FILE = ".ci/coverage-floor.json";
const FOLDERS = ["shared", "durable-objects"];
const METRICS = ["lines", "statements", "functions", "branches"];

function figures() {
  if (!existsSync(SUMMARY))
    throw new Error(`no coverage summary at ${relative(ROOT, SUMMARY)}: run npm test -- --coverage`);
  const summary = JSON.parse(readFileSync(SUMMARY, "utf8"));
  const sums = Object.fromEntries(
    FOLDERS.map((f) => [f, Object.fromEntries(METRICS.map((m) => [m, { covered: 0, total: 0 }]))]),
  );
  for (const [file, entry] of Object.entries(summary)) {
    if (file === "total") continue;
    const folder = FOLDERS.find((f) => relative(ROOT, file).startsWith(`${f}/`));
    if (!folder) continue;
    for (const metric of METRICS) {
      sums[folder][metric].covered += entry[metric].covered;
      sums[folder][metric].total += entry[metric].total;
    }
  }
  const pct = ({ covered, total }) => (total === 0 ? 100 : Math.floor((covered / total) * 10_000) / 100);
  return Object.fromEntries(FOLDERS.map((f) => [f, Object.fromEntries(METRICS.map((m) => [m, pct(sums[f][m])]))]));
}

/** Every version of the floor file ever committed, plus the working copy. */
function floorVersions() {
  const versions = [];
  if (existsSync(resolve(ROOT, FLOOR_FILE))) versions.push(JSON.parse(readFileSync(resolve(ROOT, FLOOR_FILE), "utf8")));
  try {
    const git = (...args) =>
      execFileSync("git", ["-C", ROOT, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    for (const sha of git("log", "--format=%H", "--", FLOOR_FILE).split("\n").filter(Boolean)) {
      try {
        versions.push(JSON.parse(git("show", `${sha}:${FLOOR_FILE}`)));
      } catch {
        // the commit that deleted it
      }
    }
  } catch {
    // no git here: the working copy is all there is
  }
  return versions;
}

function floorInForce(versions) {
  return Object.fromEntries(
    FOLDERS.map((f) => [
      f,
      Object.fromEntries(METRICS.map((m) => [m, Math.max(0, ...versions.map((v) => Number(v?.[f]?.[m] ?? 0)))])),
    ]),
  );
}

const today = figures();
const versions = floorVersions();
const floor = floorInForce(versions);

// The first run ever (no floor committed, none in history) starts the floor at today's figures.
if (process.argv.includes("--update") || versions.length === 0) {
  if (versions.length === 0) console.log(`no ${FLOOR_FILE} yet: starting it at today's figures; commit it`);
  const raised = Object.fromEntries(
    FOLDERS.map((f) => [
      f,
      Object.fromEntries(METRICS.map((m) => [m, Math.max(floor[f][m], Math.floor(today[f][m]))])),
    ]),
  );
  writeFileSync(resolve(ROOT, FLOOR_FILE), `${JSON.stringify(raised, null, 2)}\n`);
  console.log(`${FLOOR_FILE} now:`, JSON.stringify(raised));
  process.exit(0);
}

const problems = [];
let canRaise = false;
console.log(`coverage (%)      ${METRICS.map((m) => m.padStart(20)).join("")}`);
for (const folder of FOLDERS) {
  const cells = METRICS.map((m) => {
    if (today[folder][m] < floor[folder][m])
      problems.push(`${folder}/ ${m} ${today[folder][m]}% is below its floor ${floor[folder][m]}%`);
    if (Math.floor(today[folder][m]) > floor[folder][m]) canRaise = true;
    return `${today[folder][m].toFixed(2)} (floor ${floor[folder][m]})`.padStart(20);
  });
  console.log(`${folder.padEnd(18)}${cells.join("")}`);
}
if (problems.length > 0) {
  console.error(
    `coverage fell below the floor:\n  ${problems.join("\n  ")}\nAdd tests for the new code (the floor never goes down).`,
  );
  process.exit(1);
}
if (canRaise)
  console.log("coverage rose: run node .ci/check-coverage.mjs --update and commit .ci/coverage-floor.json to keep it");
