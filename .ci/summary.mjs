// Prints vitest's totals from its JSON report as "N passed, M failed[, K skipped]".
import { existsSync, readFileSync } from "node:fs";

const file = new URL("./results/vitest.json", import.meta.url);
if (!existsSync(file)) {
  console.log("0 passed, 1 failed");
  console.error("no vitest JSON report was written");
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, "utf8"));
const passed = report.numPassedTests ?? 0;
// A file that fails to load has no failed tests but a failed suite: count it, so it cannot pass silently.
const failed = Math.max(report.numFailedTests ?? 0, report.numFailedTestSuites ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
if (failed > 0 || passed === 0) process.exit(1);
