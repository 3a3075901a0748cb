import { describe, expect, it } from "vitest";
import { projectSources, withoutComments } from "../support/source-tree";

/** The executor's RPC class: what each call does lives in the parts under `durable-objects/executor/`. */
const EXECUTOR = "durable-objects/community-executor.ts";
const MAX_LINES = 300;
/** What the class may import: the runtime's base class, pure domain code and its own parts. */
const ALLOWED = [/^cloudflare:workers$/, /^\.\.\/shared\//, /^\.\/executor\//];

const SPECIFIER = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']/g;

function thinExecutorProblems(source: string): string[] {
  const problems: string[] = [];
  const lines = source.split("\n").length;
  if (lines >= MAX_LINES) problems.push(`${EXECUTOR} has ${lines} lines (the RPC class stays under ${MAX_LINES})`);
  for (const match of withoutComments(source).matchAll(SPECIFIER)) {
    const specifier = match[1] ?? "";
    if (!ALLOWED.some((allowed) => allowed.test(specifier))) {
      problems.push(`${EXECUTOR} imports ${specifier} (hand the work to a part in durable-objects/executor/)`);
    }
  }
  return problems;
}

describe("the thin executor", () => {
  it("Scenario: The executor class hands each call to its parts", () => {
    const source = projectSources()[EXECUTOR];
    expect(source).toBeDefined();
    expect(thinExecutorProblems(source ?? "")).toEqual([]);
  });

  it("Scenario: The thin-executor guard catches a fat executor", () => {
    const fat = [
      'import { DurableObject } from "cloudflare:workers";',
      'import type { SignalSummary } from "../shared/execution/summary";',
      'import { sweep } from "./executor/sweeper";',
      'import { directMessage } from "../platform/notifications/notify-queue";',
      'import { forCommunity } from "../platform/db/tenant/for-community";',
      '// import { database } from "../platform/db/client";',
      ...Array.from({ length: MAX_LINES }, (_, i) => `  // step ${i}`),
    ].join("\n");
    expect(thinExecutorProblems(fat)).toEqual([
      `${EXECUTOR} has ${MAX_LINES + 6} lines (the RPC class stays under ${MAX_LINES})`,
      `${EXECUTOR} imports ../platform/notifications/notify-queue (hand the work to a part in durable-objects/executor/)`,
      `${EXECUTOR} imports ../platform/db/tenant/for-community (hand the work to a part in durable-objects/executor/)`,
    ]);
  });
});
